package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// redisPrefix starts every L1 key.
const redisPrefix = Service + ":"

// Short Redis defaults: a dead server must cost a classification almost
// nothing. Each applies unless the URL sets the go-redis query parameter.
const (
	redisDialTimeout  = 150 * time.Millisecond
	redisReadTimeout  = 100 * time.Millisecond
	redisWriteTimeout = 100 * time.Millisecond
	redisPoolTimeout  = 200 * time.Millisecond
	redisOpenProbe    = 500 * time.Millisecond
	// redisWriterTimeout is the least read and write timeout of the
	// write-behind writer's own client: it runs off the classify path, so
	// a loaded machine or server costs it time, not values.
	redisWriterTimeout = time.Second
)

// quietRedisLog installs redisDebugLog once per process.
var quietRedisLog sync.Once

// redisDebugLog sends go-redis's process-wide internal log (one line per
// failed dial while a server is down) to slog.Default at debug level: the
// tier logs its own up/down transitions instead.
type redisDebugLog struct{}

// Printf implements go-redis's internal Logging interface.
func (redisDebugLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// redisTier is L1.
type redisTier struct {
	tier
	rdb *redis.Client // lookups, clear: the short timeouts
	wdb *redis.Client // the write-behind writer: at least redisWriterTimeout
}

// openRedis parses rawURL, applies the short defaults and pings once; an
// unreachable server only opens the breakers.
func openRedis(rawURL string, log *slog.Logger, retry time.Duration) (*redisTier, error) {
	quietRedisLog.Do(func() { redis.SetLogger(redisDebugLog{}) })
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		// The URL may hold a password: never echo it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cache: L1 redis URL is malformed: %w", err)
	}
	q := url.Values{}
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	setDur := func(name string, dst *time.Duration, def time.Duration) {
		if !q.Has(name) {
			*dst = def
		}
	}
	setDur("dial_timeout", &opt.DialTimeout, redisDialTimeout)
	setDur("read_timeout", &opt.ReadTimeout, redisReadTimeout)
	setDur("write_timeout", &opt.WriteTimeout, redisWriteTimeout)
	setDur("pool_timeout", &opt.PoolTimeout, redisPoolTimeout)
	if !q.Has("max_retries") {
		opt.MaxRetries = -1 // our breaker retries, not every call
	}
	opt.DialerRetries = 1
	opt.ContextTimeoutEnabled = true
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	wopt := *opt // the same server and options, longer timeouts
	wopt.ReadTimeout = max(opt.ReadTimeout, redisWriterTimeout)
	wopt.WriteTimeout = max(opt.WriteTimeout, redisWriterTimeout)
	wopt.PoolSize = 2
	t := &redisTier{rdb: redis.NewClient(opt), wdb: redis.NewClient(&wopt)}
	t.init(TierL1, "redis", log, retry)
	t.probe(redisOpenProbe, func(ctx context.Context) error { return t.rdb.Ping(ctx).Err() })
	return t, nil
}

// close closes the client; a nil tier is fine.
func (t *redisTier) close() error {
	if t == nil {
		return nil
	}
	return errors.Join(t.rdb.Close(), t.wdb.Close())
}

// get reads one key.
func (t *redisTier) get(ctx context.Context, key string, valid func([]byte) bool) ([]byte, bool) {
	if !t.allowRead() {
		t.misses.Add(1)
		return nil, false
	}
	start := time.Now()
	v, err := t.rdb.Get(ctx, redisPrefix+key).Bytes()
	t.getLat.observe(time.Since(start))
	if err != nil && !errors.Is(err, redis.Nil) {
		t.failed(ctx, &t.rb, "get", err)
		t.misses.Add(1)
		return nil, false
	}
	t.succeeded(&t.rb, "get")
	if err != nil { // redis.Nil
		t.misses.Add(1)
		return nil, false
	}
	if !valid(v) {
		t.corrupt.Add(1)
		t.misses.Add(1)
		return nil, false
	}
	t.hits.Add(1)
	return v, true
}

// getMany reads distinct keys with one MGET per redisBatch keys (one MGET
// of 100,000 keys would overrun the read timeout); after a failed MGET the
// rest are misses.
func (t *redisTier) getMany(ctx context.Context, keys []string, valid func([]byte) bool) map[string][]byte {
	found := make(map[string][]byte)
	if !t.allowRead() {
		t.misses.Add(int64(len(keys)))
		return found
	}
	for len(keys) > 0 {
		n := min(len(keys), redisBatch)
		if !t.mget(ctx, keys[:n], valid, found) {
			t.misses.Add(int64(len(keys) - n))
			break
		}
		keys = keys[n:]
	}
	return found
}

// mget reads keys with one MGET into found; false when it failed.
func (t *redisTier) mget(ctx context.Context, keys []string, valid func([]byte) bool, found map[string][]byte) bool {
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = redisPrefix + k
	}
	start := time.Now()
	res, err := t.rdb.MGet(ctx, rkeys...).Result()
	t.getLat.observe(time.Since(start))
	if err != nil || len(res) != len(keys) {
		if err == nil {
			err = fmt.Errorf("MGET returned %d values for %d keys", len(res), len(keys))
		}
		t.failed(ctx, &t.rb, "mget", err)
		t.misses.Add(int64(len(keys)))
		return false
	}
	t.succeeded(&t.rb, "mget")
	for i, r := range res {
		s, ok := r.(string)
		if !ok { // nil: no such key
			t.misses.Add(1)
			continue
		}
		v := []byte(s)
		if !valid(v) {
			t.corrupt.Add(1)
			t.misses.Add(1)
			continue
		}
		t.hits.Add(1)
		found[keys[i]] = v
	}
	return true
}

// set writes entries (SET for one, one pipeline for many) and reports how
// many it stored: all or none.
func (t *redisTier) set(ctx context.Context, es []entry) int {
	if len(es) == 0 || !t.allowWrite() {
		return 0
	}
	start := time.Now()
	var err error
	if len(es) == 1 {
		err = t.wdb.Set(ctx, redisPrefix+es[0].key, es[0].val, es[0].ttl).Err()
	} else {
		pipe := t.wdb.Pipeline()
		for _, e := range es {
			pipe.Set(ctx, redisPrefix+e.key, e.val, e.ttl)
		}
		_, err = pipe.Exec(ctx)
	}
	t.setLat.observe(time.Since(start))
	if err != nil {
		t.failed(ctx, &t.wb, "set", err)
		return 0
	}
	t.succeeded(&t.wb, "set")
	t.writes.Add(int64(len(es)))
	return len(es)
}

// clearBatch is the SCAN COUNT hint of clear, and so about the size of one
// MGET and one UNLINK.
const clearBatch = 1000

// clear deletes the keys under our prefix whose value m selects (every key
// for a nil m): SCAN, then for a filter one MGET per batch checked here,
// then UNLINK. Redis cannot select keys by value, hence the read.
func (t *redisTier) clear(ctx context.Context, m *match) (int64, error) {
	var n int64
	var cursor uint64
	for {
		keys, next, err := t.rdb.Scan(ctx, cursor, redisPrefix+"*", clearBatch).Result()
		if err != nil {
			t.failed(ctx, &t.wb, "clear", err)
			return n, fmt.Errorf("cache: L1 redis: %s: scan: %w", m.op(), err)
		}
		if m != nil && len(keys) > 0 {
			if keys, err = t.selected(ctx, keys, m); err != nil {
				t.failed(ctx, &t.wb, "clear", err)
				return n, fmt.Errorf("cache: L1 redis: %s: mget: %w", m.op(), err)
			}
		}
		if len(keys) > 0 {
			d, err := t.rdb.Unlink(ctx, keys...).Result()
			if err != nil {
				t.failed(ctx, &t.wb, "clear", err)
				return n, fmt.Errorf("cache: L1 redis: %s: unlink: %w", m.op(), err)
			}
			n += d
		}
		if cursor = next; cursor == 0 {
			t.succeeded(&t.wb, "clear")
			return n, nil
		}
	}
}

// selected returns the keys (full Redis keys) whose value m selects; a key
// gone since the SCAN is not.
func (t *redisTier) selected(ctx context.Context, keys []string, m *match) ([]string, error) {
	vals, err := t.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	if len(vals) != len(keys) {
		return nil, fmt.Errorf("MGET returned %d values for %d keys", len(vals), len(keys))
	}
	out := keys[:0]
	for i, v := range vals {
		if s, ok := v.(string); ok && m.selects([]byte(s)) {
			out = append(out, keys[i])
		}
	}
	return out, nil
}
