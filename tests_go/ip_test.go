package tests_go

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

func TestParseIPAcceptsPlainAddresses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{"255.255.255.255", "255.255.255.255"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"2001:DB8::A", "2001:db8::a"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"::FFFF:102:304", "1.2.3.4"},
		{"::1", "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := classifier.ParseIP(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, a.String())
		})
	}
}

func TestParseIPRejectsEverythingElseNamingTheInput(t *testing.T) {
	for _, in := range []string{
		"", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04",
		"1.2.3.4/32", "2001:db8::/32", "fe80::1%eth0", "1.2.3.4:80", "[::1]:80", "[::1]", "abc",
		"::ffff:1.2.3.4%0", "1.2.3.4\n", "../../etc/passwd", "1.2.3.4/../../x", "１.２.３.４",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := classifier.ParseIP(in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, classifier.ErrInvalidIP))
			var ie *classifier.InvalidIPError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, in, ie.Input)
		})
	}
}

// FuzzParseIP checks ParseIP against net/netip as the reference: whatever
// it accepts netip accepts, and it never returns a mapped or zoned address.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "01.2.3.4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := classifier.ParseIP(s)
		ref, refErr := netip.ParseAddr(s)
		if err != nil {
			return
		}
		require.NoError(t, refErr, "ParseIP accepted %q that netip rejects", s)
		require.Equal(t, ref.Unmap(), a)
		require.False(t, a.Is4In6())
		require.Empty(t, a.Zone())
	})
}
