package cache_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// cacheCancelAfter is a context whose Err is nil for its first n calls and
// that is cancelled by the next one: the L3 sweep checks Err once per entry
// it visits, so it ends the sweep at a known entry.
type cacheCancelAfter struct {
	context.Context
	cancel context.CancelFunc
	left   atomic.Int64
}

func cacheNewCancelAfter(n int64) *cacheCancelAfter {
	ctx, cancel := context.WithCancel(context.Background())
	c := &cacheCancelAfter{Context: ctx, cancel: cancel}
	c.left.Store(n)
	return c
}

func (c *cacheCancelAfter) Err() error {
	if c.left.Add(-1) < 0 {
		c.cancel()
	}
	return c.Context.Err()
}

// cacheCancelFixture is an L3-only cache holding 12 answers in one
// directory, 40/0/0/{0..11}.json, and its clock.
func cacheCancelFixture(t *testing.T) (*cache.Cache, string, *testkit.Clock) {
	dir, clock := t.TempDir(), testkit.NewClock()
	c := cacheOpen(t, cache.Config{Dir: dir}, cache.WithClock(clock.Now))
	for i := range 12 {
		cacheSet(t, c, "40.0.0."+strconv.Itoa(i), "tor")
	}
	require.Len(t, cacheFiles(t, dir), 12)
	return c, dir, clock
}

// The walk visits dir, 40, 40/0, 40/0/0 and then the files: with Err nil for
// 8 calls, 4 files are removed and the 9th entry stops the sweep.
const cacheCancelCalls, cacheCancelRemoved = 8, 4

func TestCacheCleanupCancelledDuringTheL3SweepReturnsTheContextError(t *testing.T) {
	c, dir, clock := cacheCancelFixture(t)
	clock.Advance(31 * 24 * time.Hour) // every file expired

	r, err := c.Cleanup(cacheNewCancelAfter(cacheCancelCalls))
	require.Error(t, err, "a cancelled sweep is not a success")
	require.ErrorIs(t, err, context.Canceled)
	require.Contains(t, err.Error(), "L3")
	require.Equal(t, cache.CleanupReport{L3Files: cacheCancelRemoved}, r, "the report keeps what was removed before the cancel")
	require.Len(t, cacheFiles(t, dir), 12-cacheCancelRemoved)
	require.DirExists(t, dir+"/40/0/0")

	// A later run with a live context finishes the job.
	r, err = c.Cleanup(cacheCtx)
	require.NoError(t, err)
	require.Equal(t, cache.CleanupReport{L3Files: 12 - cacheCancelRemoved, L3Dirs: 3}, r)
	require.Empty(t, cacheFiles(t, dir))
}

func TestCacheCleanupWithAContextAlreadyCancelledRemovesNothing(t *testing.T) {
	c, dir, clock := cacheCancelFixture(t)
	clock.Advance(31 * 24 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	r, err := c.Cleanup(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, cache.CleanupReport{}, r)
	require.Len(t, cacheFiles(t, dir), 12)
}

func TestCacheClearCancelledDuringTheL3SweepReturnsTheContextError(t *testing.T) {
	c, dir, _ := cacheCancelFixture(t)

	r, err := c.Clear(cacheNewCancelAfter(cacheCancelCalls))
	require.ErrorIs(t, err, context.Canceled)
	require.Contains(t, err.Error(), "L3")
	require.Equal(t, cache.CleanupReport{L3Files: cacheCancelRemoved}, r)
	require.Len(t, cacheFiles(t, dir), 12-cacheCancelRemoved)

	r, err = c.ClearWhere(cacheNewCancelAfter(cacheCancelCalls), "ip_type", "tor")
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, cache.CleanupReport{L3Files: cacheCancelRemoved}, r)
	require.Len(t, cacheFiles(t, dir), 12-2*cacheCancelRemoved)
}
