package cache_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// cacheClearTiers is one cache with all three tiers and plain handles on
// what each tier holds.
type cacheClearTiers struct {
	c       *cache.Cache
	rc      *redis.Client
	db      *sql.DB
	dbURL   string
	dir     string
	backend string
}

func cacheClearOpen(t *testing.T, be cacheBackend) cacheClearTiers {
	t.Helper()
	ru, du, dir := cacheRedisURL(t), be.url(t), t.TempDir()
	return cacheClearTiers{
		c:  cacheOpen(t, cache.Config{RedisURL: ru, DatabaseURL: du, Dir: dir}),
		rc: cacheRedisClient(t, ru), db: cacheSQL(t, du), dbURL: du, dir: dir, backend: be.name,
	}
}

// inL1, inL2 and inL3 read ip's value straight from one tier (nil: absent).
func (x cacheClearTiers) inL1(t *testing.T, ip string) []byte {
	t.Helper()
	v, err := x.rc.Get(cacheCtx, "ip_classification:"+ip).Bytes()
	if err == redis.Nil {
		return nil
	}
	require.NoError(t, err)
	return v
}

func (x cacheClearTiers) inL2(t *testing.T, ip string) []byte {
	t.Helper()
	v, _ := cacheRow(t, x.db, x.dbURL, ip)
	return v
}

func (x cacheClearTiers) inL3(t *testing.T, ip string) []byte {
	t.Helper()
	v, err := os.ReadFile(cacheClearPath(x.dir, ip))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return v
}

// requireEverywhere asserts that every tier holds want for ip (compared as
// JSON: PostgreSQL jsonb reorders keys).
func (x cacheClearTiers) requireEverywhere(t *testing.T, ip string, want []byte) {
	t.Helper()
	for tier, got := range map[string][]byte{"l1": x.inL1(t, ip), "l2": x.inL2(t, ip), "l3": x.inL3(t, ip)} {
		require.NotNil(t, got, "%s must still hold %s", tier, ip)
		require.JSONEq(t, string(want), string(got), "%s value of %s", tier, ip)
	}
}

// requireNowhere asserts that no tier holds ip.
func (x cacheClearTiers) requireNowhere(t *testing.T, ip string) {
	t.Helper()
	require.Nil(t, x.inL1(t, ip), "l1 must no longer hold %s", ip)
	require.Nil(t, x.inL2(t, ip), "l2 must no longer hold %s", ip)
	require.NoFileExists(t, cacheClearPath(x.dir, ip), "l3 must no longer hold %s", ip)
}

// cacheClearPath is the L3 file of the few addresses these tests use.
func cacheClearPath(dir, ip string) string {
	switch ip {
	case "2001:db8::20":
		return filepath.Join(dir, "v6/2001/0db8/0000/0000/0000/0000/0000/0020.json")
	case "2001:db8::21":
		return filepath.Join(dir, "v6/2001/0db8/0000/0000/0000/0000/0000/0021.json")
	}
	var a, b, c, d int
	_, err := fmt.Sscanf(ip, "%d.%d.%d.%d", &a, &b, &c, &d)
	if err != nil {
		panic("cacheClearPath: " + ip)
	}
	return filepath.Join(dir, fmt.Sprint(a), fmt.Sprint(b), fmt.Sprint(c), fmt.Sprint(d)+".json")
}

// cacheClearInsertOther writes a row of another service, as upstream would.
func cacheClearInsertOther(t *testing.T, x cacheClearTiers, service, key, value string) {
	t.Helper()
	stamp := func(d time.Duration) any {
		tm := time.Now().UTC().Add(d)
		if x.backend == "sqlite" {
			return tm.Format("2006-01-02 15:04:05.000000")
		}
		return tm
	}
	_, err := x.db.Exec(cacheQ(x.dbURL, `INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		service, key, value, stamp(0), stamp(24*time.Hour))
	require.NoError(t, err)
}

// cacheClearOtherValue reads the value of another service's row.
func cacheClearOtherValue(t *testing.T, x cacheClearTiers, service, key string) string {
	t.Helper()
	var v string
	require.NoError(t, x.db.QueryRow(cacheQ(x.dbURL, `SELECT cache_value FROM enrichment_cache WHERE service = ? AND cache_key = ?`), service, key).Scan(&v),
		"the %s row %s must survive", service, key)
	return v
}

func TestCacheClearWhereRemovesOnlyTheSelectedAnswersFromEveryTier(t *testing.T) {
	for _, be := range cacheL2Backends {
		t.Run(be.name, func(t *testing.T) {
			x := cacheClearOpen(t, be)

			// Answers of ours in every tier: two unknown, one cloud, one tor.
			cacheSet(t, x.c, "10.20.0.1", "unknown")
			cacheSet(t, x.c, "2001:db8::20", "unknown")
			cloud := cacheSet(t, x.c, "10.20.0.2", "cloud")
			tor := cacheSet(t, x.c, "10.20.1.1", "tor")
			// Values of ours that are not an object whose ip_type is the
			// string "unknown": a filter on the type must keep them.
			kept := []struct {
				ip, value, why string
			}{
				{"10.20.2.1", `{"ip_type": "Unknown", "ip": "10.20.2.1"}`, "the type is compared exactly"},
				{"10.20.2.2", `{"ip_type": ["unknown"], "ip": "10.20.2.2"}`, "the member is not a string"},
				{"10.20.2.3", `{"type": "unknown", "ip": "10.20.2.3"}`, "another member holds the word"},
				{"10.20.2.4", `["unknown"]`, "not an object"},
			}
			for _, k := range kept {
				x.c.Set(cacheCtx, cache.Item{Key: k.ip, Value: []byte(k.value), L1TTL: time.Hour})
			}
			// Another service's data, even one that looks like an unknown answer.
			other := `{"ip_type": "unknown", "count": 3}`
			cacheClearInsertOther(t, x, "dshield", "10.20.0.1", other)
			require.NoError(t, x.rc.Set(cacheCtx, "someone_else:10.20.0.1", other, time.Minute).Err())
			t.Cleanup(func() { x.rc.Del(cacheCtx, "someone_else:10.20.0.1") })
			foreign := filepath.Join(x.dir, "notes.json")
			require.NoError(t, os.WriteFile(foreign, []byte(other), 0o644))
			require.Zero(t, x.c.Stats().Errors, "seeding wrote every tier")

			r, err := x.c.ClearWhere(cacheCtx, "ip_type", "unknown")
			require.NoError(t, err)
			require.Equal(t, cache.CleanupReport{L1Keys: 2, L2Rows: 2, L3Files: 2, L3Dirs: 8}, r,
				"two unknown answers per tier; the IPv6 file leaves its 8 directories empty")
			x.requireNowhere(t, "10.20.0.1")
			x.requireNowhere(t, "2001:db8::20")
			x.requireEverywhere(t, "10.20.0.2", cloud)
			x.requireEverywhere(t, "10.20.1.1", tor)
			for _, k := range kept {
				t.Run(k.why, func(t *testing.T) { x.requireEverywhere(t, k.ip, []byte(k.value)) })
			}
			require.JSONEq(t, other, cacheClearOtherValue(t, x, "dshield", "10.20.0.1"))
			require.NoError(t, x.rc.Get(cacheCtx, "someone_else:10.20.0.1").Err(), "another service's Redis key survives")
			require.FileExists(t, foreign)
			cacheRequireHit(t, x.c, "10.20.0.2", cache.TierL1, cloud)
			cacheRequireMiss(t, x.c, "10.20.0.1")

			// A second pass finds nothing more to clear.
			r, err = x.c.ClearWhere(cacheCtx, "ip_type", "unknown")
			require.NoError(t, err)
			require.Equal(t, cache.CleanupReport{}, r)

			// Clearing everything empties every tier of ours, and only ours.
			r, err = x.c.Clear(cacheCtx)
			require.NoError(t, err)
			require.Equal(t, int64(2+len(kept)), r.L1Keys)
			require.Equal(t, int64(2+len(kept)), r.L2Rows)
			require.Equal(t, int64(2+len(kept)), r.L3Files)
			for _, ip := range []string{"10.20.0.2", "10.20.1.1", "10.20.2.1", "10.20.2.4"} {
				x.requireNowhere(t, ip)
			}
			keys, err := x.rc.Keys(cacheCtx, "ip_classification:*").Result()
			require.NoError(t, err)
			require.Empty(t, keys, "no L1 key of ours is left")
			require.Zero(t, cacheCount(t, x.db, x.dbURL, cache.Service), "no L2 row of ours is left")
			require.Equal(t, []string{"notes.json"}, cacheFiles(t, x.dir), "no L3 file of ours is left")
			require.JSONEq(t, other, cacheClearOtherValue(t, x, "dshield", "10.20.0.1"))
			require.NoError(t, x.rc.Get(cacheCtx, "someone_else:10.20.0.1").Err())
		})
	}
}

func TestCacheClearWhereKeepsValuesThatAreNotJSON(t *testing.T) {
	// PostgreSQL's jsonb column cannot hold such a value; SQLite, Redis and
	// files can, and a filtered clear must neither fail on it nor remove it.
	x := cacheClearOpen(t, cacheBackend{"sqlite", cacheSQLiteURL})
	const garbage = `{"ip_type": "unknown", tru`
	ip := "10.21.0.1"
	require.NoError(t, x.rc.Set(cacheCtx, "ip_classification:"+ip, garbage, time.Hour).Err())
	cacheClearInsertOther(t, x, cache.Service, ip, garbage)
	require.NoError(t, os.MkdirAll(filepath.Dir(cacheClearPath(x.dir, ip)), 0o755))
	require.NoError(t, os.WriteFile(cacheClearPath(x.dir, ip), []byte(garbage), 0o644))
	cacheSet(t, x.c, "10.21.0.2", "unknown")

	r, err := x.c.ClearWhere(cacheCtx, "ip_type", "unknown")
	require.NoError(t, err)
	require.Equal(t, cache.CleanupReport{L1Keys: 1, L2Rows: 1, L3Files: 1}, r)
	x.requireNowhere(t, "10.21.0.2")
	require.Equal(t, garbage, string(x.inL1(t, ip)))
	require.Equal(t, garbage, string(x.inL2(t, ip)))
	require.Equal(t, garbage, string(x.inL3(t, ip)))
}

func TestCacheClearWhereOnEveryPostgresValueType(t *testing.T) {
	// An upstream table may hold cache_value as jsonb (ours), json (the
	// SQLAlchemy model) or text.
	for _, typ := range []string{"JSONB", "JSON", "TEXT"} {
		t.Run(typ, func(t *testing.T) {
			du := cachePostgresURL(t)
			db := cacheSQL(t, du)
			_, err := db.Exec(`CREATE TABLE enrichment_cache (
	id SERIAL PRIMARY KEY,
	service VARCHAR(64) NOT NULL,
	cache_key VARCHAR(256) NOT NULL,
	cache_value ` + typ + ` NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	expires_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT uq_enrichment_cache_service_key UNIQUE (service, cache_key))`)
			require.NoError(t, err)
			x := cacheClearTiers{c: cacheOpen(t, cache.Config{DatabaseURL: du}), db: db, dbURL: du, backend: "postgres"}
			cacheSet(t, x.c, "10.22.0.1", "unknown")
			cloud := cacheSet(t, x.c, "10.22.0.2", "cloud")
			other := `{"ip_type": "unknown"}`
			if typ == "TEXT" {
				other = "plain text, not JSON" // another service's business
			}
			cacheClearInsertOther(t, x, "virustotal", "10.22.0.1", other)

			r, err := x.c.ClearWhere(cacheCtx, "ip_type", "unknown")
			require.NoError(t, err)
			require.Equal(t, cache.CleanupReport{L2Rows: 1}, r)
			require.Nil(t, x.inL2(t, "10.22.0.1"))
			require.JSONEq(t, string(cloud), string(x.inL2(t, "10.22.0.2")))
			require.Equal(t, other, cacheClearOtherValue(t, x, "virustotal", "10.22.0.1"))

			if typ != "TEXT" {
				return
			}
			// On text, a row of ours that is not JSON cannot be checked in
			// SQL: the filtered clear fails, saying so, and deletes nothing;
			// Clear removes it.
			cacheSet(t, x.c, "10.22.0.3", "unknown")
			cacheClearInsertOther(t, x, cache.Service, "10.22.0.4", "not json")
			r, err = x.c.ClearWhere(cacheCtx, "ip_type", "unknown")
			require.ErrorContains(t, err, "not JSON")
			require.Zero(t, r.L2Rows)
			require.NotNil(t, x.inL2(t, "10.22.0.3"))
			r, err = x.c.Clear(cacheCtx)
			require.NoError(t, err)
			require.EqualValues(t, 3, r.L2Rows)
			require.Equal(t, other, cacheClearOtherValue(t, x, "virustotal", "10.22.0.1"))
		})
	}
}

func TestCacheClearWhereRefusesAFieldThatIsNotAMemberName(t *testing.T) {
	dir := t.TempDir()
	c := cacheOpen(t, cache.Config{Dir: dir, DatabaseURL: cacheSQLiteURL(t)})
	v := cacheSet(t, c, "10.23.0.1", "unknown")
	for _, field := range []string{"", "ip type", "$.ip_type", "ip_type'--", "1st", "a.b", strings.Repeat("a", 65)} {
		t.Run(fmt.Sprintf("%q", field), func(t *testing.T) {
			r, err := c.ClearWhere(cacheCtx, field, "unknown")
			require.ErrorContains(t, err, "field")
			require.Equal(t, cache.CleanupReport{}, r)
			cacheRequireHit(t, c, "10.23.0.1", cache.TierL2, v)
		})
	}
}

func TestEngineClearCacheRemovesOneTypeOfAnswer(t *testing.T) {
	for _, be := range cacheL2Backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := fixture.Config(t, fixture.Server(t).URL)
			cfg.Cache = cache.Config{RedisURL: cacheRedisURL(t), DatabaseURL: be.url(t), Dir: t.TempDir()}
			e := fixture.Open(t, cfg)
			classify := func(ip string) classifier.Result {
				r, err := e.Classify(ctx, ip, 0, "")
				require.NoError(t, err)
				return r
			}

			// Before any list is loaded, an AWS address is unknown — and cached.
			r := classify("3.5.140.1")
			require.Equal(t, classifier.TypeUnknown, r.Type)
			rep, err := e.Refresh(ctx, classifier.GroupAll, false)
			require.NoError(t, err)
			require.Zero(t, rep.Failed())
			tor := classify("185.220.101.1")
			require.Equal(t, classifier.TypeTor, tor.Type)
			r = classify("3.5.140.1")
			require.Equal(t, classifier.TypeCloud, r.Type, "an answer cached before the list update is not served after it")
			require.Empty(t, r.CacheTier)
			require.Equal(t, classifier.TypeUnknown, classify("198.51.100.1").Type)
			require.NoError(t, e.FlushCache(ctx)) // classify only queues its cache writes
			require.Equal(t, cache.TierL1, classify("198.51.100.1").CacheTier)

			// An unknown type name clears nothing.
			_, err = e.ClearCache(ctx, "Unknown")
			require.ErrorContains(t, err, `invalid ip_type "Unknown"`)
			require.Equal(t, cache.TierL1, classify("198.51.100.1").CacheTier)

			report, err := e.ClearCache(ctx, classifier.TypeUnknown)
			require.NoError(t, err)
			require.Equal(t, int64(1), report.L1Keys)
			require.Equal(t, int64(1), report.L2Rows)
			require.Equal(t, int64(1), report.L3Files)
			r = classify("198.51.100.1")
			require.Equal(t, classifier.TypeUnknown, r.Type)
			require.Empty(t, r.CacheTier, "cleared: computed, not cached")
			r = classify("185.220.101.1")
			require.Equal(t, classifier.TypeTor, r.Type)
			require.Equal(t, cache.TierL1, r.CacheTier, "answers of other types stay cached")
			require.Equal(t, cache.TierL1, classify("3.5.140.1").CacheTier)

			// An empty type clears every answer.
			report, err = e.ClearCache(ctx, "")
			require.NoError(t, err)
			require.Equal(t, int64(3), report.L1Keys)
			require.Equal(t, int64(3), report.L2Rows)
			require.Equal(t, int64(3), report.L3Files)
			require.Empty(t, classify("185.220.101.1").CacheTier)

			require.NoError(t, e.Close())
			_, err = e.ClearCache(ctx, classifier.TypeUnknown)
			require.ErrorIs(t, err, classifier.ErrClosed)
		})
	}
}

func TestCacheClearTypeNamesAreExactlyTheFiveLabels(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want classifier.IPType
		ok   bool
	}{
		{"tor", classifier.TypeTor, true},
		{"cloud", classifier.TypeCloud, true},
		{"datacenter", classifier.TypeDatacenter, true},
		{"residential", classifier.TypeResidential, true},
		{"unknown", classifier.TypeUnknown, true},
		{"", "", false},
		{"Unknown", "", false},
		{" tor", "", false},
		{"all", "", false},
	} {
		got, err := classifier.ParseIPType(tc.in)
		if !tc.ok {
			require.ErrorContains(t, err, fmt.Sprintf("invalid ip_type %q: want one of tor, cloud, datacenter, residential, unknown", tc.in))
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}
