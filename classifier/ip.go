package classifier

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrInvalidIP is wrapped by every error about an input that is not a plain
// IPv4 or IPv6 address.
var ErrInvalidIP = errors.New("invalid IP address")

// InvalidIPError names the input that could not be parsed.
type InvalidIPError struct {
	Input  string
	Reason string
}

func (e *InvalidIPError) Error() string {
	return fmt.Sprintf("invalid IP address %q: %s", e.Input, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidIP) true.
func (e *InvalidIPError) Unwrap() error { return ErrInvalidIP }

// maxIPText bounds the text we look at: the longest IPv6 form is 45 bytes.
const maxIPText = 64

// ParseIP parses a plain IPv4 or IPv6 address. IPv6 may be compressed or not,
// in any case; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) becomes the IPv4
// address. Everything else is an *InvalidIPError naming the input: empty text,
// surrounding spaces, zones (fe80::1%eth0), CIDRs, ports, leading-zero octets.
func ParseIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, &InvalidIPError{Input: s, Reason: "empty"}
	}
	if len(s) > maxIPText {
		return netip.Addr{}, &InvalidIPError{Input: s[:maxIPText] + "…", Reason: "too long"}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if strings.Contains(s, "/") {
			return netip.Addr{}, &InvalidIPError{Input: s, Reason: "a prefix is not an address"}
		}
		return netip.Addr{}, &InvalidIPError{Input: s, Reason: strings.TrimPrefix(err.Error(), "ParseAddr("+fmt.Sprintf("%q", s)+"): ")}
	}
	if a.Zone() != "" {
		return netip.Addr{}, &InvalidIPError{Input: s, Reason: "zoned addresses are not supported"}
	}
	return a.Unmap(), nil
}
