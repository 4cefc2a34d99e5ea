package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The refresh lock excludes a second holder, in this process as in another
// (flock is per open file), until it is released.
func TestRefreshLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	require.NoError(t, err)
	b, err := Open(dir)
	require.NoError(t, err)
	unlock, err := a.TryLock()
	require.NoError(t, err)
	_, err = b.TryLock()
	require.ErrorIs(t, err, ErrBusy)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	unlock()
	unlockB, err := b.Lock(context.Background())
	require.NoError(t, err)
	unlockB()
}

// A lock file that cannot be opened (a data directory this process may only
// read, another user's timers writing it; here: a directory in its place)
// does not stop a refresh: the lock is skipped, not an error.
func TestRefreshLockThatCannotBeOpenedIsSkipped(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "snapshots", ".refresh.lock"), 0o755))
	unlock, err := s.TryLock()
	require.NoError(t, err)
	unlock()
	unlock, err = s.Lock(context.Background())
	require.NoError(t, err)
	unlock()
}
