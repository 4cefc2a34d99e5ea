package classifier_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// The default L2 file under the data directory is the engine's own: it is
// kept out of WAL (whose memory-mapped -shm index can kill the host with
// SIGBUS when the file turns read-only, see cache.OwnSQLiteURL). The SQLite
// header says which journal a file uses: bytes 18 and 19 are 2 in WAL, 1
// with a rollback journal.
func TestDefaultSQLiteCacheIsNotWAL(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.Cache = classifier.CacheConfig{DefaultTiers: true}
	e := fixture.Open(t, cfg)
	fixture.Classify(t, e, "198.51.100.7")
	require.NoError(t, e.Close())
	path := filepath.Join(cfg.DataDir, "cache.sqlite")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 100, "an SQLite file with its header")
	require.Equal(t, "SQLite format 3\x00", string(b[:16]))
	require.Equal(t, []byte{1, 1}, b[18:20], "rollback journal, not WAL")
	require.NoFileExists(t, path+"-shm")
	require.NoFileExists(t, path+"-wal")
}
