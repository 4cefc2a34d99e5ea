package cache_test

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
)

// cacheCtx is the context of every cache call in the tests.
var cacheCtx = context.Background()

// cacheOpen opens a cache with the tests' validity check and a silent
// logger, closed at cleanup.
func cacheOpen(tb testing.TB, cfg cache.Config, opts ...cache.Option) *cache.Cache {
	tb.Helper()
	opts = append([]cache.Option{cache.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	c, err := cache.Open(cfg, cacheValid, opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, c.Close()) })
	return c
}

// cacheBackend is one L2 database under test.
type cacheBackend struct {
	name string
	url  func(testing.TB) string
}

// cacheL2Backends are the SQL backends every L2 test runs against.
var cacheL2Backends = []cacheBackend{
	{"sqlite", cacheSQLiteURL},
	{"postgres", cachePostgresURL},
}

// cacheSQLiteURL is a fresh SQLite file in the test's temp dir.
func cacheSQLiteURL(tb testing.TB) string {
	return "sqlite://" + filepath.Join(tb.TempDir(), "cache.db")
}

// cacheSet stores a fresh value of type typ under ip, waits until the
// writers have stored it, and returns it.
func cacheSet(tb testing.TB, c *cache.Cache, ip, typ string) []byte {
	tb.Helper()
	v := cacheValue(ip, typ)
	c.Set(cacheCtx, cache.Item{Key: ip, Value: v, L1TTL: time.Hour})
	cacheFlush(tb, c)
	return v
}

// cacheFlush waits until every queued write is stored (or dropped).
func cacheFlush(tb testing.TB, c *cache.Cache) {
	tb.Helper()
	require.NoError(tb, c.Flush(cacheCtx))
}

// cacheRequireHit asserts that Get answers ip from tier with value want
// (compared as JSON: PostgreSQL jsonb reorders keys).
func cacheRequireHit(tb testing.TB, c *cache.Cache, ip, tier string, want []byte) {
	tb.Helper()
	cacheFlush(tb, c) // what earlier calls queued (values, warming) is stored
	v, got, ok := c.Get(cacheCtx, ip)
	require.True(tb, ok, "Get(%s) should hit %s", ip, tier)
	require.Equal(tb, tier, got, "Get(%s) tier", ip)
	if want != nil {
		require.JSONEq(tb, string(want), string(v))
	}
}

// cacheRequireMiss asserts that Get misses ip.
func cacheRequireMiss(tb testing.TB, c *cache.Cache, ip string) {
	tb.Helper()
	cacheFlush(tb, c)
	v, tier, ok := c.Get(cacheCtx, ip)
	require.False(tb, ok, "Get(%s) should miss, got %s from %q", ip, v, tier)
	require.Nil(tb, v)
	require.Empty(tb, tier)
}

// cacheRow reads our row for ip: its value and whether it exists.
func cacheRow(tb testing.TB, db *sql.DB, dbURL, ip string) ([]byte, bool) {
	tb.Helper()
	var v []byte
	err := db.QueryRow(cacheQ(dbURL, `SELECT cache_value FROM enrichment_cache WHERE service = ? AND cache_key = ?`),
		cache.Service, ip).Scan(&v)
	if err == sql.ErrNoRows {
		return nil, false
	}
	require.NoError(tb, err)
	return v, true
}

// cacheRowExpiry reads expires_at of our row for ip.
func cacheRowExpiry(tb testing.TB, db *sql.DB, dbURL, ip string) time.Time {
	tb.Helper()
	q := cacheQ(dbURL, `SELECT expires_at FROM enrichment_cache WHERE service = ? AND cache_key = ?`)
	if strings.HasPrefix(dbURL, "postgres") {
		var t time.Time
		require.NoError(tb, db.QueryRow(q, cache.Service, ip).Scan(&t))
		return t
	}
	// Read the raw text (go-sqlite3 would parse a DATETIME column).
	q = strings.Replace(q, "SELECT expires_at", "SELECT CAST(expires_at AS TEXT)", 1)
	var s string
	require.NoError(tb, db.QueryRow(q, cache.Service, ip).Scan(&s))
	t, err := time.Parse("2006-01-02 15:04:05.000000", s)
	require.NoError(tb, err, "SQLite expires_at %q is not in SQLAlchemy's text form", s)
	return t
}

// cacheCount counts rows of service.
func cacheCount(tb testing.TB, db *sql.DB, dbURL, service string) int {
	tb.Helper()
	var n int
	require.NoError(tb, db.QueryRow(cacheQ(dbURL, `SELECT count(*) FROM enrichment_cache WHERE service = ?`), service).Scan(&n))
	return n
}

// cacheFiles lists the regular files under dir, relative, sorted.
func cacheFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}
