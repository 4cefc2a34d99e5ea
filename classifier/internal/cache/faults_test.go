package cache_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// cacheWaitUp polls Get (which probes a backing-off tier) until tier is up.
func cacheWaitUp(t *testing.T, c *cache.Cache, tier func(cache.Stats) cache.TierStats, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !tier(c.Stats()).Up {
		require.True(t, time.Now().Before(deadline), "tier did not come back within %s: %+v", within, tier(c.Stats()))
		c.Get(cacheCtx, "192.0.2.250")
		c.Set(cacheCtx, cache.Item{Key: "192.0.2.251", Value: cacheValue("192.0.2.251", "unknown")})
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCacheRedisKilledMidRunAnswersFastAndComesBack(t *testing.T) {
	p := cacheStartOwnRedis(t)
	rc := cacheRedisClient(t, p.url())
	c := cacheOpen(t, cache.Config{RedisURL: p.url(), Dir: t.TempDir(), RetryMS: 200})

	v1 := cacheSet(t, c, "10.7.0.1", "cloud")
	cacheRequireHit(t, c, "10.7.0.1", cache.TierL1, v1)

	p.kill()
	start := time.Now()
	for range 50 {
		one := time.Now()
		cacheRequireHit(t, c, "10.7.0.1", cache.TierL3, v1) // classification goes on from L3
		require.Less(t, time.Since(one), 300*time.Millisecond, "a dead Redis must answer fast")
	}
	one := time.Now()
	cacheSet(t, c, "10.7.0.2", "tor")
	require.Less(t, time.Since(one), 300*time.Millisecond, "a Set must not hang on a dead Redis")
	require.Less(t, time.Since(start), 2*time.Second)
	s := c.Stats()
	require.False(t, s.L1.Up)
	require.GreaterOrEqual(t, s.L1.Errors, int64(1))
	require.GreaterOrEqual(t, s.L1.Skipped, int64(25), "while down, calls skip Redis instead of dialing")

	p.start() // same port, empty data
	cacheWaitUp(t, c, func(s cache.Stats) cache.TierStats { return s.L1 }, 10*time.Second)

	// No lost write after the fault clears.
	v3 := cacheSet(t, c, "10.7.0.3", "datacenter")
	got, err := rc.Get(cacheCtx, "ip_classification:10.7.0.3").Bytes()
	require.NoError(t, err, "the first Set after recovery lands in Redis")
	require.JSONEq(t, string(v3), string(got))
	cacheRequireHit(t, c, "10.7.0.3", cache.TierL1, v3)
	cacheRequireHit(t, c, "10.7.0.1", cache.TierL3, v1) // Redis restarted empty: L3 answers and warms
	cacheRequireHit(t, c, "10.7.0.1", cache.TierL1, v1)
}

func TestCachePostgresUnreachableAtOpenIsRetried(t *testing.T) {
	real := cachePostgresURL(t)
	u, err := url.Parse(real)
	require.NoError(t, err)
	proxy := &cacheProxy{port: cacheFreePort(t), target: u.Host}
	u.Host = fmt.Sprintf("127.0.0.1:%d", proxy.port) // nothing listens there yet

	start := time.Now()
	c := cacheOpen(t, cache.Config{DatabaseURL: u.String(), Dir: t.TempDir(), RetryMS: 200})
	require.Less(t, time.Since(start), 2*time.Second, "Open does not wait for an unreachable database")
	s := c.Stats()
	require.True(t, s.L2.Enabled)
	require.False(t, s.L2.Up)
	require.GreaterOrEqual(t, s.L2.Errors, int64(1), "the failed connection at Open is counted")

	// The other tiers keep working, fast.
	one := time.Now()
	v := cacheSet(t, c, "10.8.0.1", "tor")
	cacheRequireHit(t, c, "10.8.0.1", cache.TierL3, v)
	cacheRequireMiss(t, c, "10.8.0.2")
	require.Less(t, time.Since(one), time.Second)

	proxy.start(t) // the database becomes reachable
	cacheWaitUp(t, c, func(s cache.Stats) cache.TierStats { return s.L2 }, 10*time.Second)
	v2 := cacheSet(t, c, "10.8.0.3", "cloud")
	db := cacheSQL(t, real)
	got, ok := cacheRow(t, db, real, "10.8.0.3")
	require.True(t, ok, "the first Set after recovery lands in PostgreSQL")
	require.JSONEq(t, string(v2), string(got))
	cacheRequireHit(t, c, "10.8.0.3", cache.TierL2, v2)
}

func TestCacheSQLiteLockedWritesAreSkippedNotFatal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	c := cacheOpen(t, cache.Config{DatabaseURL: "sqlite://" + path + "?_busy_timeout=100", RetryMS: 500})
	v1 := cacheSet(t, c, "10.9.0.1", "tor")
	cacheRequireHit(t, c, "10.9.0.1", cache.TierL2, v1)

	// Another connection holds a write transaction far longer than the busy timeout.
	locker, err := sql.Open("sqlite3", path+"?_busy_timeout=100&_txlock=immediate")
	require.NoError(t, err)
	defer locker.Close()
	tx, err := locker.Begin()
	require.NoError(t, err)
	_, err = tx.Exec(`INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at)
		VALUES ('other', 'k', '{}', '2030-01-01 00:00:00.000000', '2030-01-01 00:00:00.000000')`)
	require.NoError(t, err)

	start := time.Now()
	cacheSet(t, c, "10.9.0.2", "cloud")
	require.Less(t, time.Since(start), time.Second, "a locked database costs the busy timeout, no more")
	s := c.Stats()
	require.GreaterOrEqual(t, s.L2.Errors, int64(1), "the busy write is counted")
	cacheRequireHit(t, c, "10.9.0.1", cache.TierL2, v1) // WAL readers are not blocked by the writer
	start = time.Now()
	cacheSet(t, c, "10.9.0.3", "cloud")
	require.Less(t, time.Since(start), 50*time.Millisecond, "while backing off, writes are skipped at once")
	require.GreaterOrEqual(t, c.Stats().L2.Skipped, int64(1))

	require.NoError(t, tx.Rollback())
	cacheWaitUp(t, c, func(s cache.Stats) cache.TierStats { return s.L2 }, 5*time.Second)
	v4 := cacheSet(t, c, "10.9.0.4", "datacenter")
	cacheRequireHit(t, c, "10.9.0.4", cache.TierL2, v4)
}

func TestCacheUnwritableDirIsSkippedAndCounted(t *testing.T) {
	// chmod does not stop root, so make the cache dir a regular file.
	notDir := filepath.Join(t.TempDir(), "not-a-dir")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	du := cacheSQLiteURL(t)
	c := cacheOpen(t, cache.Config{Dir: notDir, DatabaseURL: du, RetryMS: 200})

	v := cacheSet(t, c, "10.10.0.1", "tor")
	cacheRequireHit(t, c, "10.10.0.1", cache.TierL2, v) // the other tiers still work
	cacheRequireMiss(t, c, "10.10.0.2")
	s := c.Stats()
	require.False(t, s.L3.Up)
	require.GreaterOrEqual(t, s.L3.Errors+s.L3.Skipped, int64(1))
	require.Zero(t, s.L3.Writes)
	_, err := c.Cleanup(cacheCtx)
	require.NoError(t, err, "an unusable dir is skipped, never an error")

	// One branch of the tree blocked by a file: other branches still take writes.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "11"), []byte("x"), 0o644))
	c2 := cacheOpen(t, cache.Config{Dir: dir, RetryMS: 200})
	cacheSet(t, c2, "11.0.0.1", "tor")
	cacheRequireMiss(t, c2, "11.0.0.1")
	time.Sleep(250 * time.Millisecond)
	v = cacheSet(t, c2, "12.0.0.1", "tor")
	cacheRequireHit(t, c2, "12.0.0.1", cache.TierL3, v)

	if os.Geteuid() != 0 { // a plain read-only directory stops non-root users
		ro := t.TempDir()
		require.NoError(t, os.Chmod(ro, 0o555))
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
		c3 := cacheOpen(t, cache.Config{Dir: ro})
		cacheSet(t, c3, "13.0.0.1", "tor")
		cacheRequireMiss(t, c3, "13.0.0.1")
		require.GreaterOrEqual(t, c3.Stats().L3.Errors, int64(1))
	}
}

func TestCachePathTraversalKeysNeverReachAStore(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	ru, du := cacheRedisURL(t), "sqlite://"+filepath.Join(root, "db", "cache.db")
	rc, db := cacheRedisClient(t, ru), cacheSQL(t, du)
	c := cacheOpen(t, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir})
	outside := cacheFiles(t, filepath.Dir(root))

	bad := []string{
		"../../etc/passwd", "1.2.3.4/../../x", "1.2.3.4/../../../etc/passwd", "..", "/etc/passwd", "",
		"1.2.3.4\x00", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4:80", "1.2.3.4/32",
		"2001:DB8::1", "2001:0db8::1", "2001:db8:0:0:0:0:0:1", "fe80::1%eth0", "fe80::1%../../x",
		"::ffff:1.2.3.4%../x", strings.Repeat("1", 100), "ip_classification:1.2.3.4", "*",
		"1.2.3.4' OR '1'='1", "1.2.3.4;DROP TABLE enrichment_cache", "1.2.3.4\n", "١.٢.٣.٤",
	}
	for _, k := range bad {
		c.Set(cacheCtx, cache.Item{Key: k, Value: cacheValue("1.2.3.4", "tor")})
		c.SetMany(cacheCtx, []cache.Item{{Key: k, Value: cacheValue("1.2.3.4", "tor")}})
		cacheRequireMiss(t, c, k)
		vals, _ := c.GetMany(cacheCtx, []string{k})
		require.Nil(t, vals[0])
	}
	s := c.Stats()
	require.EqualValues(t, 4*len(bad), s.InvalidKeys)
	require.EqualValues(t, 4*len(bad), s.Errors)
	require.EqualValues(t, 2*len(bad), s.Misses)
	require.Zero(t, s.L1.Writes+s.L2.Writes+s.L3.Writes, "no invalid key reached a tier")
	require.Zero(t, s.L1.GetLatency.Count+s.L2.GetLatency.Count+s.L3.GetLatency.Count)
	require.Empty(t, cacheFiles(t, dir))
	require.Equal(t, outside, cacheFiles(t, filepath.Dir(root)), "nothing was written outside the test dir")
	require.Zero(t, cacheCount(t, db, du, cache.Service))
	keys, err := rc.Keys(cacheCtx, "*1.2.3.4*").Result()
	require.NoError(t, err)
	require.Empty(t, keys)
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'enrichment_cache'`).Scan(&tables))
	require.Equal(t, 1, tables)

	// The canonical forms of the same addresses are fine.
	for _, k := range []string{"1.2.3.4", "2001:db8::1", "::ffff:1.2.3.4", "::", "0.0.0.0"} {
		v := cacheSet(t, c, k, "tor")
		cacheRequireHit(t, c, k, cache.TierL1, v)
	}
}

// cacheUpstreamDDL is the table as SQLAlchemy creates it for the upstream
// EnrichmentCache model (cowrieprocessor.db.models).
var cacheUpstreamDDL = map[string][]string{
	"sqlite": {`CREATE TABLE enrichment_cache (
	id INTEGER NOT NULL,
	service VARCHAR(64) NOT NULL,
	cache_key VARCHAR(256) NOT NULL,
	cache_value JSON NOT NULL,
	created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
	expires_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_enrichment_cache_service_key UNIQUE (service, cache_key)
)`,
		`CREATE INDEX ix_enrichment_cache_service_key ON enrichment_cache (service, cache_key)`,
		`CREATE INDEX ix_enrichment_cache_expires_at ON enrichment_cache (expires_at)`,
		`CREATE INDEX ix_enrichment_cache_created_at ON enrichment_cache (created_at)`},
	"postgres": {`CREATE TABLE enrichment_cache (
	id SERIAL NOT NULL,
	service VARCHAR(64) NOT NULL,
	cache_key VARCHAR(256) NOT NULL,
	cache_value JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_enrichment_cache_service_key UNIQUE (service, cache_key)
)`,
		`CREATE INDEX ix_enrichment_cache_service_key ON enrichment_cache (service, cache_key)`,
		`CREATE INDEX ix_enrichment_cache_expires_at ON enrichment_cache (expires_at)`,
		`CREATE INDEX ix_enrichment_cache_created_at ON enrichment_cache (created_at)`},
}

func TestCacheUpstreamTableIsReusedAndOtherServicesUntouched(t *testing.T) {
	for _, be := range cacheL2Backends {
		t.Run(be.name, func(t *testing.T) {
			du := be.url(t)
			db := cacheSQL(t, du)
			for _, q := range cacheUpstreamDDL[be.name] {
				_, err := db.Exec(q)
				require.NoError(t, err)
			}
			stamp := func(d time.Duration) any {
				tm := time.Now().UTC().Add(d)
				if be.name == "sqlite" {
					return tm.Format("2006-01-02 15:04:05.000000") // as SQLAlchemy writes it
				}
				return tm
			}
			insert := cacheQ(du, `INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`)
			others := map[string]string{"virustotal/abc": `{"malicious": true}`, "dshield/10.11.0.1": `{"count": 3}`}
			_, err := db.Exec(insert, "virustotal", "abc", others["virustotal/abc"], stamp(-time.Hour), stamp(24*time.Hour))
			require.NoError(t, err)
			_, err = db.Exec(insert, "dshield", "10.11.0.1", others["dshield/10.11.0.1"], stamp(-48*time.Hour), stamp(-24*time.Hour))
			require.NoError(t, err, "an expired row of another service")
			_, err = db.Exec(insert, cache.Service, "10.11.0.2", string(cacheValue("10.11.0.2", "tor")), stamp(-48*time.Hour), stamp(-time.Hour))
			require.NoError(t, err, "an expired row of ours")
			_, err = db.Exec(insert, cache.Service, "10.11.0.3", string(cacheValue("10.11.0.3", "cloud")), stamp(-time.Hour), stamp(time.Hour))
			require.NoError(t, err, "a live row of ours written upstream")

			c := cacheOpen(t, cache.Config{DatabaseURL: du})
			cacheRequireMiss(t, c, "10.11.0.1") // another service's row is not ours
			cacheRequireMiss(t, c, "10.11.0.2") // expired
			cacheRequireHit(t, c, "10.11.0.3", cache.TierL2, nil)
			v := cacheSet(t, c, "10.11.0.1", "residential")
			cacheRequireHit(t, c, "10.11.0.1", cache.TierL2, v)
			c.SetMany(cacheCtx, []cache.Item{
				{Key: "10.11.0.3", Value: cacheValue("10.11.0.3", "tor")},
				{Key: "10.11.0.4", Value: cacheValue("10.11.0.4", "tor")},
			})
			cacheFlush(t, c)
			vals, tiers := c.GetMany(cacheCtx, []string{"10.11.0.3", "10.11.0.4"})
			require.Equal(t, []string{"l2", "l2"}, tiers)
			require.Equal(t, "tor", cacheIPType(t, vals[0]))

			// No second unique index was added next to the upstream constraint.
			var unique int
			if be.name == "sqlite" {
				require.NoError(t, db.QueryRow(`SELECT count(*) FROM pragma_index_list('enrichment_cache') WHERE "unique" = 1`).Scan(&unique))
				require.Equal(t, 1, unique)
			} else {
				require.NoError(t, db.QueryRow(`SELECT count(*) FROM pg_index WHERE indrelid = to_regclass('enrichment_cache') AND indisunique`).Scan(&unique))
				require.Equal(t, 2, unique, "primary key + uq_enrichment_cache_service_key")
			}

			r, err := c.Cleanup(cacheCtx)
			require.NoError(t, err)
			require.EqualValues(t, 1, r.L2Rows, "only our expired row")
			require.Equal(t, 1, cacheCount(t, db, du, "dshield"), "another service's expired row is not ours to delete")

			r, err = c.Clear(cacheCtx)
			require.NoError(t, err)
			require.EqualValues(t, 3, r.L2Rows)
			require.Zero(t, cacheCount(t, db, du, cache.Service))
			for key, want := range others {
				service, k, _ := strings.Cut(key, "/")
				var got string
				require.NoError(t, db.QueryRow(cacheQ(du, `SELECT cache_value FROM enrichment_cache WHERE service = ? AND cache_key = ?`), service, k).Scan(&got))
				require.JSONEq(t, want, got, "%s untouched", key)
			}
		})
	}
}

func TestCacheCleanupRemovesOnlyExpired(t *testing.T) {
	dir, du := t.TempDir(), cacheSQLiteURL(t)
	clock := testkit.NewClock()
	c := cacheOpen(t, cache.Config{DatabaseURL: du, Dir: dir}, cache.WithClock(clock.Now))
	cacheSet(t, c, "20.1.1.1", "tor")
	cacheSet(t, c, "20.1.1.2", "tor")
	cacheSet(t, c, "2001:db8::20", "tor")
	clock.Advance(8 * 24 * time.Hour) // both rows expired in L2; files still young
	vFresh := cacheSet(t, c, "21.1.1.1", "cloud")

	// L3: one file past 30 days, plus leftovers and foreign files.
	long := time.Now().Add(-31 * 24 * time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "20/1/1/1.json"), long, long))
	v6 := filepath.Join(dir, "v6/2001/0db8/0000/0000/0000/0000/0000/0020.json")
	require.NoError(t, os.Chtimes(v6, long, long))
	oldTmp := filepath.Join(dir, "21/1/1/.2.json.abc.tmp")
	newTmp := filepath.Join(dir, "21/1/1/.3.json.def.tmp")
	for _, p := range []string{oldTmp, newTmp} {
		require.NoError(t, os.WriteFile(p, []byte("{"), 0o644))
	}
	// Temporary files age by the cache's clock too.
	twoHours, tenMin := clock.Now().Add(-2*time.Hour), clock.Now().Add(-10*time.Minute)
	require.NoError(t, os.Chtimes(oldTmp, twoHours, twoHours))
	require.NoError(t, os.Chtimes(newTmp, tenMin, tenMin))
	foreign := filepath.Join(dir, "README.txt")
	require.NoError(t, os.WriteFile(foreign, []byte("mine"), 0o644))
	require.NoError(t, os.Chtimes(foreign, long, long))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "keep"), 0o755))

	r, err := c.Cleanup(cacheCtx)
	require.NoError(t, err)
	require.EqualValues(t, 3, r.L2Rows, "20.1.1.1, 20.1.1.2 and 2001:db8::20 expired in L2")
	require.EqualValues(t, 3, r.L3Files, "two expired files and one old temporary file")
	require.EqualValues(t, 8, r.L3Dirs, "the v6 branch emptied by the expired file (20/1/1 keeps 2.json)")
	require.Zero(t, r.L3Skipped)
	require.FileExists(t, foreign)
	require.DirExists(t, filepath.Join(dir, "keep"))
	require.FileExists(t, newTmp, "a young temporary file may belong to a write in progress")
	require.NoFileExists(t, oldTmp)
	require.NoFileExists(t, v6)
	require.NoDirExists(t, filepath.Join(dir, "v6"))
	require.FileExists(t, filepath.Join(dir, "20/1/1/2.json"))

	cacheRequireHit(t, c, "21.1.1.1", cache.TierL2, vFresh)
	cacheRequireHit(t, c, "20.1.1.2", cache.TierL3, nil) // expired in L2, still young on disk
	cacheRequireMiss(t, c, "20.1.1.1")
}

func TestCacheClearDropsOnlyOurKeysRowsAndFiles(t *testing.T) {
	ru, du, dir := cacheRedisURL(t), cacheSQLiteURL(t), t.TempDir()
	rc := cacheRedisClient(t, ru)
	c := cacheOpen(t, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir})
	require.NoError(t, rc.Set(cacheCtx, "someone_else:1.2.3.4", "x", time.Minute).Err())
	t.Cleanup(func() { rc.Del(cacheCtx, "someone_else:1.2.3.4") })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	for i := range 5 {
		cacheSet(t, c, "30.0.0."+strconv.Itoa(i), "tor")
	}
	r, err := c.Clear(cacheCtx)
	require.NoError(t, err)
	require.Equal(t, cache.CleanupReport{L1Keys: 5, L2Rows: 5, L3Files: 5, L3Dirs: 3}, r)
	for i := range 5 {
		cacheRequireMiss(t, c, "30.0.0."+strconv.Itoa(i))
	}
	require.NoError(t, rc.Get(cacheCtx, "someone_else:1.2.3.4").Err())
	require.FileExists(t, filepath.Join(dir, "notes.txt"))
}

func TestCacheOpenRejectsMalformedConfigWithoutLeakingSecrets(t *testing.T) {
	for _, cfg := range []cache.Config{
		{RedisURL: "http://user:s3cret@localhost:6379"},
		{RedisURL: "redis://:s3cret@[bad"},
		{DatabaseURL: "mysql://user:s3cret@localhost/db"},
		{DatabaseURL: "postgresql://user:s3cret@[::1"},
		{DatabaseURL: "sqlite://"},
		{DatabaseURL: "sqlite://:memory:"},
	} {
		_, err := cache.Open(cfg, cacheValid)
		require.Error(t, err, "%+v", cfg)
		require.NotContains(t, err.Error(), "s3cret")
	}
	// SQLAlchemy-style driver suffixes are accepted.
	for _, u := range []string{"postgresql+psycopg2://u:p@127.0.0.1:1/db", "postgresql+psycopg://u:p@127.0.0.1:1/db", "postgres://u:p@127.0.0.1:1/db"} {
		c := cacheOpen(t, cache.Config{DatabaseURL: u})
		require.Equal(t, "postgres", c.Stats().L2.Backend)
	}
}

func TestCacheConcurrentUseIsRaceFree(t *testing.T) {
	ru, du, dir := cacheRedisURL(t), cacheSQLiteURL(t), t.TempDir()
	c := cacheOpen(t, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				ip := "40.0." + strconv.Itoa(g) + "." + strconv.Itoa(i%20)
				switch i % 4 {
				case 0:
					c.Set(cacheCtx, cache.Item{Key: ip, Value: cacheValue(ip, "tor"), L1TTL: time.Minute})
				case 1:
					c.Get(cacheCtx, ip)
				case 2:
					c.GetMany(cacheCtx, []string{ip, "40.1.0.1", ip})
				case 3:
					c.SetMany(cacheCtx, []cache.Item{{Key: ip, Value: cacheValue(ip, "cloud")}, {Key: "40.1.0.1", Value: cacheValue("40.1.0.1", "tor")}})
				}
				_ = c.Stats()
			}
		}()
	}
	wg.Wait()
	s := c.Stats()
	require.Zero(t, s.Errors, "%+v", s)
	require.Equal(t, s.Hits+s.Misses, int64(8*15+8*15*3), "every lookup is a hit or a miss")
}

// cacheDeadPostgresURL is a PostgreSQL URL on a loopback port nothing
// listens on.
func cacheDeadPostgresURL(tb testing.TB) string {
	return fmt.Sprintf("postgresql://nobody@127.0.0.1:%d/nothing", cacheFreePort(tb))
}

// cacheUncreatableSQLiteURL is a SQLite file whose directory cannot be
// created (its parent is a regular file: this stops root too).
func cacheUncreatableSQLiteURL(tb testing.TB) string {
	notDir := filepath.Join(tb.TempDir(), "not-a-dir")
	require.NoError(tb, os.WriteFile(notDir, []byte("x"), 0o644))
	return "sqlite://" + filepath.Join(notDir, "sub", "cache.db")
}

// cacheDeadRedisURL is a Redis URL on a loopback port nothing listens on.
func cacheDeadRedisURL(tb testing.TB) string {
	return fmt.Sprintf("redis://127.0.0.1:%d/0", cacheFreePort(tb))
}

// cachePrefix is the "cache: " that starts a cache error (not the end of
// "enrichment_cache: ").
var cachePrefix = regexp.MustCompile(`\bcache: `)

func TestCacheTierErrorsNameTheirTierAndOperationOnce(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cleanup := func(c *cache.Cache) error { _, err := c.Cleanup(cacheCtx); return err }
	clear := func(c *cache.Cache) error { _, err := c.Clear(cacheCtx); return err }
	clearWhere := func(c *cache.Cache) error { _, err := c.ClearWhere(cacheCtx, "ip_type", "unknown"); return err }
	tests := []struct {
		name string
		cfg  func(t *testing.T) cache.Config
		call func(c *cache.Cache) error
		tier string // "L2 postgres": said once
		head string // how the message starts: the tier, then the operation
	}{
		{"postgres unreachable: cleanup", cacheDeadPostgres,
			cleanup, "L2 postgres", "cache: L2 postgres: cleanup: "},
		{"postgres unreachable: clear", cacheDeadPostgres,
			clear, "L2 postgres", "cache: L2 postgres: clear: "},
		{"postgres unreachable: clear where", cacheDeadPostgres,
			clearWhere, "L2 postgres", `cache: L2 postgres: clear where ip_type = "unknown": `},
		{"sqlite directory uncreatable: cleanup", cacheBadSQLite,
			cleanup, "L2 sqlite", "cache: L2 sqlite: cleanup: "},
		{"sqlite directory uncreatable: clear", cacheBadSQLite,
			clear, "L2 sqlite", "cache: L2 sqlite: clear: "},
		{"sqlite directory uncreatable: clear where", cacheBadSQLite,
			clearWhere, "L2 sqlite", `cache: L2 sqlite: clear where ip_type = "unknown": `},
		{"redis unreachable: clear", cacheDeadRedis,
			clear, "L1 redis", "cache: L1 redis: clear: scan: "},
		{"redis unreachable: clear where", cacheDeadRedis,
			clearWhere, "L1 redis", `cache: L1 redis: clear where ip_type = "unknown": scan: `},
		{"files: cleanup cancelled", cacheFilesOnly,
			func(c *cache.Cache) error { _, err := c.Cleanup(cancelled); return err }, "L3 files", "cache: L3 files: cleanup stopped: "},
		{"files: clear where cancelled", cacheFilesOnly,
			func(c *cache.Cache) error { _, err := c.ClearWhere(cancelled, "ip_type", "unknown"); return err },
			"L3 files", `cache: L3 files: clear where ip_type = "unknown" stopped: `},
		{"postgres URL malformed: open", nil,
			func(*cache.Cache) error {
				_, err := cache.Open(cache.Config{DatabaseURL: "postgresql://u:p@[::1"}, cacheValid)
				return err
			}, "L2 postgres", "cache: L2 postgres URL is malformed: "},
		{"redis URL malformed: open", nil,
			func(*cache.Cache) error {
				_, err := cache.Open(cache.Config{RedisURL: "redis://:p@[bad"}, cacheValid)
				return err
			},
			"L1 redis", "cache: L1 redis URL is malformed: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *cache.Cache
			if tt.cfg != nil {
				c = cacheOpen(t, tt.cfg(t))
			}
			err := tt.call(c)
			require.Error(t, err)
			msg := err.Error()
			require.Truef(t, strings.HasPrefix(msg, tt.head), "%q does not start with %q", msg, tt.head)
			require.Equalf(t, 1, strings.Count(msg, tt.tier), "%q names its tier more than once", msg)
			require.Lenf(t, cachePrefix.FindAllString(msg, -1), 1, "%q repeats its prefix", msg)
		})
	}
}

// cacheLogRecords collects the records logged through it.
type cacheLogRecords struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *cacheLogRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *cacheLogRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *cacheLogRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *cacheLogRecords) WithGroup(string) slog.Handler      { return h }

func TestCacheTierFailureLogsNameTheirTierOnce(t *testing.T) {
	tests := []struct {
		name          string
		cfg           func(t *testing.T) cache.Config
		tier, backend string
	}{
		{"postgres unreachable at open", cacheDeadPostgres, cache.TierL2, "postgres"},
		{"sqlite directory uncreatable at open", cacheBadSQLite, cache.TierL2, "sqlite"},
		{"redis unreachable at open", cacheDeadRedis, cache.TierL1, "redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &cacheLogRecords{}
			cacheOpen(t, tt.cfg(t), cache.WithLogger(slog.New(h)))
			h.mu.Lock()
			defer h.mu.Unlock()
			var down []slog.Record
			for _, r := range h.records {
				if r.Message == "cache tier unavailable, backing off" {
					down = append(down, r)
				}
			}
			require.Len(t, down, 1)
			attrs := map[string]string{}
			down[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			require.Equal(t, tt.tier, attrs["tier"])
			require.Equal(t, tt.backend, attrs["backend"])
			require.Equal(t, "open", attrs["op"])
			require.NotEmpty(t, attrs["err"])
			// The attributes name the tier: the error does not say it again.
			require.Emptyf(t, cachePrefix.FindAllString(attrs["err"], -1), "%q", attrs["err"])
			require.NotContainsf(t, attrs["err"], tt.backend, "%q", attrs["err"])
		})
	}
}

// Configurations of one failing (or, for files, one working) tier, for the
// tables above.
func cacheDeadPostgres(t *testing.T) cache.Config {
	return cache.Config{DatabaseURL: cacheDeadPostgresURL(t)}
}

func cacheBadSQLite(t *testing.T) cache.Config {
	return cache.Config{DatabaseURL: cacheUncreatableSQLiteURL(t)}
}

func cacheDeadRedis(t *testing.T) cache.Config { return cache.Config{RedisURL: cacheDeadRedisURL(t)} }

func cacheFilesOnly(t *testing.T) cache.Config { return cache.Config{Dir: t.TempDir()} }
