package ipx

import "net/netip"

// bogons are special-purpose ranges (RFC 6890 and friends) that no public
// list should claim: documentation, private, loopback, link-local, shared,
// multicast, reserved, 6to4 and Teredo relays. Some sources (vultr) list
// documentation prefixes; a prefix that overlaps any of these is dropped.
var bogons = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/8", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16", "3fff::/20",
		"fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Shortest prefixes a list may claim; anything broader is a mistake in the
// list (no provider announces a /7), and would swallow the whole Internet.
const (
	minBitsV4 = 8
	minBitsV6 = 16
)

// IsBogon reports whether pfx overlaps special-purpose space or is too
// broad to be a real allocation.
func IsBogon(pfx netip.Prefix) bool {
	if pfx.Addr().Is4() && pfx.Bits() < minBitsV4 || pfx.Addr().Is6() && pfx.Bits() < minBitsV6 {
		return true
	}
	for _, b := range bogons {
		if b.Overlaps(pfx) {
			return true
		}
	}
	return false
}
