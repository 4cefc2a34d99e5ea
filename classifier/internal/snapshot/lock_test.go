package snapshot

import (
	"context"
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
