package cache_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

func TestCacheNilAndNoTierAreFreeMisses(t *testing.T) {
	var nilCache *cache.Cache
	empty := cacheOpen(t, cache.Config{})
	for name, c := range map[string]*cache.Cache{"nil": nilCache, "no tier": empty} {
		t.Run(name, func(t *testing.T) {
			cacheRequireMiss(t, c, "1.2.3.4")
			vals, tiers := c.GetMany(cacheCtx, []string{"1.2.3.4", "::1"})
			require.Equal(t, [][]byte{nil, nil}, vals)
			require.Equal(t, []string{"", ""}, tiers)
			c.Set(cacheCtx, cache.Item{Key: "1.2.3.4", Value: cacheValue("1.2.3.4", "tor")})
			c.SetMany(cacheCtx, []cache.Item{{Key: "1.2.3.4", Value: cacheValue("1.2.3.4", "tor")}})
			cacheRequireMiss(t, c, "1.2.3.4")
			_, err := c.Cleanup(cacheCtx)
			require.NoError(t, err)
			_, err = c.Clear(cacheCtx)
			require.NoError(t, err)
			require.Equal(t, cache.Stats{}, c.Stats())
			allocs := testing.AllocsPerRun(1000, func() { c.Get(cacheCtx, "1.2.3.4") })
			require.Zero(t, allocs, "Get with no tier must not allocate")
		})
	}
	require.NoError(t, nilCache.Close())
}

func TestCacheL1RedisGetSetTTLAndCorruptValue(t *testing.T) {
	u := cacheRedisURL(t)
	rc := cacheRedisClient(t, u)
	c := cacheOpen(t, cache.Config{RedisURL: u})

	v := cacheSet(t, c, "10.1.0.1", "cloud")
	stored, err := rc.Get(cacheCtx, "ip_classification:10.1.0.1").Bytes()
	require.NoError(t, err, "the value lives under ip_classification:{ip}")
	require.JSONEq(t, string(v), string(stored))
	ttl, err := rc.PTTL(cacheCtx, "ip_classification:10.1.0.1").Result()
	require.NoError(t, err)
	require.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 5, "TTL is Item.L1TTL")
	cacheRequireHit(t, c, "10.1.0.1", cache.TierL1, v)

	// TTL expiry: Redis drops the key.
	short := cacheValue("10.1.0.2", "tor")
	c.Set(cacheCtx, cache.Item{Key: "10.1.0.2", Value: short, L1TTL: 150 * time.Millisecond})
	cacheRequireHit(t, c, "10.1.0.2", cache.TierL1, short)
	time.Sleep(300 * time.Millisecond)
	cacheRequireMiss(t, c, "10.1.0.2")

	// A zero L1TTL gets the 1 h default, never "no expiry".
	c.Set(cacheCtx, cache.Item{Key: "10.1.0.4", Value: cacheValue("10.1.0.4", "tor")})
	cacheFlush(t, c)
	ttl, err = rc.PTTL(cacheCtx, "ip_classification:10.1.0.4").Result()
	require.NoError(t, err)
	require.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 5)

	// A corrupt value is a counted miss, and the next Set replaces it.
	require.NoError(t, rc.Set(cacheCtx, "ip_classification:10.1.0.3", "{not json", time.Hour).Err())
	cacheRequireMiss(t, c, "10.1.0.3")
	require.EqualValues(t, 1, c.Stats().L1.Corrupt)
	v3 := cacheSet(t, c, "10.1.0.3", "datacenter")
	cacheRequireHit(t, c, "10.1.0.3", cache.TierL1, v3)

	s := c.Stats()
	require.True(t, s.L1.Enabled)
	require.True(t, s.L1.Up)
	require.Equal(t, "redis", s.L1.Backend)
	require.False(t, s.L2.Enabled)
	require.EqualValues(t, 3, s.L1Hits)
	require.EqualValues(t, 3, s.Hits)
	require.EqualValues(t, 2, s.Misses)
	require.Zero(t, s.Errors)
	require.Greater(t, s.L1.GetLatency.P50Micros, 0.0)
}

func TestCacheL2SQLGetSetExpiryAndCorruptValue(t *testing.T) {
	for _, be := range cacheL2Backends {
		t.Run(be.name, func(t *testing.T) {
			u := be.url(t)
			clock := testkit.NewClock()
			c := cacheOpen(t, cache.Config{DatabaseURL: u}, cache.WithClock(clock.Now))
			db := cacheSQL(t, u)

			v := cacheSet(t, c, "10.2.0.1", "residential")
			stored, ok := cacheRow(t, db, u, "10.2.0.1")
			require.True(t, ok, "row service='ip_classification', cache_key=ip")
			require.JSONEq(t, string(v), string(stored))
			exp := cacheRowExpiry(t, db, u, "10.2.0.1")
			require.WithinDuration(t, clock.Now().Add(7*24*time.Hour), exp, 2*time.Second, "7-day TTL")
			cacheRequireHit(t, c, "10.2.0.1", cache.TierL2, v)

			// Upsert: a second Set replaces the row.
			v2 := cacheSet(t, c, "10.2.0.1", "cloud")
			require.Equal(t, 1, cacheCount(t, db, u, cache.Service))
			cacheRequireHit(t, c, "10.2.0.1", cache.TierL2, v2)

			// The TTL is enforced on read.
			clock.Advance(7*24*time.Hour + time.Second)
			cacheRequireMiss(t, c, "10.2.0.1")
			v3 := cacheSet(t, c, "10.2.0.1", "tor")
			cacheRequireHit(t, c, "10.2.0.1", cache.TierL2, v3)

			// A corrupt value is a counted miss and is overwritten by Set.
			_, err := db.Exec(cacheQ(u, `UPDATE enrichment_cache SET cache_value = '{"ip_type": ""}' WHERE cache_key = ?`), "10.2.0.1")
			require.NoError(t, err)
			cacheRequireMiss(t, c, "10.2.0.1")
			require.EqualValues(t, 1, c.Stats().L2.Corrupt)
			v4 := cacheSet(t, c, "10.2.0.1", "unknown")
			cacheRequireHit(t, c, "10.2.0.1", cache.TierL2, v4)

			s := c.Stats()
			require.Equal(t, be.name, s.L2.Backend)
			require.True(t, s.L2.Up)
			require.Zero(t, s.L2.Errors)
			require.EqualValues(t, 4, s.L2Hits)
			require.EqualValues(t, 4, s.L2.Writes)
		})
	}
}

func TestCacheL2SQLiteAcceptsEveryURLForm(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct{ url, file string }{
		{"sqlite://" + filepath.Join(dir, "abs.db"), filepath.Join(dir, "abs.db")},
		{"sqlite:///" + filepath.Join(dir, "four-slashes.db"), filepath.Join(dir, "four-slashes.db")},
		{"sqlite://relative.db", filepath.Join(dir, "relative.db")},
		{"sqlite+pysqlite://" + filepath.Join(dir, "driver.db"), filepath.Join(dir, "driver.db")},
		{filepath.Join(dir, "plain.db"), filepath.Join(dir, "plain.db")},
		{"plain-relative.db", filepath.Join(dir, "plain-relative.db")},
		{"sqlite://" + filepath.Join(dir, "sub", "dir", "nested.db"), filepath.Join(dir, "sub", "dir", "nested.db")},
	} {
		t.Run(tc.url, func(t *testing.T) {
			c := cacheOpen(t, cache.Config{DatabaseURL: tc.url})
			v := cacheSet(t, c, "10.2.1.1", "tor")
			cacheRequireHit(t, c, "10.2.1.1", cache.TierL2, v)
			require.FileExists(t, tc.file)
			db := cacheSQL(t, "sqlite://"+tc.file)
			var mode string
			require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
			require.Equal(t, "wal", mode)
		})
	}
}

func TestCacheL3DiskLayoutExpiryAndCorruptFile(t *testing.T) {
	dir := t.TempDir()
	c := cacheOpen(t, cache.Config{Dir: dir})

	for ip, rel := range map[string]string{
		"1.2.3.4":        "1/2/3/4.json",
		"255.0.10.200":   "255/0/10/200.json",
		"2001:db8::1":    "v6/2001/0db8/0000/0000/0000/0000/0000/0001.json",
		"fe80::abcd:1":   "v6/fe80/0000/0000/0000/0000/0000/abcd/0001.json",
		"::ffff:1.2.3.4": "v6/0000/0000/0000/0000/0000/ffff/0102/0304.json",
	} {
		v := cacheSet(t, c, ip, "cloud")
		got, err := os.ReadFile(filepath.Join(dir, rel))
		require.NoError(t, err, "%s lives at %s", ip, rel)
		require.Equal(t, v, got)
		cacheRequireHit(t, c, ip, cache.TierL3, v)
	}
	for _, f := range cacheFiles(t, dir) {
		require.False(t, strings.HasSuffix(f, ".tmp"), "no temporary file is left behind: %s", f)
	}

	// Expiry: file mtime + 30 days.
	p := filepath.Join(dir, "1/2/3/4.json")
	old := time.Now().Add(-30*24*time.Hour - time.Minute)
	require.NoError(t, os.Chtimes(p, old, old))
	cacheRequireMiss(t, c, "1.2.3.4")
	v := cacheSet(t, c, "1.2.3.4", "tor")
	cacheRequireHit(t, c, "1.2.3.4", cache.TierL3, v)

	// A configured TTL applies.
	short := cacheOpen(t, cache.Config{Dir: dir, L3TTL: 60})
	twoMin := time.Now().Add(-2 * time.Minute)
	require.NoError(t, os.Chtimes(p, twoMin, twoMin))
	cacheRequireMiss(t, short, "1.2.3.4")
	cacheRequireHit(t, c, "1.2.3.4", cache.TierL3, v)

	// A corrupt file is a counted miss and gets replaced by the next Set.
	require.NoError(t, os.WriteFile(p, []byte("{\"ip_type\": tru"), 0o644))
	cacheRequireMiss(t, c, "1.2.3.4")
	require.EqualValues(t, 1, c.Stats().L3.Corrupt)
	v = cacheSet(t, c, "1.2.3.4", "datacenter")
	cacheRequireHit(t, c, "1.2.3.4", cache.TierL3, v)
	require.NoError(t, os.WriteFile(p, nil, 0o644)) // empty, as after a crash
	cacheRequireMiss(t, c, "1.2.3.4")
	require.EqualValues(t, 2, c.Stats().L3.Corrupt)
}

func TestCacheCascadeWarmsTheTiersAbove(t *testing.T) {
	for _, be := range cacheL2Backends {
		t.Run(be.name, func(t *testing.T) {
			ru, du, dir := cacheRedisURL(t), be.url(t), t.TempDir()
			rc, db := cacheRedisClient(t, ru), cacheSQL(t, du)
			full := cacheOpen(t, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir})
			onlyL2 := cacheOpen(t, cache.Config{DatabaseURL: du})
			onlyL3 := cacheOpen(t, cache.Config{Dir: dir})

			// Seed example: an answer stored only in L2 is an "l2" hit, then an "l1" hit.
			v := cacheSet(t, onlyL2, "10.3.0.1", "cloud")
			cacheRequireHit(t, full, "10.3.0.1", cache.TierL2, v)
			require.EqualValues(t, 1, full.Stats().L2Hits)
			cacheRequireHit(t, full, "10.3.0.1", cache.TierL1, v)
			require.EqualValues(t, 1, full.Stats().L1Hits)
			ttl, err := rc.PTTL(cacheCtx, "ip_classification:10.3.0.1").Result()
			require.NoError(t, err)
			require.LessOrEqual(t, ttl, time.Hour, "a warmed value gets the warm TTL")
			require.NoFileExists(t, filepath.Join(dir, "10/3/0/1.json"), "warming never writes below the hit")

			// An L3 hit warms L1 and L2.
			v = cacheSet(t, onlyL3, "10.3.0.2", "tor")
			cacheRequireHit(t, full, "10.3.0.2", cache.TierL3, v)
			cacheFlush(t, full) // the warming writes are queued
			got, ok := cacheRow(t, db, du, "10.3.0.2")
			require.True(t, ok, "L3 hit copied to L2")
			require.JSONEq(t, string(v), string(got))
			require.NoError(t, rc.Get(cacheCtx, "ip_classification:10.3.0.2").Err(), "L3 hit copied to L1")
			cacheRequireHit(t, full, "10.3.0.2", cache.TierL1, v)

			// A warmed value never outlives the file it came from.
			v = cacheSet(t, onlyL3, "10.3.0.3", "tor")
			almost := time.Now().Add(-30*24*time.Hour + 10*time.Minute)
			require.NoError(t, os.Chtimes(filepath.Join(dir, "10/3/0/3.json"), almost, almost))
			cacheRequireHit(t, full, "10.3.0.3", cache.TierL3, v)
			cacheFlush(t, full)
			ttl, err = rc.PTTL(cacheCtx, "ip_classification:10.3.0.3").Result()
			require.NoError(t, err)
			require.LessOrEqual(t, ttl, 10*time.Minute)
			require.WithinDuration(t, time.Now().Add(10*time.Minute), cacheRowExpiry(t, db, du, "10.3.0.3"), 5*time.Second)

			// A corrupt L1 value falls through to L2 and is overwritten by the warming.
			v = cacheSet(t, onlyL2, "10.3.0.4", "datacenter")
			require.NoError(t, rc.Set(cacheCtx, "ip_classification:10.3.0.4", "garbage", time.Hour).Err())
			cacheRequireHit(t, full, "10.3.0.4", cache.TierL2, v)
			cacheRequireHit(t, full, "10.3.0.4", cache.TierL1, v)

			// Set writes every tier.
			v = cacheSet(t, full, "2001:db8::5", "cloud")
			inRedis, err := rc.Get(cacheCtx, "ip_classification:2001:db8::5").Result()
			require.NoError(t, err)
			require.JSONEq(t, string(v), inRedis)
			_, ok = cacheRow(t, db, du, "2001:db8::5")
			require.True(t, ok)
			require.FileExists(t, filepath.Join(dir, "v6/2001/0db8/0000/0000/0000/0000/0000/0005.json"))

			s := full.Stats()
			require.EqualValues(t, 3, s.L1Hits)
			require.EqualValues(t, 2, s.L2Hits)
			require.EqualValues(t, 2, s.L3Hits)
			require.EqualValues(t, 7, s.Hits)
			require.EqualValues(t, 1, s.L1.Corrupt)
			require.Zero(t, s.Errors)
		})
	}
}

func TestCacheBatchMixesTiersAndMisses(t *testing.T) {
	for _, be := range cacheL2Backends {
		t.Run(be.name, func(t *testing.T) {
			ru, du, dir := cacheRedisURL(t), be.url(t), t.TempDir()
			rc, db := cacheRedisClient(t, ru), cacheSQL(t, du)
			full := cacheOpen(t, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir})
			onlyL1 := cacheOpen(t, cache.Config{RedisURL: ru})
			onlyL2 := cacheOpen(t, cache.Config{DatabaseURL: du})
			onlyL3 := cacheOpen(t, cache.Config{Dir: dir})

			a := cacheSet(t, onlyL1, "10.4.0.1", "tor")
			b := cacheSet(t, onlyL2, "10.4.0.2", "cloud")
			c := cacheSet(t, onlyL3, "10.4.0.3", "datacenter")
			e := cacheSet(t, onlyL3, "2001:db8::4", "residential")
			keys := []string{"10.4.0.1", "10.4.0.2", "10.4.0.3", "10.4.0.9", "../../etc/passwd", "10.4.0.1", "2001:db8::4"}

			before := full.Stats()
			vals, tiers := full.GetMany(cacheCtx, keys)
			require.Equal(t, []string{"l1", "l2", "l3", "", "", "l1", "l3"}, tiers)
			for i, want := range [][]byte{a, b, c, nil, nil, a, e} {
				if want == nil {
					require.Nil(t, vals[i], keys[i])
					continue
				}
				require.JSONEq(t, string(want), string(vals[i]), keys[i])
			}
			cacheFlush(t, full) // the warming writes are queued
			s := full.Stats()
			require.EqualValues(t, 5, s.Hits)
			require.EqualValues(t, 2, s.Misses)
			require.EqualValues(t, 1, s.InvalidKeys)
			require.EqualValues(t, 2, s.L1Hits)
			require.EqualValues(t, 1, s.L2Hits)
			require.EqualValues(t, 2, s.L3Hits)
			require.EqualValues(t, 1, s.L1.GetLatency.Count-before.L1.GetLatency.Count, "one MGET")
			require.EqualValues(t, 1, s.L2.GetLatency.Count-before.L2.GetLatency.Count, "one query")
			require.EqualValues(t, 1, s.L2.SetLatency.Count-before.L2.SetLatency.Count, "L3 hits warm L2 in one write")

			// The hits below L1 were warmed: everything found is now in L1.
			cacheFlush(t, full)
			_, tiers = full.GetMany(cacheCtx, keys)
			require.Equal(t, []string{"l1", "l1", "l1", "", "", "l1", "l1"}, tiers)
			for _, k := range []string{"10.4.0.3", "2001:db8::4"} {
				_, ok := cacheRow(t, db, du, k)
				require.True(t, ok, "%s warmed into L2", k)
			}

			// SetMany writes every tier in one round trip each; a repeated key keeps its last value.
			var items []cache.Item
			var ks []string
			for i := range 300 {
				ip := "10.5." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
				ks = append(ks, ip)
				items = append(items, cache.Item{Key: ip, Value: cacheValue(ip, "cloud"), L1TTL: time.Hour})
			}
			last := cacheValue("10.5.0.0", "tor")
			items = append(items, cache.Item{Key: "../x", Value: last}, cache.Item{Key: "10.5.0.0", Value: last})
			before = full.Stats()
			full.SetMany(cacheCtx, items)
			cacheFlush(t, full)
			s = full.Stats()
			require.EqualValues(t, 1, s.L1.SetLatency.Count-before.L1.SetLatency.Count, "one pipeline")
			require.EqualValues(t, 1, s.L2.SetLatency.Count-before.L2.SetLatency.Count, "one transaction")
			require.EqualValues(t, 300, s.L2.Writes-before.L2.Writes)
			require.EqualValues(t, 300, s.L3.Writes-before.L3.Writes)
			require.EqualValues(t, 1, s.InvalidKeys-before.InvalidKeys)
			require.Equal(t, 300+3, cacheCount(t, db, du, cache.Service), "the new rows and the three seeded or warmed")
			n, err := rc.Exists(cacheCtx, "ip_classification:10.5.1.43", "ip_classification:10.5.0.7").Result()
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			require.FileExists(t, filepath.Join(dir, "10/5/1/43.json"))
			got, _ := cacheRow(t, db, du, "10.5.0.0")
			require.Equal(t, "tor", cacheIPType(t, got))
			vals, tiers = full.GetMany(cacheCtx, ks)
			for i := range ks {
				require.Equal(t, "l1", tiers[i], ks[i])
				require.NotNil(t, vals[i])
			}
			require.Equal(t, "tor", cacheIPType(t, vals[0]))
		})
	}
}

func TestCacheStatsJSONNames(t *testing.T) {
	c := cacheOpen(t, cache.Config{Dir: t.TempDir()})
	cacheSet(t, c, "10.6.0.1", "tor")
	c.Get(cacheCtx, "10.6.0.1")
	c.Get(cacheCtx, "10.6.0.2")
	b, err := json.Marshal(c.Stats())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"cache_hits", "cache_misses", "l1_hits", "l2_hits", "l3_hits", "errors", "invalid_keys", "l1", "l2", "l3"} {
		assert.Contains(t, m, k)
	}
	l3 := m["l3"].(map[string]any)
	for _, k := range []string{"enabled", "backend", "up", "hits", "misses", "corrupt", "errors", "skipped", "writes", "get_latency", "set_latency"} {
		assert.Contains(t, l3, k)
	}
	require.Equal(t, true, l3["enabled"])
	require.Equal(t, false, m["l1"].(map[string]any)["enabled"])
	lat := l3["get_latency"].(map[string]any)
	for _, k := range []string{"count", "sum_us", "p50_us", "p99_us"} {
		assert.Contains(t, lat, k)
	}
	require.EqualValues(t, 2, lat["count"])
}
