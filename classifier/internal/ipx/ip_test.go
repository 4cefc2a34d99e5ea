package ipx

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAcceptsPlainAddressesInCanonicalForm(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{"255.255.255.255", "255.255.255.255"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"2001:DB8::A", "2001:db8::a"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"::FFFF:102:304", "1.2.3.4"},
		{"::1", "::1"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			a, reason := Parse(tt.in)
			require.Empty(t, reason)
			assert.Equal(t, tt.want, a.String())
		})
	}
}

func TestParseRefusesEverythingElseWithAReason(t *testing.T) {
	for _, tt := range []struct{ in, reason string }{
		{"", "empty"},
		{strings.Repeat("1", MaxText+1), "too long"},
		{"1.2.3.4/32", "a prefix is not an address"},
		{"2001:db8::/32", "a prefix is not an address"},
		{"fe80::1%eth0", "zoned addresses are not supported"},
		{" 1.2.3.4", ""}, {"1.2.3.4 ", ""}, {"1.2.3", ""}, {"1.2.3.4.5", ""}, {"256.1.1.1", ""},
		{"01.2.3.4", ""}, {"1.2.3.04", ""}, {"1.2.3.4:80", ""}, {"[::1]:80", ""}, {"[::1]", ""},
		{"abc", ""}, {"::ffff:1.2.3.4%0", ""}, {"1.2.3.4\n", ""}, {"../../etc/passwd", ""}, {"１.２.３.４", ""},
	} {
		t.Run(tt.in, func(t *testing.T) {
			_, reason := Parse(tt.in)
			require.NotEmpty(t, reason)
			if tt.reason != "" {
				assert.Equal(t, tt.reason, reason)
			}
			assert.NotContains(t, reason, "ParseAddr(", "the netip prefix is cut: the caller names the input")
		})
	}
}

// FuzzParse holds Parse against net/netip, the reference: whatever it
// accepts netip accepts, and it never returns a mapped or zoned address.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "01.2.3.4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, reason := Parse(s)
		if reason != "" {
			return
		}
		ref, err := netip.ParseAddr(s)
		require.NoError(t, err, "Parse accepted %q that netip refuses", s)
		require.Equal(t, ref.Unmap(), a)
		require.False(t, a.Is4In6())
		require.Empty(t, a.Zone())
	})
}

func TestParsePrefixReadsWhatListsHold(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"1.2.3.0/24", "1.2.3.0/24"},
		{" 1.2.3.4 ", "1.2.3.4/32"},
		{"2001:DB8:0:0::/32", "2001:db8::/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"1.2.3.4/24", "1.2.3.4/24"}, // not masked: the caller masks
	} {
		p, ok := ParsePrefix(tt.in)
		require.True(t, ok, tt.in)
		assert.Equal(t, tt.want, p.String(), tt.in)
	}
	for _, in := range []string{"", "1.2.3.0/33", "x/8", "1.2.3.4/", "fe80::1%eth0"} {
		_, ok := ParsePrefix(in)
		assert.False(t, ok, in)
	}
}

func TestIsBogonRefusesSpecialAndTooBroadSpace(t *testing.T) {
	for _, tt := range []struct {
		pfx   string
		bogon bool
	}{
		{"192.0.2.0/24", true}, {"10.1.0.0/16", true}, {"2001:db8:1::/48", true}, {"0.0.0.0/0", true},
		{"1.0.0.0/7", true}, {"2000::/15", true}, {"8.0.0.0/8", false}, {"2a01:4f8::/32", false},
		{"52.95.110.0/24", false},
	} {
		assert.Equal(t, tt.bogon, IsBogon(netip.MustParsePrefix(tt.pfx)), tt.pfx)
	}
}

func TestU128OrdersAndStepsLikeNumbers(t *testing.T) {
	a := U128Of(netip.MustParseAddr("2001:db8::ffff:ffff:ffff:ffff"))
	b := a.Inc()
	assert.Equal(t, "2001:db8:0:1::", b.Addr().String())
	assert.Equal(t, a, b.Dec())
	assert.True(t, a.Less(b))
	assert.Equal(t, -1, a.Cmp(b))
	assert.Equal(t, 1, b.Cmp(a))
	assert.Equal(t, 0, a.Cmp(a))
	assert.Equal(t, "10.1.2.3", U32Addr(U32Of(netip.MustParseAddr("10.1.2.3"))).String())
}
