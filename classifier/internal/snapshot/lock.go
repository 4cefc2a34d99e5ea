package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrBusy is returned by TryLock while another holder (in this or another
// process) has the store's refresh lock.
var ErrBusy = errors.New("snapshot: another refresh holds the data directory's lock")

// lockPoll is how often Lock retries a held lock.
const lockPoll = 50 * time.Millisecond

// TryLock takes the store's refresh lock (an flock on snapshots/.refresh.lock)
// without waiting: ErrBusy when another holder has it. The lock is what
// makes one process per data directory download while the others adopt
// its snapshots. Call unlock to release it; the system releases it when the
// process dies.
//
// The lock saves downloads; it guards no data (snapshot files are replaced
// atomically). So when the lock file cannot be opened — a data directory
// this process may only read, whose writer has not created it yet — TryLock
// succeeds without a lock rather than stop a refresh that would only adopt.
func (s *Store) TryLock() (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.dir, ".refresh.lock"), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return func() {}, nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return func() {}, nil // see above: no lock, no harm
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Lock is TryLock that waits for the lock until ctx ends.
func (s *Store) Lock(ctx context.Context) (unlock func(), err error) {
	for {
		unlock, err := s.TryLock()
		if !errors.Is(err, ErrBusy) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for refresh lock: %w", ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
