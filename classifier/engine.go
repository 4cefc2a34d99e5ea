package classifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/classifier/internal/fetch"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// Version is the engine version, reported by the C ABI's Version export.
const Version = "0.9.0"

// maxASName bounds the AS name kept in an answer.
const maxASName = 256

// Engine classifies addresses. It is safe for concurrent use; Refresh may
// run while Classify is called from many goroutines. Create one with Open;
// the zero value is not usable.
type Engine struct {
	cfg     Config
	sources []source
	store   *snapshot.Store
	fetcher *fetch.Fetcher
	cache   *cache.Cache
	cacheOn bool // some tier is configured; false skips the cache entirely

	idx       atomic.Pointer[view] // swapped whole by Refresh
	refreshMu sync.Mutex           // one Refresh at a time; guards current and metas
	current   map[string]loaded    // the data behind idx, by source name
	metas     map[string]snapshotMeta
	metaView  atomic.Pointer[map[string]snapshotMeta] // read-only copy of metas for Stats
	stats     counters
	names     *asname.Memo   // the AS-name heuristic's memo, shared by every index
	auto      *autoRefresher // the background refresh; nil when off
	hist      *historyState  // dated snapshots and the views of past times
	closed    atomic.Bool
}

// ErrClosed is returned by every method of a closed Engine.
var ErrClosed = errors.New("classifier is closed")

// Open creates an engine from cfg (defaults applied), loads the snapshots
// persisted by earlier runs so it can classify at once with no network, and
// opens the cache tiers. It downloads nothing itself: call Refresh, or set
// Config.AutoRefresh to have due sources refreshed in the background from
// now on.
func Open(cfg Config) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if cfg.Cache.DefaultTiers {
		if cfg.Cache.Dir == "" {
			cfg.Cache.Dir = cfg.DataDir + "/cache"
		}
		if cfg.Cache.DatabaseURL == "" {
			cfg.Cache.DatabaseURL = cache.OwnSQLiteURL(filepath.Join(cfg.DataDir, "cache.sqlite"))
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	st, err := snapshot.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, sources: cfg.sources(), store: st, fetcher: fetch.New(cfg.HTTPTimeout.D(), cfg.Attempts, cfg.Backoff.D(), cfg.UserAgent), names: &asname.Memo{}}
	e.stats.init(e.sources)
	c, err := cache.Open(cfg.Cache, validCached)
	if err != nil {
		return nil, fmt.Errorf("open cache tiers: %w", err)
	}
	e.cache = c
	e.cacheOn = cfg.Cache.RedisURL != "" || cfg.Cache.DatabaseURL != "" || cfg.Cache.Dir != ""
	var base *snapshot.Store
	if cfg.BaselineDir != "" {
		if base, err = snapshot.OpenExisting(cfg.BaselineDir); err != nil {
			return nil, fmt.Errorf("baseline_dir: %w", err)
		}
	}
	var damaged []string
	e.current, e.metas, damaged = loadAll(st, base, e.sources)
	for _, name := range damaged {
		e.stats.damaged(name)
	}
	e.idx.Store(buildView(e.sources, e.current, e.names, e.cfg.profileOn()))
	e.publishMetas()
	e.openHistory()
	if len(e.current) > 0 {
		debug.FreeOSMemory() // the snapshots' parsing garbage: see Refresh
	}
	if cfg.AutoRefresh {
		e.startAutoRefresh()
	}
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

// parseCounted is parseIP, counting an invalid address in the stats.
func (e *Engine) parseCounted(ip string) (netip.Addr, error) {
	addr, err := parseIP(ip)
	if err != nil {
		e.stats.invalid.Add(1)
	}
	return addr, err
}

// Classify labels one address. asn (0 = unknown) and asName ("" = unknown)
// are the caller's knowledge of the announcing network; when the caller
// passes neither, the ip2asn tables supply them. They feed the hosting-ASN
// list and the AS-name heuristic. The only error is an *InvalidIPError (or
// ErrClosed).
func (e *Engine) Classify(ctx context.Context, ip string, asn uint32, asName string) (r Result, err error) {
	if e.closed.Load() {
		return Result{}, ErrClosed
	}
	addr, err := e.parseCounted(ip)
	if err != nil {
		return Result{}, err
	}
	key := canonicalText(addr, ip)
	if !e.cacheOn { // answered into the result itself: no copy of it
		e.stats.countFrom(&r, e.idx.Load().answer(&r, addr, key, asn, cleanASName(asName), e.cfg.Now()))
		return r, nil
	}
	asName = cleanASName(asName)
	idx := e.idx.Load()
	if val, tier, ok := e.cache.Get(ctx, key); ok {
		if r, id, err := decodeCached(val); err == nil && e.sameData(id, idx) && servesQuery(&r, asn, asName) {
			r.CacheTier = tier
			e.stats.count(&r)
			return r, nil
		}
	}
	// fresh, not r: marshalling moves it to the heap, and r must stay off
	// it on the path without cache.
	var fresh Result
	e.stats.countFrom(&fresh, idx.answer(&fresh, addr, key, asn, asName, e.cfg.Now()))
	if val, err := encodeCached(&fresh, idx.dataID); err == nil {
		e.cache.Set(ctx, cache.Item{Key: key, Value: val, L1TTL: l1TTL(fresh.Type)})
	}
	return fresh, nil
}

// ClassifyBatch labels many addresses, answers in input order. errs[i] is
// non-nil (an *InvalidIPError) where qs[i].IP is not an address; results[i]
// is then the zero Result. The cache tiers are read and written once per
// tier for the whole batch.
func (e *Engine) ClassifyBatch(ctx context.Context, qs []Query) (results []Result, errs []error) {
	results = make([]Result, len(qs))
	errs = make([]error, len(qs))
	e.ClassifyEach(ctx, qs, func(i int, r *Result, err error) {
		if err != nil {
			errs[i] = err
			return
		}
		results[i] = *r
	})
	return results, errs
}

// ClassifyEach is ClassifyBatch without the result slices: it calls emit
// once per query, in input order, with the answer (err nil) or the error
// (r nil): an *InvalidIPError, or ErrClosed for every query of a closed
// engine. r points to a variable reused for the next query: copy *r to keep
// it. The cache tiers are read once per tier before the first emit and
// written once per tier after the last. A batch holding a query with a
// time (Query.At) is answered without the cache tiers: those queries as of
// their time (see ClassifyAt), the others from the current data.
func (e *Engine) ClassifyEach(ctx context.Context, qs []Query, emit func(i int, r *Result, err error)) {
	e.classifyRun(ctx, qs, e.idx.Load(), e.cfg.Now(), emit)
}

// ClassifyRuns is ClassifyEach for n runs of queries at once, each run
// on a goroutine of its own: queries(run) is called on that goroutine
// first (so a caller may read a run's input there) and gives the run's
// queries; emit is called for each of them, in order, from the same
// goroutine (i indexes that run's queries), so queries and emit must be
// safe for calls of different runs at the same time. Every answer of the
// call is made from one view of the data at one time, as a single
// ClassifyEach call's are; each run reads and writes the cache tiers on
// its own. A panic in a run is raised again in the caller once every run
// has returned.
func (e *Engine) ClassifyRuns(ctx context.Context, n int, queries func(run int) []Query, emit func(run, i int, r *Result, err error)) {
	idx, now := e.idx.Load(), e.cfg.Now()
	panics := make([]any, n)
	var wg sync.WaitGroup
	for p := range n {
		wg.Add(1)
		run := func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					panics[p] = fmt.Sprintf("%v\n%s", v, debug.Stack())
				}
			}()
			e.classifyRun(ctx, queries(p), idx, now, func(i int, r *Result, err error) { emit(p, i, r, err) })
		}
		if p == n-1 {
			run() // the last on the caller's goroutine
		} else {
			go run()
		}
	}
	wg.Wait()
	for p, v := range panics {
		if v != nil {
			panic(fmt.Sprintf("classify run %d of %d: %v", p, n, v))
		}
	}
}

// classifyRun is ClassifyEach from the view idx at the time now.
func (e *Engine) classifyRun(ctx context.Context, qs []Query, idx *view, now time.Time, emit func(i int, r *Result, err error)) {
	if e.closed.Load() {
		for i := range qs {
			emit(i, nil, ErrClosed)
		}
		return
	}
	for i := range qs {
		if !qs[i].At.IsZero() {
			e.classifyEachAt(qs, idx, now, emit)
			return
		}
	}
	var r Result
	if !e.cacheOn {
		var t tally
		defer e.stats.flush(&t)
		for i := range qs {
			q := &qs[i]
			addr, err := e.parseCounted(q.IP)
			if err != nil {
				emit(i, nil, err)
				continue
			}
			t.add(&r, idx.answer(&r, addr, canonicalText(addr, q.IP), q.ASN, cleanASName(q.ASName), now))
			emit(i, &r, nil)
		}
		return
	}
	// Parse everything first: the tiers are asked for every key at once.
	addrs := make([]netip.Addr, len(qs))
	errs := make([]error, len(qs))
	keys := make([]string, 0, len(qs))
	for i := range qs {
		addrs[i], errs[i] = parseIP(qs[i].IP)
		if errs[i] == nil {
			keys = append(keys, canonicalText(addrs[i], qs[i].IP))
		}
	}
	vals, tiers := e.cache.GetMany(ctx, keys)
	var writes []cache.Item
	k := 0
	for i := range qs {
		q := &qs[i]
		if errs[i] != nil {
			e.stats.invalid.Add(1)
			emit(i, nil, errs[i])
			continue
		}
		key, val, tier := keys[k], vals[k], tiers[k]
		k++
		if val != nil {
			if id, err := decodeCachedInto(&r, val); err == nil && e.sameData(id, idx) && servesQuery(&r, q.ASN, cleanASName(q.ASName)) {
				r.CacheTier = tier
				e.stats.count(&r)
				emit(i, &r, nil)
				continue
			}
		}
		e.stats.countFrom(&r, idx.answer(&r, addrs[i], key, q.ASN, cleanASName(q.ASName), now))
		if val, err := encodeCached(&r, idx.dataID); err == nil {
			writes = append(writes, cache.Item{Key: key, Value: val, L1TTL: l1TTL(r.Type)})
		}
		emit(i, &r, nil)
	}
	if len(writes) > 0 {
		e.cache.SetMany(ctx, writes)
	}
}

// canonicalText is the canonical text of addr (its cache key and
// Result.IP): s itself when s already is that text, as it almost always
// is, so no string is made.
func canonicalText(addr netip.Addr, s string) string {
	if addr.Is4() && plainDotted(s) {
		return s // the parser refuses leading zeros: digits and dots are canonical
	}
	var buf [64]byte
	if string(addr.AppendTo(buf[:0])) == s {
		return s
	}
	return addr.String()
}

// FlushCache waits until the answers queued for the cache tiers are
// written (or dropped and counted in Stats: a tier that is down is not
// waited for), or ctx ends. Classify only queues its cache writes; Close
// flushes too.
func (e *Engine) FlushCache(ctx context.Context) error {
	if e.closed.Load() {
		return ErrClosed
	}
	return e.cache.Flush(ctx)
}

// plainDotted tells whether s holds only digits and dots.
func plainDotted(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Close stops the background refresh (a download in flight is abandoned),
// writes the answers queued for the cache tiers, then releases the cache
// connections. Calls after Close fail with ErrClosed; Close itself is
// idempotent.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.auto.stop()
	if err := e.cache.Close(); err != nil {
		return fmt.Errorf("close cache: %w", err)
	}
	return nil
}

// l1TTL is the Redis time to live of an answer of type t.
func l1TTL(t IPType) time.Duration {
	switch t {
	case TypeTor, TypeUnknown:
		return time.Hour
	default:
		return 24 * time.Hour
	}
}

// decodeCached reads a cache record and checks its answer; dataID is the
// identity of the data it was computed from ("" when the record has none).
func decodeCached(val []byte) (r Result, dataID string, err error) {
	dataID, err = decodeCachedInto(&r, val)
	return r, dataID, err
}

// sameData reports whether a cached answer computed from the data dataID
// names may be served by view idx; an answer from other data is counted
// (Stats.CacheOutdated) and computed again.
func (e *Engine) sameData(dataID string, idx *view) bool {
	if dataID == idx.dataID {
		return true
	}
	e.stats.outdated.Add(1)
	return false
}

// servesQuery reports whether a cached answer may answer a query that
// brought asn and asName (0 and "" = none). The cache is keyed by IP alone
// (the upstream layout), so an answer computed without the caller's AS data,
// or with other AS data, must not stand in for one computed with it: such a
// hit is recomputed and the fresh answer overwrites the tiers.
func servesQuery(r *Result, asn uint32, asName string) bool {
	return (asn == 0 || r.ASN == asn) && (asName == "" || r.ASName == asName)
}

// decodeCachedInto is decodeCached into *r (overwritten whole).
func decodeCachedInto(r *Result, val []byte) (dataID string, err error) {
	*r = Result{}
	if !decodeResultJSON(val, r, &dataID) { // the fast path declined: encoding/json decides
		*r = Result{}
		rec := cachedRecord{Result: r}
		if err := json.Unmarshal(val, &rec); err != nil {
			return "", fmt.Errorf("decode cached answer: %w", err)
		}
		dataID = rec.DataID
	}
	if err := r.Validate(); err != nil {
		return "", fmt.Errorf("cached answer: %w", err)
	}
	return dataID, nil
}

// validCached is the cache's test for a corrupt value. It is deliberately
// cheap — a JSON object that names an ip_type — because the engine decodes
// and validates every value it is given anyway (decodeCached): a value that
// passes here but fails there is answered from the index and overwritten in
// every tier, like a miss. (A full decode here would decode every hit twice.)
func validCached(val []byte) bool {
	return len(val) > 2 && val[0] == '{' && val[len(val)-1] == '}' && bytes.Contains(val, []byte(`"ip_type"`))
}

// cleanASName bounds and sanitises a caller's AS name.
func cleanASName(s string) string {
	if len(s) > maxASName {
		s = s[:maxASName]
	}
	s = field.Clean(s)
	return strings.ToValidUTF8(s, "")
}
