// Package ipx holds the address primitives every other part of the engine
// shares: the strict parser for an address a caller passes, the lenient one
// for the prefixes a list holds, the special-purpose ranges no list may
// claim, and 128-bit address arithmetic for range tables.
package ipx

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// MaxText bounds the text Parse looks at: the longest IPv6 form is 45 bytes.
const MaxText = 64

// Parse parses a plain IPv4 or IPv6 address. IPv6 may be compressed or not,
// in any case; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) becomes the IPv4
// address. Everything else is refused with a reason: empty text, text longer
// than MaxText, surrounding spaces, zones (fe80::1%eth0), CIDRs, ports,
// leading-zero octets. reason is "" for an address.
func Parse(s string) (addr netip.Addr, reason string) {
	if s == "" {
		return netip.Addr{}, "empty"
	}
	if len(s) > MaxText {
		return netip.Addr{}, "too long"
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if strings.Contains(s, "/") {
			return netip.Addr{}, "a prefix is not an address"
		}
		return netip.Addr{}, strings.TrimPrefix(err.Error(), "ParseAddr("+fmt.Sprintf("%q", s)+"): ")
	}
	if a.Zone() != "" {
		return netip.Addr{}, "zoned addresses are not supported"
	}
	return a.Unmap(), ""
}

// ParsePrefix accepts what range lists hold: "a.b.c.d/n", "v6::/n"
// (non-canonical forms too) or a bare address (as a host prefix), with
// surrounding white space. IPv4-mapped IPv6 prefixes become IPv4. The
// prefix is returned as written (not masked).
func ParsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, reason := Parse(s)
		if reason != "" {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
		pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
	}
	return pfx, true
}

// U128 is an IPv6 address as two big-endian halves, ordered as numbers.
// The zero value is ::.
type U128 struct{ Hi, Lo uint64 }

// U128Of is a as a number (a must be IPv6, or IPv4 in its 16-byte form).
func U128Of(a netip.Addr) U128 {
	b := a.As16()
	return U128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// Less reports x < y.
func (x U128) Less(y U128) bool { return x.Hi < y.Hi || x.Hi == y.Hi && x.Lo < y.Lo }

// Cmp is -1, 0 or 1 as x is less than, equal to or greater than y.
func (x U128) Cmp(y U128) int {
	switch {
	case x.Less(y):
		return -1
	case y.Less(x):
		return 1
	}
	return 0
}

// Addr is x as an IPv6 address.
func (x U128) Addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.Hi)
	binary.BigEndian.PutUint64(b[8:], x.Lo)
	return netip.AddrFrom16(b)
}

// Inc is x+1 (wrapping).
func (x U128) Inc() U128 {
	if x.Lo == ^uint64(0) {
		return U128{x.Hi + 1, 0}
	}
	return U128{x.Hi, x.Lo + 1}
}

// Dec is x-1 (wrapping).
func (x U128) Dec() U128 {
	if x.Lo == 0 {
		return U128{x.Hi - 1, ^uint64(0)}
	}
	return U128{x.Hi, x.Lo - 1}
}

// U32Of is the IPv4 address a as a number.
func U32Of(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// U32Addr is the IPv4 address x.
func U32Addr(x uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], x)
	return netip.AddrFrom4(b)
}

// LastOf is the last address of p (p's family; IPv4 stays IPv4).
func LastOf(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	if a.Is4() {
		return U32Addr(U32Of(a) | uint32(1<<(32-p.Bits())-1))
	}
	x := U128Of(a)
	if bits := p.Bits(); bits < 64 {
		x.Hi |= 1<<(64-bits) - 1
		x.Lo = 1<<64 - 1
	} else {
		x.Lo |= 1<<(128-bits) - 1
	}
	return x.Addr()
}
