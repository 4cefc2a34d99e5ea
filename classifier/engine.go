package classifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/cache"
)

// Version is the engine version, reported by the C ABI's Version export.
const Version = "0.1.0"

// maxASName bounds the AS name kept in an answer.
const maxASName = 256

// Engine classifies addresses. It is safe for concurrent use; Refresh may
// run while Classify is called from many goroutines. Create one with Open;
// the zero value is not usable.
type Engine struct {
	cfg     Config
	sources []Source
	store   *store
	fetcher *fetcher
	cache   *cache.Cache
	cacheOn bool // some tier is configured; false skips the cache entirely

	idx       atomic.Pointer[index] // swapped whole by Refresh
	refreshMu sync.Mutex            // one Refresh at a time; guards current and metas
	current   map[string]loaded     // the data behind idx, by source name
	metas     map[string]snapshotMeta
	metaView  atomic.Pointer[map[string]snapshotMeta] // read-only copy of metas for Stats
	stats     counters
	names     *asNameMemo // the AS-name heuristic's memo, shared by every index
	closed    atomic.Bool
}

// ErrClosed is returned by every method of a closed Engine.
var ErrClosed = errors.New("classifier is closed")

// Open creates an engine from cfg (defaults applied), loads the snapshots
// persisted by earlier runs so it can classify at once with no network, and
// opens the cache tiers. It does not download anything: call Refresh.
func Open(cfg Config) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if cfg.Cache.DefaultTiers {
		if cfg.Cache.Dir == "" {
			cfg.Cache.Dir = cfg.DataDir + "/cache"
		}
		if cfg.Cache.DatabaseURL == "" {
			cfg.Cache.DatabaseURL = "sqlite://" + cfg.DataDir + "/cache.sqlite"
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	st, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, sources: cfg.sources(), store: st, fetcher: newFetcher(cfg), names: &asNameMemo{}}
	e.stats.init(e.sources)
	c, err := cache.Open(cfg.Cache, validCached)
	if err != nil {
		return nil, fmt.Errorf("open cache tiers: %w", err)
	}
	e.cache = c
	e.cacheOn = cfg.Cache.RedisURL != "" || cfg.Cache.DatabaseURL != "" || cfg.Cache.Dir != ""
	e.current, e.metas = st.loadAll(e.sources)
	e.idx.Store(buildIndex(e.sources, e.current, e.names))
	e.publishMetas()
	return e, nil
}

// publishMetas gives Stats a copy of the snapshot metadata; the caller holds
// refreshMu or is Open.
func (e *Engine) publishMetas() {
	view := make(map[string]snapshotMeta, len(e.metas))
	for k, v := range e.metas {
		view[k] = v
	}
	e.metaView.Store(&view)
}

// Config returns the configuration in force, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Classify labels one address. asn (0 = unknown) and asName ("" = unknown)
// are the caller's knowledge of the announcing network; when the caller
// passes neither, the ip2asn tables supply them. They feed the hosting-ASN
// list and the AS-name heuristic. The only error is an *InvalidIPError (or
// ErrClosed).
func (e *Engine) Classify(ctx context.Context, ip string, asn uint32, asName string) (Result, error) {
	if e.closed.Load() {
		return Result{}, ErrClosed
	}
	addr, err := ParseIP(ip)
	if err != nil {
		e.stats.invalid.Add(1)
		return Result{}, err
	}
	if !e.cacheOn {
		r := e.idx.Load().classify(addr, asn, cleanASName(asName), e.cfg.Now())
		e.stats.count(r)
		return r, nil
	}
	key := addr.String()
	if val, tier, ok := e.cache.Get(ctx, key); ok {
		if r, err := decodeCached(val); err == nil {
			r.Cache = tier
			e.stats.count(r)
			return r, nil
		}
	}
	r := e.idx.Load().classify(addr, asn, cleanASName(asName), e.cfg.Now())
	e.stats.count(r)
	if val, err := json.Marshal(r); err == nil {
		e.cache.Set(ctx, cache.Item{Key: key, Value: val, L1TTL: l1TTL(r.Type)})
	}
	return r, nil
}

// ClassifyBatch labels many addresses, answers in input order. errs[i] is
// non-nil (an *InvalidIPError) where qs[i].IP is not an address; results[i]
// is then the zero Result. The cache tiers are read and written once per
// tier for the whole batch.
func (e *Engine) ClassifyBatch(ctx context.Context, qs []Query) (results []Result, errs []error) {
	results = make([]Result, len(qs))
	errs = make([]error, len(qs))
	if e.closed.Load() {
		for i := range errs {
			errs[i] = ErrClosed
		}
		return results, errs
	}
	keys := make([]string, 0, len(qs))
	pos := make([]int, 0, len(qs))
	for i, q := range qs {
		addr, err := ParseIP(q.IP)
		if err != nil {
			e.stats.invalid.Add(1)
			errs[i] = err
			continue
		}
		keys = append(keys, addr.String())
		pos = append(pos, i)
	}
	vals, tiers := make([][]byte, len(keys)), make([]string, len(keys))
	if e.cacheOn {
		vals, tiers = e.cache.GetMany(ctx, keys)
	}
	idx := e.idx.Load()
	now := e.cfg.Now()
	var writes []cache.Item
	for k, key := range keys {
		i := pos[k]
		if vals[k] != nil {
			if r, err := decodeCached(vals[k]); err == nil {
				r.Cache = tiers[k]
				results[i] = r
				e.stats.count(r)
				continue
			}
		}
		addr, _ := ParseIP(key)
		r := idx.classify(addr, qs[i].ASN, cleanASName(qs[i].ASName), now)
		results[i] = r
		e.stats.count(r)
		if !e.cacheOn {
			continue
		}
		if val, err := json.Marshal(r); err == nil {
			writes = append(writes, cache.Item{Key: key, Value: val, L1TTL: l1TTL(r.Type)})
		}
	}
	if len(writes) > 0 {
		e.cache.SetMany(ctx, writes)
	}
	return results, errs
}

// Close releases the cache connections. Calls after Close fail with
// ErrClosed; Close itself is idempotent.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	if err := e.cache.Close(); err != nil {
		return fmt.Errorf("close cache: %w", err)
	}
	return nil
}

// Cache returns the engine's cache tiers (never nil).
func (e *Engine) Cache() *cache.Cache { return e.cache }

// l1TTL is the Redis time to live of an answer of type t.
func l1TTL(t IPType) time.Duration {
	switch t {
	case TypeTor, TypeUnknown:
		return time.Hour
	default:
		return 24 * time.Hour
	}
}

// decodeCached reads a cached answer and checks it.
func decodeCached(val []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(val, &r); err != nil {
		return Result{}, fmt.Errorf("decode cached answer: %w", err)
	}
	if err := r.Validate(); err != nil {
		return Result{}, fmt.Errorf("cached answer: %w", err)
	}
	return r, nil
}

// validCached is the cache's test for a corrupt value.
func validCached(val []byte) bool {
	_, err := decodeCached(val)
	return err == nil
}

// cleanASName bounds and sanitises a caller's AS name.
func cleanASName(s string) string {
	if len(s) > maxASName {
		s = s[:maxASName]
	}
	s = clean(s)
	return strings.ToValidUTF8(s, "")
}
