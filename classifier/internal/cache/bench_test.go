package cache_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// cacheBenchKeys are n distinct addresses with their items.
func cacheBenchKeys(prefix string, n int) ([]string, []cache.Item) {
	keys := make([]string, n)
	items := make([]cache.Item, n)
	for i := range n {
		k := prefix + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
		keys[i] = k
		items[i] = cache.Item{Key: k, Value: cacheValue(k, "cloud"), L1TTL: time.Hour}
	}
	return keys, items
}

// cacheReportLatencies reports the median and 99th percentile of lat.
func cacheReportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// cacheBenchHits times Get over keys, all expected from tier.
func cacheBenchHits(b *testing.B, c *cache.Cache, tier string, keys []string) {
	require.NoError(b, c.Flush(cacheCtx)) // what the caller stored is written
	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		i++
		start := time.Now()
		_, got, ok := c.Get(cacheCtx, k)
		lat = append(lat, time.Since(start))
		if !ok || got != tier {
			b.Fatalf("Get(%s) = %q, %v; want a hit from %s", k, got, ok, tier)
		}
	}
	cacheReportLatencies(b, lat)
}

func BenchmarkCacheNoTierGet(b *testing.B) {
	var c *cache.Cache
	b.ReportAllocs()
	for b.Loop() {
		c.Get(cacheCtx, "1.2.3.4")
	}
}

func BenchmarkCacheL1Hit(b *testing.B) {
	c := cacheOpen(b, cache.Config{RedisURL: cacheRedisURL(b)})
	keys, items := cacheBenchKeys("50.1.", 1000)
	c.SetMany(cacheCtx, items)
	cacheBenchHits(b, c, cache.TierL1, keys)
}

func BenchmarkCacheL2HitSQLite(b *testing.B) {
	c := cacheOpen(b, cache.Config{DatabaseURL: cacheSQLiteURL(b)})
	keys, items := cacheBenchKeys("50.2.", 1000)
	c.SetMany(cacheCtx, items)
	cacheBenchHits(b, c, cache.TierL2, keys)
}

func BenchmarkCacheL2HitPostgres(b *testing.B) {
	c := cacheOpen(b, cache.Config{DatabaseURL: cachePostgresURL(b)})
	keys, items := cacheBenchKeys("50.3.", 1000)
	c.SetMany(cacheCtx, items)
	cacheBenchHits(b, c, cache.TierL2, keys)
}

func BenchmarkCacheL3Hit(b *testing.B) {
	c := cacheOpen(b, cache.Config{Dir: b.TempDir()})
	keys, items := cacheBenchKeys("50.4.", 1000)
	c.SetMany(cacheCtx, items)
	cacheBenchHits(b, c, cache.TierL3, keys)
}

// BenchmarkCacheGetMany1000 asks for 1000 keys, 950 in L1 and 50 in no tier
// (they cascade to SQLite L2 and disk L3): one MGET, one SQL query, 50 file
// lookups per batch.
func BenchmarkCacheGetMany1000(b *testing.B) {
	ru, du, dir := cacheRedisURL(b), cacheSQLiteURL(b), b.TempDir()
	c := cacheOpen(b, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir})
	onlyL1 := cacheOpen(b, cache.Config{RedisURL: ru})
	keys, items := cacheBenchKeys("50.5.", 1000)
	onlyL1.SetMany(cacheCtx, items[:950])
	require.NoError(b, onlyL1.Flush(cacheCtx))
	lat := make([]time.Duration, 0, 4096)
	for b.Loop() {
		start := time.Now()
		_, tiers := c.GetMany(cacheCtx, keys)
		lat = append(lat, time.Since(start))
		if tiers[0] != cache.TierL1 || tiers[999] != "" {
			b.Fatalf("tiers[0]=%q tiers[999]=%q", tiers[0], tiers[999])
		}
	}
	cacheReportLatencies(b, lat)
}

// BenchmarkCacheSetAllTiers is the write of a classification that missed,
// waited for: Redis SET, SQLite upsert, one file (Set, then Flush).
func BenchmarkCacheSetAllTiers(b *testing.B) {
	c := cacheOpen(b, cache.Config{RedisURL: cacheRedisURL(b), DatabaseURL: cacheSQLiteURL(b), Dir: b.TempDir()})
	_, items := cacheBenchKeys("50.6.", 1000)
	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		start := time.Now()
		c.Set(cacheCtx, items[i%len(items)])
		if err := c.Flush(cacheCtx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	cacheReportLatencies(b, lat)
}

// BenchmarkCacheSetQueued is what a classification that missed pays for
// its write: the append to the three tiers' queues (the writers run meanwhile).
func BenchmarkCacheSetQueued(b *testing.B) {
	c := cacheOpen(b, cache.Config{RedisURL: cacheRedisURL(b), DatabaseURL: cacheSQLiteURL(b), Dir: b.TempDir()})
	_, items := cacheBenchKeys("50.7.", 1000)
	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		start := time.Now()
		c.Set(cacheCtx, items[i%len(items)])
		lat = append(lat, time.Since(start))
		i++
	}
	cacheReportLatencies(b, lat)
}

// cacheBenchEngine is an engine on the fixture lists (not refreshed: the
// cache answers) with all three tiers: a real Redis, SQLite and a directory.
func cacheBenchEngine(b *testing.B) (*classifier.Engine, classifier.Config) {
	cfg := fixture.Config(b, fixture.Server(b).URL)
	cfg.Cache = cache.Config{RedisURL: cacheRedisURL(b), DatabaseURL: cacheSQLiteURL(b), Dir: b.TempDir()}
	return fixture.Open(b, cfg), cfg
}

func cacheBenchQueries(prefix string, n int) []classifier.Query {
	qs := make([]classifier.Query, n)
	for i := range qs {
		qs[i].IP = prefix + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	return qs
}

// BenchmarkEngineBatch1000CachedL1L2 is ClassifyBatch of 1000 addresses,
// 950 answered by L1 and 50 only in L2 (so they cascade and are warmed to
// L1; they are removed from L1 again between iterations, untimed).
func BenchmarkEngineBatch1000CachedL1L2(b *testing.B) {
	e, cfg := cacheBenchEngine(b)
	qs := cacheBenchQueries("50.7.", 1000)
	_, errs := e.ClassifyBatch(cacheCtx, qs) // every tier
	require.Nil(b, errs[0])
	require.NoError(b, e.FlushCache(cacheCtx))
	rdb := cacheRedisClient(b, cfg.Cache.RedisURL)
	var l2only []string
	for _, q := range qs[950:] {
		l2only = append(l2only, "ip_classification:"+q.IP)
	}
	lat := make([]time.Duration, 0, 4096)
	for b.Loop() {
		b.StopTimer()
		require.NoError(b, e.FlushCache(cacheCtx)) // the warming of the last round
		require.NoError(b, rdb.Del(cacheCtx, l2only...).Err())
		b.StartTimer()
		start := time.Now()
		res, _ := e.ClassifyBatch(cacheCtx, qs)
		lat = append(lat, time.Since(start))
		if res[0].CacheTier != cache.TierL1 || res[999].CacheTier != cache.TierL2 {
			b.Fatalf("tiers %q %q", res[0].CacheTier, res[999].CacheTier)
		}
	}
	cacheReportLatencies(b, lat)
}

// BenchmarkEngineBatch1000CachedL1Misses5 is ClassifyBatch of 1000
// addresses, 950 answered by L1 and 50 never seen: those miss every tier,
// are computed and written to all three.
func BenchmarkEngineBatch1000CachedL1Misses5(b *testing.B) {
	e, _ := cacheBenchEngine(b)
	qs := cacheBenchQueries("50.8.", 950)
	e.ClassifyBatch(cacheCtx, qs)
	require.NoError(b, e.FlushCache(cacheCtx))
	lat := make([]time.Duration, 0, 4096)
	for i := 0; b.Loop(); i++ {
		batch := slices.Clip(qs)
		for j := range 50 { // never seen: 60.x.y.j, a directory of their own in L3
			ip := "60." + strconv.Itoa(i%200) + "." + strconv.Itoa(i/200%256) + "." + strconv.Itoa(j)
			batch = append(batch, classifier.Query{IP: ip})
		}
		start := time.Now()
		res, _ := e.ClassifyBatch(cacheCtx, batch)
		lat = append(lat, time.Since(start))
		if res[0].CacheTier != cache.TierL1 || res[999].CacheTier != "" {
			b.Fatalf("tiers %q %q", res[0].CacheTier, res[999].CacheTier)
		}
	}
	cacheReportLatencies(b, lat)
}
