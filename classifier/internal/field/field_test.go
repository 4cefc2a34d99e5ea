package field

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCleanLeavesNoRecordSeparator(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"  Hetzner Online GmbH ", "Hetzner Online GmbH"},
		{"a\tb", "a b"},
		{"a\t\t\nb\r\nc", "a b c"},
		{"\tAMAZON-02\n", "AMAZON-02"},
	} {
		assert.Equal(t, tt.want, Clean(tt.in), "%q", tt.in)
	}
}
