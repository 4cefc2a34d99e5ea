package classifier

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLimitForScalesTheLastSizeBetweenFloorAndCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		last int
		want int64
	}{
		{"no snapshot yet: the hard cap", 0, 64 << 20},
		{"a small list: the floor", 20 << 10, 8 << 20},
		{"a mid-size list: four times it", 5 << 20, 20 << 20},
		{"a large list: capped", 25 << 20, 64 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, limitFor(tc.last).n)
		})
	}
}
