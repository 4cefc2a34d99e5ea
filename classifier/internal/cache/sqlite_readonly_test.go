package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
)

// readOnlyChild names the environment variable that makes the test binary
// run the read-only scenario itself (in a child process, so that a SIGBUS
// fails the test instead of killing the test binary).
const readOnlyChild = "IPCLASSIFIER_TEST_SQLITE_READONLY_CHILD"

// The cache's own SQLite file made immutable mid-run (chattr +i: the
// kernel then refuses every write and every open for writing, even to
// root, as on a read-only remount) must cost errors and misses, never the
// process: before, the next lookup died of SIGBUS in the WAL index
// (-shm) that SQLite maps into memory.
func TestSQLiteOwnFileTurnedReadOnlyDoesNotCrash(t *testing.T) {
	if os.Getenv(readOnlyChild) != "" {
		readOnlyScenario(t, os.Getenv(readOnlyChild))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: chattr +i is the read-only condition")
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("chattr is not installed")
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	require.NoError(t, os.WriteFile(probe, nil, 0o644))
	if out, err := exec.Command(chattr, "+i", probe).CombinedOutput(); err != nil {
		t.Skipf("this file system has no immutable flag: %s", strings.TrimSpace(string(out)))
	}
	require.NoError(t, exec.Command(chattr, "-i", probe).Run())
	t.Cleanup(func() {
		// Make everything removable again, whatever the child left.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			_ = exec.Command(chattr, "-i", filepath.Join(dir, e.Name())).Run()
		}
	})
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteOwnFileTurnedReadOnlyDoesNotCrash$", "-test.v")
	cmd.Env = append(os.Environ(), readOnlyChild+"="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child died (%v):\n%s", err, out)
	require.Contains(t, string(out), "read-only scenario done", string(out))
	t.Logf("child:\n%s", out)
}

// readOnlyScenario fills the cache's own SQLite file in dir, makes every
// file of it immutable, then reads and writes through the cache.
func readOnlyScenario(t *testing.T, dir string) {
	path := filepath.Join(dir, "cache.sqlite")
	c := cacheOpen(t, cache.Config{DatabaseURL: cache.OwnSQLiteURL(path)})
	for i := range 50 {
		cacheSet(t, c, fmt.Sprintf("198.51.100.%d", i), "cloud")
	}
	cacheRequireHit(t, c, "198.51.100.1", cache.TierL2, nil)
	matches, err := filepath.Glob(path + "*")
	require.NoError(t, err)
	for _, m := range matches {
		out, err := exec.Command("chattr", "+i", m).CombinedOutput()
		require.NoError(t, err, "chattr +i %s: %s", m, out)
	}
	t.Logf("immutable: %v", matches)
	for i := range 50 {
		cacheSet(t, c, fmt.Sprintf("203.0.113.%d", i), "unknown")
		c.Get(cacheCtx, fmt.Sprintf("198.51.100.%d", i))
		c.Get(cacheCtx, fmt.Sprintf("203.0.113.%d", i))
	}
	// What was stored before stays readable.
	cacheRequireHit(t, c, "198.51.100.7", cache.TierL2, nil)
	st := c.Stats()
	t.Logf("L2 after: %+v", st.L2)
	require.Positive(t, st.L2.Errors, "the refused writes are counted")
	fmt.Println("read-only scenario done")
}

// BenchmarkCacheSQLiteJournal compares the engine's own SQLite file
// (OwnSQLiteURL: rollback journal, no fsync) with the WAL a shared file
// gets: a hit, one write, and a batch of 1000 writes in one transaction.
func BenchmarkCacheSQLiteJournal(b *testing.B) {
	for _, mode := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"wal", cacheSQLiteURL},
		{"own", func(tb testing.TB) string { return cache.OwnSQLiteURL(filepath.Join(tb.TempDir(), "cache.sqlite")) }},
	} {
		b.Run(mode.name+"/hit", func(b *testing.B) {
			c := cacheOpen(b, cache.Config{DatabaseURL: mode.url(b)})
			keys, items := cacheBenchKeys("50.7.", 1000)
			c.SetMany(cacheCtx, items)
			cacheBenchHits(b, c, cache.TierL2, keys)
		})
		b.Run(mode.name+"/set", func(b *testing.B) {
			c := cacheOpen(b, cache.Config{DatabaseURL: mode.url(b)})
			_, items := cacheBenchKeys("50.8.", 1000)
			i := 0
			for b.Loop() {
				c.Set(cacheCtx, items[i%len(items)])
				i++
			}
		})
		b.Run(mode.name+"/setmany1000", func(b *testing.B) {
			c := cacheOpen(b, cache.Config{DatabaseURL: mode.url(b)})
			_, items := cacheBenchKeys("50.9.", 1000)
			for b.Loop() {
				c.SetMany(cacheCtx, items)
			}
		})
	}
}
