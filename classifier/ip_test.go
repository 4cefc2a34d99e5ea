package classifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every refused input is an *InvalidIPError naming it (cut to 64 bytes
// when longer) that errors.Is recognises as ErrInvalidIP.
func TestParseIPNamesTheRefusedInput(t *testing.T) {
	for _, tc := range []struct{ in, input, reason string }{
		{"", "", "empty"},
		{"10.0.0.1/8", "10.0.0.1/8", "a prefix is not an address"},
		{"fe80::1%eth0", "fe80::1%eth0", "zoned addresses are not supported"},
		{strings.Repeat("1", 70), strings.Repeat("1", 64) + "…", "too long"},
	} {
		_, err := parseIP(tc.in)
		var ie *InvalidIPError
		require.True(t, errors.As(err, &ie), "%q: %v", tc.in, err)
		assert.Equal(t, tc.input, ie.Input)
		assert.Equal(t, tc.reason, ie.Reason)
		assert.ErrorIs(t, err, ErrInvalidIP)
		assert.Contains(t, err.Error(), "invalid IP address")
	}
	a, err := parseIP("::ffff:192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.1", a.String(), "IPv4-mapped becomes IPv4")
}
