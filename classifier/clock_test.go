package classifier

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wallClock reads what time.Now reads: each reading's wall time lies
// between two time.Now readings around it (1 ms of slack for a slewing
// wall clock), readings never go back, and a kept reading older than
// wallClockRebase is replaced by a new one.
func TestWallClockReadsTheWallClock(t *testing.T) {
	var c wallClock
	var last time.Time
	for range 2000 {
		before := time.Now().Round(0)
		got := c.now()
		after := time.Now().Round(0)
		wall := got.Round(0) // without the monotonic reading: the wall clock's
		require.False(t, wall.Before(before.Add(-time.Millisecond)), "%v before %v", wall, before)
		require.False(t, wall.After(after.Add(time.Millisecond)), "%v after %v", wall, after)
		require.False(t, got.Before(last), "went back")
		last = got
	}
	old := time.Now().Add(-2 * wallClockRebase)
	c.base.Store(&old)
	got := c.now()
	require.WithinDuration(t, time.Now(), got, 100*time.Millisecond)
	require.NotEqual(t, old, *c.base.Load(), "an old reading is replaced")
}
