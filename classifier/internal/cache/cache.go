// Package cache is the answer cache of the classifier: L1 Redis, L2 SQL
// (SQLite or PostgreSQL), L3 files. It stores opaque JSON values under IP
// keys and knows nothing of classification.
//
// # Tiers
//
// Every tier is optional and switched on by its Config field; a nil *Cache,
// or one with no tier, answers every Get with a miss at the cost of a nil
// check.
//
//   - L1, Redis (RedisURL): key "ip_classification:{ip}", the JSON value,
//     TTL Item.L1TTL (1 h when zero). A value warmed from a lower tier lives
//     Config.L1WarmTTL (default 1 h, the shortest answer TTL), and never past
//     the lower tier's own expiry when that is known (L3).
//   - L2, SQL (DatabaseURL): table enrichment_cache, one row per key with
//     service = "ip_classification" and cache_key = ip; expires_at =
//     now + Config.L2TTL (default 7 days) enforced on read; upsert on write.
//     SQLite (github.com/mattn/go-sqlite3, WAL) and PostgreSQL (pgx) share
//     the code. The table and its unique index on (service, cache_key) are
//     created when missing; a table created upstream by SQLAlchemy with the
//     same columns is reused and other services' rows are never touched.
//     SQLite timestamps are stored in SQLAlchemy's text form
//     "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, so both sides compare them.
//   - L3, files (Dir): one file per key holding the JSON value. IPv4
//     a.b.c.d is Dir/a/b/c/d.json (decimal octets). IPv6 is
//     Dir/v6/g0/g1/g2/g3/g4/g5/g6/g7.json, the eight 16-bit groups of the
//     address as four lower-case hex digits each (2001:db8::1 is
//     Dir/v6/2001/0db8/0000/0000/0000/0000/0000/0001.json): every directory
//     holds at most 256 (IPv4) or 65536 (IPv6) entries whatever the traffic.
//     Paths are built from the parsed address bytes, never from the key
//     text. Writes go to a temporary file in the target directory that is
//     renamed over the final name, so a reader sees the old or the new file,
//     never a torn one. The file's modification time is its write time; the
//     value expires at mtime + Config.L3TTL (default 30 days), checked on
//     read; Cleanup removes expired files and empty directories.
//
// Get cascades L1 → L2 → L3; a hit warms the tiers above it (an L2 hit is
// written to L1, an L3 hit to L1 and L2). GetMany makes one round trip per
// tier (Redis: one MGET per 1,000 keys).
//
// # Writes
//
// Set and SetMany never wait on a tier: they put the values in each
// enabled tier's write-behind queue and return. One goroutine per tier
// writes its queue in batches — Redis pipelines of 500 values (on a client
// of its own with timeouts of at least 1 s), one SQL
// transaction (PostgreSQL: one statement) per 2,000 rows, files one by one
// — so a lock held by another process or a slow network delays the cache,
// never the caller. A queue holds at most Config.QueueSize values (default
// DefaultQueue); when full, the oldest are dropped. While a tier is backing
// off the writer waits and the values stay queued. Every value that does
// not reach its tier is counted in TierStats.Dropped. Flush waits until
// what was queued is written; Close flushes, then closes.
//
// # Maintenance
//
// Cleanup removes expired rows and files. Clear removes every entry of ours
// from every tier; ClearWhere only the entries whose JSON value has a given
// string member (the engine clears its cached unknown answers after a list
// update with ClearWhere(ctx, "ip_type", "unknown")). Redis and files cannot
// be queried by value, so ClearWhere reads and checks each entry of ours
// there; SQL checks it in the DELETE. Other services' keys, rows and files
// are never touched.
//
// # Keys
//
// Every key is re-validated before it reaches a Redis key, an SQL statement
// or a path: it must parse with net/netip, carry no zone and be the
// address's canonical text (addr.String() == key). Anything else is a miss
// or a no-op and is counted in Stats.InvalidKeys.
//
// # Failures
//
// A tier that fails is skipped and counted, never fatal, and no error
// reaches the caller of Get or Set. A stored value that the validity check
// refuses is counted as corrupt and treated as a miss; the cascade goes on
// and the next Set overwrites it. After a failure a tier backs off for
// Config.RetryMS (default 1 s): meanwhile its operations are skipped
// (Stats.*.Skipped, Up = false), then one call probes it and a success
// brings it back. Reads and writes back off separately (a SQLite write lock
// does not stop WAL readers). Open fails only on a malformed configuration;
// a server that cannot be reached at Open is logged and retried the same
// way. Redis uses short timeouts (dial 150 ms, read/write 100 ms, one dial
// attempt, no command retries) unless the URL sets them; PostgreSQL gets
// connect_timeout=2 and Config.L2TimeoutMS (default 1 s) per operation;
// SQLite gets _busy_timeout=5000 unless the URL sets it.
package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"
)

// Tier names reported by Get and GetMany.
const (
	TierL1 = "l1"
	TierL2 = "l2"
	TierL3 = "l3"
)

// Service is the service column of our rows in enrichment_cache.
const Service = "ip_classification"

// Default time-to-live and retry values used when the Config leaves them 0.
const (
	DefaultL1TTL     = time.Hour
	DefaultL1WarmTTL = time.Hour
	DefaultL2TTL     = 7 * 24 * time.Hour
	DefaultL3TTL     = 30 * 24 * time.Hour
	DefaultRetry     = time.Second
	DefaultL2Timeout = time.Second
)

// maxValue bounds a stored value; a larger one is refused on write and is
// corrupt on read.
const maxValue = 1 << 20

// Config selects and configures the tiers. The zero value enables no tier.
type Config struct {
	// RedisURL enables L1 (redis://[:password@]host:port/db); "" = off.
	// Query parameters of go-redis (dial_timeout, read_timeout, …) override
	// the short defaults.
	RedisURL string `json:"redis_url,omitempty"`
	// DatabaseURL enables L2: sqlite:///abs/path.db, sqlite://relative.db,
	// a plain file path, or postgresql://user:pass@host:port/db (also
	// postgres:// and SQLAlchemy's postgresql+driver://); "" = off. A SQLite
	// URL's query is passed to go-sqlite3 (e.g. ?_busy_timeout=100).
	DatabaseURL string `json:"database_url,omitempty"`
	// Dir enables L3 files under this directory; "" = off.
	Dir string `json:"dir,omitempty"`
	// DefaultTiers asks the engine to fill an empty Dir and DatabaseURL with
	// the embedded default under its data directory (disk + SQLite). The
	// cache itself ignores it.
	DefaultTiers bool `json:"default_tiers,omitempty"`
	// L1WarmTTL is the Redis TTL, in seconds, of a value copied up from L2
	// or L3 (0 = 3600).
	L1WarmTTL int `json:"l1_warm_ttl,omitempty"`
	// L2TTL is the SQL row lifetime in seconds (0 = 7 days).
	L2TTL int `json:"l2_ttl,omitempty"`
	// L3TTL is the file lifetime in seconds (0 = 30 days).
	L3TTL int `json:"l3_ttl,omitempty"`
	// L2TimeoutMS bounds one PostgreSQL operation, in milliseconds (0 = 1000).
	L2TimeoutMS int `json:"l2_timeout_ms,omitempty"`
	// RetryMS is how long a failed tier is skipped before it is probed
	// again, in milliseconds (0 = 1000).
	RetryMS int `json:"retry_ms,omitempty"`
	// QueueSize bounds each tier's write-behind queue, in values
	// (0 = DefaultQueue).
	QueueSize int `json:"queue_size,omitempty"`
}

// Option adjusts Open beyond the Config.
type Option func(*options)

type options struct {
	log *slog.Logger
	now func() time.Time
}

// WithLogger sends tier up/down transitions and Open warnings to log
// (default slog.Default()).
func WithLogger(log *slog.Logger) Option {
	return func(o *options) {
		if log != nil {
			o.log = log
		}
	}
}

// WithClock replaces time.Now for expiry decisions (tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Item is one value to store, with its L1 time to live (0 = 1 h).
type Item struct {
	Key   string
	Value []byte
	L1TTL time.Duration
}

// CleanupReport counts what Cleanup, Clear or ClearWhere removed.
type CleanupReport struct {
	// L1Keys are Redis keys deleted (Clear and ClearWhere only; Redis
	// expires keys itself).
	L1Keys int64 `json:"l1_keys"`
	// L2Rows are enrichment_cache rows of our service deleted.
	L2Rows int64 `json:"l2_rows"`
	// L3Files and L3Dirs are files and emptied directories removed.
	L3Files int64 `json:"l3_files"`
	L3Dirs  int64 `json:"l3_dirs"`
	// L3Skipped counts files or directories that could not be read or
	// removed (read-only or unreadable); they are not errors.
	L3Skipped int64 `json:"l3_skipped"`
}

// Cache is the tiered cache; a nil *Cache is a cache with no tier. It is safe
// for concurrent use.
type Cache struct {
	on     bool // at least one tier configured
	closed atomic.Bool
	l1     *redisTier
	l2     *sqlTier
	l3     *diskTier
	// q1, q2 and q3 are the write-behind queues of the enabled tiers.
	q1, q2, q3 *writeQueue

	valid   func([]byte) bool
	now     func() time.Time
	warmTTL time.Duration

	hits, misses, invalid  atomic.Int64
	l1Hits, l2Hits, l3Hits atomic.Int64
}

// Open connects the tiers in cfg. valid tells a stored value from a corrupt
// one (nil accepts any JSON object). Open fails only when cfg is malformed
// (bad URL, unsupported database); an unreachable server is logged and its
// tier retried later.
func Open(cfg Config, valid func([]byte) bool, opts ...Option) (*Cache, error) {
	o := options{log: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if valid == nil {
		valid = isJSONObject
	}
	retry := msOr(cfg.RetryMS, DefaultRetry)
	c := &Cache{valid: valid, now: o.now, warmTTL: secondsOr(cfg.L1WarmTTL, DefaultL1WarmTTL)}
	var err error
	if cfg.RedisURL != "" {
		if c.l1, err = openRedis(cfg.RedisURL, o.log, retry); err != nil {
			return nil, err
		}
	}
	if cfg.DatabaseURL != "" {
		c.l2, err = openSQL(cfg.DatabaseURL, secondsOr(cfg.L2TTL, DefaultL2TTL),
			msOr(cfg.L2TimeoutMS, DefaultL2Timeout), o.log, retry)
		if err != nil {
			c.l1.close()
			return nil, err
		}
	}
	if cfg.Dir != "" {
		c.l3 = openDisk(cfg.Dir, secondsOr(cfg.L3TTL, DefaultL3TTL), o.log, retry)
	}
	c.on = c.l1 != nil || c.l2 != nil || c.l3 != nil
	c.startQueues(cfg.QueueSize)
	return c, nil
}

// startQueues starts one writer per enabled tier. Writers use a context of
// their own: a caller's context ends with its call, the queued values
// outlive it.
func (c *Cache) startQueues(size int) {
	if size <= 0 {
		size = DefaultQueue
	}
	ctx := context.Background()
	if l1 := c.l1; l1 != nil {
		c.q1 = newQueue(&l1.tier, size, redisBatch, func(es []entry) int { return l1.set(ctx, es) })
	}
	if l2 := c.l2; l2 != nil {
		c.q2 = newQueue(&l2.tier, size, sqlBatch, func(es []entry) int { return l2.set(ctx, es, c.now()) })
	}
	if l3 := c.l3; l3 != nil {
		c.q3 = newQueue(&l3.tier, size, diskBatch, l3.set)
	}
}

// isJSONObject is the default validity check.
func isJSONObject(v []byte) bool {
	return len(v) > 1 && v[0] == '{' && json.Valid(v)
}

func secondsOr(s int, def time.Duration) time.Duration {
	if s <= 0 {
		return def
	}
	return time.Duration(s) * time.Second
}

func msOr(ms int, def time.Duration) time.Duration {
	if ms <= 0 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

// validKey tells whether key is the canonical text of an IP address without
// zone: the only form allowed to reach a Redis key, SQL or a path.
func validKey(key string) bool {
	if len(key) < 2 || len(key) > 45 {
		return false
	}
	a, err := netip.ParseAddr(key)
	if err != nil || a.Zone() != "" {
		return false
	}
	var buf [64]byte
	return string(a.AppendTo(buf[:0])) == key
}

// active tells whether any tier may be used.
func (c *Cache) active() bool { return c != nil && c.on && !c.closed.Load() }

// Get returns the value of key from the first tier that has it, and that
// tier's name (TierL1, TierL2 or TierL3). An L2 hit is copied to L1, an L3
// hit to L1 and L2.
func (c *Cache) Get(ctx context.Context, key string) (val []byte, tier string, ok bool) {
	if !c.active() {
		return nil, "", false
	}
	if !validKey(key) {
		c.invalid.Add(1)
		c.misses.Add(1)
		return nil, "", false
	}
	if c.l1 != nil {
		if v, ok := c.l1.get(ctx, key, c.valid); ok {
			c.hits.Add(1)
			c.l1Hits.Add(1)
			return v, TierL1, true
		}
	}
	now := c.now()
	if c.l2 != nil {
		if v, ok := c.l2.get(ctx, key, now, c.valid); ok {
			c.hits.Add(1)
			c.l2Hits.Add(1)
			c.q1.push([]entry{{key: key, val: v, ttl: c.warmTTL}})
			return v, TierL2, true
		}
	}
	if c.l3 != nil {
		if v, exp, ok := c.l3.get(key, now, c.valid); ok {
			c.hits.Add(1)
			c.l3Hits.Add(1)
			e := []entry{{key: key, val: v, ttl: min(c.warmTTL, exp.Sub(now)), exp: exp}}
			c.warm(e, true)
			return v, TierL3, true
		}
	}
	c.misses.Add(1)
	return nil, "", false
}

// warm queues values found in L2 (toL2 false) or L3 (toL2 true) for the
// tiers above.
func (c *Cache) warm(es []entry, toL2 bool) {
	c.q1.push(es)
	if toL2 {
		c.q2.push(es)
	}
}

// GetMany is Get for many keys with one round trip per tier; vals[i] is nil
// and tiers[i] "" on a miss. Duplicate keys are allowed.
func (c *Cache) GetMany(ctx context.Context, keys []string) (vals [][]byte, tiers []string) {
	vals, tiers = make([][]byte, len(keys)), make([]string, len(keys))
	if !c.active() || len(keys) == 0 {
		return vals, tiers
	}
	// pending[i] are the indexes of keys still missing.
	pending := make([]int, 0, len(keys))
	for i, k := range keys {
		if validKey(k) {
			pending = append(pending, i)
			continue
		}
		c.invalid.Add(1)
		c.misses.Add(1)
	}
	fill := func(found map[string][]byte, tier string, hits *atomic.Int64) {
		rest := pending[:0]
		for _, i := range pending {
			if v, ok := found[keys[i]]; ok {
				vals[i], tiers[i] = v, tier
				c.hits.Add(1)
				hits.Add(1)
				continue
			}
			rest = append(rest, i)
		}
		pending = rest
	}
	if c.l1 != nil && len(pending) > 0 {
		fill(c.l1.getMany(ctx, pick(keys, pending), c.valid), TierL1, &c.l1Hits)
	}
	now := c.now()
	if c.l2 != nil && len(pending) > 0 {
		found := c.l2.getMany(ctx, pick(keys, pending), now, c.valid)
		fill(found, TierL2, &c.l2Hits)
		c.warm(entries(found, c.warmTTL), false)
	}
	if c.l3 != nil && len(pending) > 0 {
		found, exps := c.l3.getMany(pick(keys, pending), now, c.valid)
		fill(found, TierL3, &c.l3Hits)
		es := make([]entry, 0, len(found))
		for k, v := range found {
			es = append(es, entry{key: k, val: v, ttl: min(c.warmTTL, exps[k].Sub(now)), exp: exps[k]})
		}
		c.warm(es, true)
	}
	c.misses.Add(int64(len(pending)))
	return vals, tiers
}

// pick returns the distinct keys at the given indexes.
func pick(keys []string, idx []int) []string {
	seen := make(map[string]struct{}, len(idx))
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		if _, dup := seen[keys[i]]; !dup {
			seen[keys[i]] = struct{}{}
			out = append(out, keys[i])
		}
	}
	return out
}

// entries turns values found in L2 into L1 warming entries.
func entries(found map[string][]byte, ttl time.Duration) []entry {
	es := make([]entry, 0, len(found))
	for k, v := range found {
		es = append(es, entry{key: k, val: v, ttl: ttl})
	}
	return es
}

// entry is one value on its way to a tier: ttl is its Redis TTL, exp its
// SQL expiry (zero = now + L2TTL).
type entry struct {
	key string
	val []byte
	ttl time.Duration
	exp time.Time
}

// Set queues it for every enabled tier (see Writes in the package doc). An
// invalid key or an empty or oversized value is refused and counted.
func (c *Cache) Set(ctx context.Context, it Item) {
	if !c.active() {
		return
	}
	c.SetMany(ctx, []Item{it})
}

// SetMany queues many items for every enabled tier; a key given twice
// keeps its last value.
func (c *Cache) SetMany(ctx context.Context, items []Item) {
	if !c.active() || len(items) == 0 {
		return
	}
	es := make([]entry, 0, len(items))
	pos := make(map[string]int, len(items))
	for _, it := range items {
		if !validKey(it.Key) || len(it.Value) == 0 || len(it.Value) > maxValue {
			c.invalid.Add(1)
			continue
		}
		ttl := it.L1TTL
		if ttl <= 0 {
			ttl = DefaultL1TTL
		}
		e := entry{key: it.Key, val: it.Value, ttl: ttl}
		if i, dup := pos[it.Key]; dup {
			es[i] = e
			continue
		}
		pos[it.Key] = len(es)
		es = append(es, e)
	}
	if len(es) == 0 {
		return
	}
	c.q1.push(es)
	c.q2.push(es)
	c.q3.push(es)
}

// Flush waits until every value queued before the call is written to its
// tier or dropped (counted), or ctx ends. A tier that is down drops its
// queue instead of being waited for.
func (c *Cache) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, q := range []*writeQueue{c.q1, c.q2, c.q3} {
		if err := q.flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cache: flush %s: %w", q.t.name, err))
		}
	}
	return errors.Join(errs...)
}

// Cleanup removes expired L2 rows of our service and expired L3 files (and
// the directories they leave empty). Redis expires L1 keys itself, so L1 is
// not touched (an unreachable Redis is no error here). Files that cannot be
// removed are counted in L3Skipped, not returned as errors; the error
// reports a tier that failed as a whole, or ctx ending during the L3 sweep
// (it wraps ctx.Err(); the report counts what was removed until then).
func (c *Cache) Cleanup(ctx context.Context) (CleanupReport, error) {
	var r CleanupReport
	if c == nil || c.closed.Load() {
		return r, nil
	}
	var errs []error
	if c.l2 != nil {
		n, err := c.l2.deleteRows(ctx, c.now(), false, nil)
		r.L2Rows = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.l3 != nil {
		var err error
		r.L3Files, r.L3Dirs, r.L3Skipped, err = c.l3.sweep(ctx, c.now(), false, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("cache: L3 files: cleanup stopped: %w", err))
		}
	}
	return r, errors.Join(errs...)
}

// Stats returns a snapshot of the counters (zero for a nil Cache).
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	s := Stats{
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		L1Hits:      c.l1Hits.Load(),
		L2Hits:      c.l2Hits.Load(),
		L3Hits:      c.l3Hits.Load(),
		InvalidKeys: c.invalid.Load(),
	}
	if c.l1 != nil {
		s.L1 = c.l1.stats()
		s.L1.Queued, s.L1.Dropped = c.q1.depth(), c.q1.dropped.Load()
	}
	if c.l2 != nil {
		s.L2 = c.l2.stats()
		s.L2.Queued, s.L2.Dropped = c.q2.depth(), c.q2.dropped.Load()
	}
	if c.l3 != nil {
		s.L3 = c.l3.stats()
		s.L3.Queued, s.L3.Dropped = c.q3.depth(), c.q3.dropped.Load()
	}
	s.Errors = s.InvalidKeys + s.L1.Errors + s.L2.Errors + s.L3.Errors
	return s
}

// Close writes what is queued (a tier that is down drops its queue,
// counted), then releases connections; later calls are no-ops and the cache
// then behaves as one with no tier. Close is idempotent.
func (c *Cache) Close() error {
	if c == nil || c.closed.Swap(true) {
		return nil
	}
	for _, q := range []*writeQueue{c.q1, c.q2, c.q3} {
		q.close()
	}
	var errs []error
	if err := c.l1.close(); err != nil {
		errs = append(errs, fmt.Errorf("close redis: %w", err))
	}
	if err := c.l2.close(); err != nil {
		errs = append(errs, fmt.Errorf("close sql: %w", err))
	}
	return errors.Join(errs...)
}
