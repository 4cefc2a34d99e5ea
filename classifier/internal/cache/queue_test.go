package cache_test

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
)

// cacheItems makes n fresh items 10.x.y.z of type typ, starting at 10.<base>.0.0.
func cacheItems(n, base int, typ string) ([]cache.Item, []string) {
	items := make([]cache.Item, n)
	keys := make([]string, n)
	for i := range n {
		ip := "10." + strconv.Itoa(base+i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
		keys[i] = ip
		items[i] = cache.Item{Key: ip, Value: cacheValue(ip, typ), L1TTL: time.Hour}
	}
	return items, keys
}

// cacheHoldWriteLock opens another connection to the SQLite file at path
// and holds a write transaction on it until the returned func is called.
func cacheHoldWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	locker, err := sql.Open("sqlite3", path+"?_txlock=immediate")
	require.NoError(t, err)
	tx, err := locker.Begin()
	require.NoError(t, err)
	_, err = tx.Exec(`INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at)
		VALUES ('host', 'k', '{}', '2030-01-01 00:00:00.000000', '2030-01-01 00:00:00.000000')`)
	require.NoError(t, err)
	done := false
	release = func() {
		if !done {
			done = true
			require.NoError(t, tx.Commit())
			require.NoError(t, locker.Close())
		}
	}
	t.Cleanup(release)
	return release
}

func TestCacheWritesNeverWaitForAHostHoldingTheSQLiteWriteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.db")
	// A busy timeout of ten minutes: a Set or Get that waited for the lock
	// would not return before the test's deadline.
	c := cacheOpen(t, cache.Config{DatabaseURL: "sqlite://" + path + "?_busy_timeout=600000"})
	before := cacheSet(t, c, "10.20.0.1", "cloud")
	release := cacheHoldWriteLock(t, path)

	items, keys := cacheItems(300, 21, "tor")
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		for i := range items {
			c.Set(cacheCtx, items[i])
			c.Get(cacheCtx, keys[i])
		}
		c.SetMany(cacheCtx, items)
		c.GetMany(cacheCtx, keys)
	}()
	select {
	case <-returned:
	case <-time.After(60 * time.Second):
		t.Fatal("Set/Get waited for the host's write lock")
	}
	v, tier, ok := c.Get(cacheCtx, "10.20.0.1")
	require.True(t, ok, "WAL readers are not blocked by the host's writer")
	require.Equal(t, cache.TierL2, tier)
	require.JSONEq(t, string(before), string(v))
	require.Positive(t, c.Stats().L2.Queued, "the writes wait in the queue, not in the caller")

	release()
	cacheFlush(t, c)
	s := c.Stats().L2
	require.Zero(t, s.Dropped)
	require.Zero(t, s.Queued)
	require.Equal(t, 1+300, cacheCount(t, cacheSQL(t, "sqlite://"+path), "sqlite://"+path, cache.Service),
		"every queued write landed once the host committed")
}

func TestCacheRedisKilledDuringAFlushLosesNothingDurableAndCountsItsDrops(t *testing.T) {
	p := cacheStartOwnRedis(t)
	du := cacheSQLiteURL(t)
	c := cacheOpen(t, cache.Config{RedisURL: p.url(), DatabaseURL: du, RetryMS: 60000})
	const n = 60000
	items, keys := cacheItems(n, 30, "cloud")
	c.SetMany(cacheCtx, items)
	// Kill Redis once its writer has started and before it is done.
	deadline := time.Now().Add(30 * time.Second)
	for s := c.Stats().L1; s.Writes == 0 || s.Queued == 0; s = c.Stats().L1 {
		require.True(t, time.Now().Before(deadline), "the L1 writer did not start: %+v", s)
		require.NotZero(t, s.Queued, "the L1 writer finished before the kill: raise n")
		time.Sleep(time.Millisecond)
	}
	p.kill()
	cacheFlush(t, c)

	s := c.Stats()
	require.Zero(t, s.L2.Dropped, "SQLite lost nothing")
	require.Equal(t, n, cacheCount(t, cacheSQL(t, du), du, cache.Service))
	require.Zero(t, s.L1.Queued)
	require.Positive(t, s.L1.Dropped, "the writes Redis missed are counted")
	require.Less(t, s.L1.Writes, int64(n))
	require.Equal(t, int64(n), s.L1.Writes+s.L1.Dropped, "every value is written or counted as dropped")
	// The durable tier answers for what Redis lost.
	vals, tiers := c.GetMany(cacheCtx, keys[n-10:])
	for i := range vals {
		require.Equal(t, cache.TierL2, tiers[i])
		require.JSONEq(t, string(items[n-10+i].Value), string(vals[i]))
	}
}

func TestCacheCloseWritesWhatIsQueued(t *testing.T) {
	du, dir, ru := cacheSQLiteURL(t), t.TempDir(), cacheRedisURL(t)
	cacheRedisClear(t, ru)
	c, err := cache.Open(cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir}, cacheValid)
	require.NoError(t, err)
	items, keys := cacheItems(500, 40, "datacenter")
	c.SetMany(cacheCtx, items)
	require.NoError(t, c.Close())

	s := c.Stats()
	for _, ts := range []cache.TierStats{s.L1, s.L2, s.L3} {
		require.Zero(t, ts.Queued, ts.Backend)
		require.Zero(t, ts.Dropped, ts.Backend)
		require.EqualValues(t, 500, ts.Writes, ts.Backend)
	}
	require.Equal(t, 500, cacheCount(t, cacheSQL(t, du), du, cache.Service))
	require.Len(t, cacheFiles(t, dir), 500)
	n, err := cacheRedisClient(t, ru).Exists(cacheCtx, "ip_classification:"+keys[0], "ip_classification:"+keys[499]).Result()
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

func TestCacheFullQueueDropsTheOldestAndCountsThemPerTier(t *testing.T) {
	du, dir := cacheSQLiteURL(t), t.TempDir()
	c := cacheOpen(t, cache.Config{DatabaseURL: du, Dir: dir, QueueSize: 10})
	items, keys := cacheItems(100, 50, "tor")
	c.SetMany(cacheCtx, items) // one push of 100 into queues of 10
	cacheFlush(t, c)

	s := c.Stats()
	for _, ts := range []cache.TierStats{s.L2, s.L3} {
		require.EqualValues(t, 90, ts.Dropped, ts.Backend)
		require.EqualValues(t, 10, ts.Writes, ts.Backend)
		require.Zero(t, ts.Queued, ts.Backend)
	}
	for i, k := range keys {
		_, tier, ok := c.Get(cacheCtx, k)
		require.Equal(t, i >= 90, ok, "only the newest ten are kept: %s", k)
		if ok {
			require.Equal(t, cache.TierL2, tier)
		}
	}
}

func TestCacheDefaultQueueKeepsABulkOfAHundredThousand(t *testing.T) {
	du := cacheSQLiteURL(t)
	c := cacheOpen(t, cache.Config{DatabaseURL: du})
	items, _ := cacheItems(100000, 60, "unknown")
	c.SetMany(cacheCtx, items)
	cacheFlush(t, c)
	s := c.Stats().L2
	require.Zero(t, s.Dropped)
	require.EqualValues(t, 100000, s.Writes)
	require.Equal(t, 100000, cacheCount(t, cacheSQL(t, du), du, cache.Service))
}
