package classifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/index"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// The history: dated snapshots of every source (internal/snapshot.History)
// and answers as of a past time (Query.At, ClassifyAt) made from the
// snapshot of each source in force then. See docs/history.md.

// Default history policy per refresh group (Config.HistoryRetention
// overrides the retention).
var historyDefaults = map[string]snapshot.Policy{
	GroupTor:        {Retention: 90 * 24 * time.Hour, Granularity: time.Hour},
	GroupCloud:      {Retention: 365 * 24 * time.Hour, Granularity: 24 * time.Hour},
	GroupDatacenter: {Retention: 365 * 24 * time.Hour, Granularity: 24 * time.Hour},
	GroupASN:        {Retention: 180 * 24 * time.Hour, Granularity: 30 * 24 * time.Hour},
}

// historyViews bounds the views of past times kept built: each holds the
// parsed lists that differ from today's (a Tor list or a cloud file; the
// lists that did not change are today's own arrays), so a backfill walking
// through its sessions in time order builds each view once.
const historyViews = 4

// ImportReport is the outcome of ImportSnapshot.
type ImportReport struct {
	Source  string    `json:"source"`
	Date    time.Time `json:"date"`
	SHA256  string    `json:"sha256"`
	Bytes   int       `json:"bytes"`
	Entries int       `json:"entries"`
	// Added is false when the history already held these bytes in force
	// at Date.
	Added bool `json:"added"`
}

// historyPolicy is the policy of source s under the configuration.
func (e *Engine) historyPolicy(s source) snapshot.Policy {
	p := historyDefaults[s.Group]
	if r, ok := e.cfg.HistoryRetention[s.Group]; ok && r != 0 {
		p.Retention = max(r.D(), 0)
	}
	return p
}

// timeline is every source's dated snapshots as the history path reads
// them: built after Open, a refresh or an import, never written after.
type timeline struct {
	entries [][]histEntry // by source position, in date order
	epochs  []time.Time   // every entry's date, sorted, unique
	current map[string]loaded
	errs    []string // sources whose history could not be read
}

// histEntry is one dated snapshot; current is set for the snapshot the
// engine serves now when the history holds no entry of its bytes (the
// history is off for its group, or it is the bundled baseline).
type histEntry struct {
	snapshot.Entry
	current bool
}

// atView is the view of one epoch with what it cannot vouch for: the
// sources whose snapshot postdates the epoch (or that could not be read),
// "short" of history.
type atView struct {
	v        *view
	lo, hi   time.Time // the epoch: at in [lo, hi)
	short    []bool    // by source position
	shortAt  int       // the lowest rank of a short source (rankNone: none)
	asnShort bool      // some ip2asn table is short
	timeline *timeline
}

// Answer ranks: the type of an answer can only change with its own source
// or a source of a lower rank (one that outranks it: a Tor list for a
// cloud answer); an answer from no source (the AS name, the AS profile,
// unknown) depends on every source; a list that only tags, on none.
const (
	rankASNList = 3 // the hosting-ASN lists
	rankASN     = 4 // the ip2asn tables, the AS-name rules, the AS profile, unknown
	rankNone    = 5
)

// rank is the rank of source s.
func (s source) rank() int {
	switch s.Kind {
	case kindASNTable:
		return rankASN
	case kindASNList:
		return rankASNList
	case kindTags: // a list that only tags never changes an answer's type
		return rankNone
	}
	return typeSlot(s.Type)
}

// historyState is the engine's history: the files, the timeline and the
// views of past times.
type historyState struct {
	store *snapshot.History
	line  atomic.Pointer[timeline] // swapped whole by rebuildTimeline
	mu    sync.Mutex               // guards views and parsed; one view is built at a time
	views []*keyedView
	// parsed shares the lists of past snapshots between views: one copy
	// per snapshot, alive while a view holds it; indexes and profiles, the
	// per-type prefix indexes and the AS profiles of those views, by the
	// content they are built from.
	parsed   map[string]weak.Pointer[loaded]
	indexes  map[string]weak.Pointer[index.Index]
	profiles map[string]weak.Pointer[asn.Profile]
	// last is the epoch of the last lookup: single lookups (ClassifyAt) of
	// one epoch in a row skip finding it again.
	last atomic.Pointer[atView]
}

type keyedView struct {
	key string
	v   *view
}

// openHistory opens the history of the data directory and seeds it with
// the snapshots the engine holds that it lacks (a data directory of an
// older version, or a history turned on later). Errors are logged: the
// engine serves today's answers without a history.
func (e *Engine) openHistory() {
	h, err := snapshot.OpenHistory(e.cfg.DataDir)
	if err != nil {
		slog.Warn("history not available: answers as of a past time are flagged history_short", "err", err)
	}
	e.hist = &historyState{
		store: h, parsed: map[string]weak.Pointer[loaded]{},
		indexes: map[string]weak.Pointer[index.Index]{}, profiles: map[string]weak.Pointer[asn.Profile]{},
	}
	if h != nil {
		for _, s := range e.sources {
			d, m := e.current[s.Name], e.metas[s.Name]
			p := e.historyPolicy(s)
			if !d.has() || d.baseline || p.Retention <= 0 {
				continue
			}
			if es, err := h.List(s.Name); err != nil || slices.ContainsFunc(es, func(x snapshot.Entry) bool { return x.SHA256 == d.sha256 }) {
				continue
			}
			b, err := e.store.ReadData(s.Name)
			if err == nil && snapshot.SHA256Hex(b) == d.sha256 {
				_, err = h.Add(s.Name, snapshot.Entry{Date: m.FetchedAt, Entries: d.size()}, b, p, e.cfg.Now())
			}
			if err != nil {
				slog.Warn("history: the current snapshot not recorded", "source", s.Name, "err", err)
			}
		}
	}
	e.rebuildTimeline()
}

// recordHistory adds a good download of src to the history (refreshOne).
func (e *Engine) recordHistory(src source, date time.Time, body []byte, entries int) {
	if e.hist == nil || e.hist.store == nil {
		return
	}
	if _, err := e.hist.store.Add(src.Name, snapshot.Entry{Date: date, Entries: entries}, body, e.historyPolicy(src), date); err != nil {
		slog.Warn("history: download not recorded", "source", src.Name, "err", err)
	}
}

// rebuildTimeline reads every source's history again and forgets the
// views of past times; the caller holds refreshMu or is Open.
func (e *Engine) rebuildTimeline() {
	tl := &timeline{entries: make([][]histEntry, len(e.sources)), current: make(map[string]loaded, len(e.current))}
	for k, v := range e.current {
		tl.current[k] = v
	}
	var dates []time.Time
	for si, s := range e.sources {
		var es []snapshot.Entry
		if e.hist.store != nil {
			var err error
			if es, err = e.hist.store.List(s.Name); err != nil {
				tl.errs = append(tl.errs, s.Name)
				slog.Warn("history: index not read; answers as of a past time are flagged history_short", "source", s.Name, "err", err)
			}
		}
		hs := make([]histEntry, 0, len(es)+1)
		for _, x := range es {
			hs = append(hs, histEntry{Entry: x})
		}
		if d := e.current[s.Name]; d.has() && !slices.ContainsFunc(es, func(x snapshot.Entry) bool { return x.SHA256 == d.sha256 }) {
			date := e.metas[s.Name].FetchedAt.UTC()
			if date.IsZero() {
				date = d.fetchedAt.UTC()
			}
			i, _ := slices.BinarySearchFunc(hs, date, func(x histEntry, t time.Time) int { return x.Date.Compare(t) })
			hs = slices.Insert(hs, i, histEntry{Entry: snapshot.Entry{Date: date, SHA256: d.sha256, Entries: d.size()}, current: true})
		}
		tl.entries[si] = hs
		for _, x := range hs {
			dates = append(dates, x.Date)
		}
	}
	slices.SortFunc(dates, time.Time.Compare)
	tl.epochs = slices.CompactFunc(dates, time.Time.Equal)
	e.hist.line.Store(tl)
	e.hist.last.Store(nil) // it would keep the replaced data alive
	e.hist.mu.Lock()
	e.hist.views = nil
	e.hist.mu.Unlock()
}

// viewAt returns the view of the epoch holding at: for each source, its
// newest snapshot dated at or before at, else its oldest (the history does
// not reach back: the answers it decides are flagged).
func (e *Engine) viewAt(at time.Time) atView {
	tl := e.hist.line.Load()
	if last := e.hist.last.Load(); last != nil && last.timeline == tl && !at.Before(last.lo) && at.Before(last.hi) {
		return *last
	}
	k, _ := slices.BinarySearchFunc(tl.epochs, at, func(t, at time.Time) int {
		if t.After(at) {
			return 1
		}
		return -1
	}) // k epochs are at or before at
	av := atView{short: make([]bool, len(e.sources)), shortAt: rankNone, timeline: tl}
	if k > 0 {
		av.lo = tl.epochs[k-1]
	}
	av.hi = time.Unix(1<<62, 0)
	if k < len(tl.epochs) {
		av.hi = tl.epochs[k]
	}
	pick := make([]int, len(e.sources)) // entry of each source, -1 none
	var key strings.Builder
	for si, s := range e.sources {
		es := tl.entries[si]
		i := 0
		for i+1 < len(es) && !es[i+1].Date.After(at) {
			i++
		}
		pick[si] = -1
		if len(es) > 0 {
			pick[si] = i
			key.WriteString(es[i].SHA256)
			if es[i].Date.After(at) {
				av.markShort(e.sources, si)
			}
		}
		if len(es) == 0 && slices.Contains(tl.errs, s.Name) {
			av.markShort(e.sources, si)
		}
		key.WriteByte('|')
	}
	v := e.hist.view(e, tl, pick, key.String(), &av)
	// The view may have been built for another epoch with the same bytes:
	// the snapshot dates are this epoch's.
	nv := *v
	nv.srcs = slices.Clone(v.srcs)
	for si := range nv.srcs {
		if pick[si] >= 0 {
			nv.srcs[si].fetchedAt = tl.entries[si][pick[si]].Date
		}
	}
	av.v = &nv
	e.hist.last.Store(&av)
	return av
}

// view returns the view of the bytes pick names (key), built once and
// kept among the historyViews most recently used; its snapshot dates are
// those of the epoch it was first built for.
func (h *historyState) view(e *Engine, tl *timeline, pick []int, key string, av *atView) *view {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, kv := range h.views {
		if kv.key == key {
			copy(h.views[1:i+1], h.views[:i])
			h.views[0] = kv
			return kv.v
		}
	}
	data := make(map[string]loaded, len(e.sources))
	var pinned []any
	for si, s := range e.sources {
		if pick[si] < 0 {
			continue
		}
		x := tl.entries[si][pick[si]]
		if cur := tl.current[s.Name]; cur.has() && cur.sha256 == x.SHA256 {
			data[s.Name] = cur
		} else if l, err := h.load(e, s, x); err == nil {
			pinned = append(pinned, l)
			data[s.Name] = *l
		} else {
			av.markShort(e.sources, si)
			slog.Warn("history: snapshot not loaded; answers that depend on it are flagged history_short",
				"source", s.Name, "date", x.Date, "err", err)
		}
		d := data[s.Name]
		d.fetchedAt, d.failed, d.baseline = x.Date, false, false
		data[s.Name] = d
	}
	v := h.build(e, data, pick, key, pinned)
	e.stats.historyViews.Add(1)
	h.views = slices.Insert(h.views, 0, &keyedView{key, v})
	if len(h.views) > historyViews {
		h.views[historyViews] = nil
		h.views = h.views[:historyViews]
	}
	return v
}

// build is buildView for a past epoch, with the prefix lists as one index
// per type and each index, and the AS profile, shared with the views that
// were built from the same lists (an epoch where only the Tor lists
// differ builds only a Tor index). key names the content of every source
// (its parts are separated by '|', in source order); the caller holds h.mu.
func (h *historyState) build(e *Engine, data map[string]loaded, pick []int, key string, pinned []any) *view {
	parts := strings.Split(key, "|")
	keyOf := func(keep func(s source) bool) string {
		var b strings.Builder
		for si, s := range e.sources {
			if keep(s) {
				b.WriteString(s.Name + "=" + parts[si] + "|")
			}
		}
		return b.String()
	}
	v := newView(e.sources, data, e.names)
	v.byType = make([]*index.Index, tagSlot+1) // the types' lists, then those that only tag
	for slot := range v.byType {
		k := keyOf(func(s source) bool {
			return (s.Kind == kindPrefixes || s.Kind == kindTags) && int(sourceSlot(s)) == slot
		})
		ix := h.indexes[k].Value()
		if ix == nil {
			ix = prefixIndex(e.sources, data, slot, nil)
			h.indexes[k] = weak.Make(ix)
		}
		v.byType[slot] = ix
		pinned = append(pinned, ix)
	}
	if e.cfg.profileOn() {
		// The profile learns from the cloud and datacenter lists, the
		// hosting-ASN lists and the ip2asn tables (not the Tor lists).
		k := keyOf(func(s source) bool { return s.Kind != kindPrefixes || s.Type != TypeTor })
		p := h.profiles[k].Value()
		if p == nil {
			built := v.buildProfile()
			p = &built
			h.profiles[k] = weak.Make(p)
		}
		v.profile = *p
		pinned = append(pinned, p)
	}
	v.dataID = dataIdentity(e.sources, data, e.cfg.profileOn())
	v.pinned = pinned
	forget(h.indexes)
	forget(h.profiles)
	return v
}

// forget drops the entries of m whose value was collected.
func forget[T any](m map[string]weak.Pointer[T]) {
	for k, w := range m {
		if w.Value() == nil {
			delete(m, k)
		}
	}
}

// load parses a past snapshot of s, sharing it with the views that hold it
// already; the caller holds h.mu.
func (h *historyState) load(e *Engine, s source, x histEntry) (*loaded, error) {
	key := s.Name + " " + x.SHA256
	if l := h.parsed[key].Value(); l != nil {
		return l, nil
	}
	if h.store == nil || x.current {
		return nil, errors.New("no history")
	}
	b, err := h.store.Read(s.Name, x.Entry)
	if err != nil {
		return nil, err
	}
	p, size, err := parseSnapshot(s, b)
	if err != nil {
		return nil, fmt.Errorf("history of %s at %s: %w", s.Name, x.Date.Format(time.RFC3339), err)
	}
	l := loadedFrom(p, size, x.Date, false, x.SHA256)
	lp := &l
	forget(h.parsed)
	h.parsed[key] = weak.Make(lp)
	return lp, nil
}

// markShort records that source si has no snapshot in force at the epoch.
func (av *atView) markShort(sources []source, si int) {
	av.short[si] = true
	av.shortAt = min(av.shortAt, sources[si].rank())
	av.asnShort = av.asnShort || sources[si].Kind == kindASNTable
}

// shortFor reports whether an answer decided by from (a source position,
// or fromASName, fromProfile, fromNothing) depends on a short source.
func (av *atView) shortFor(sources []source, from int, r *Result) bool {
	if from < 0 {
		return av.shortAt < rankNone
	}
	s := sources[from]
	return av.short[from] || av.shortAt < s.rank() ||
		(s.Kind == kindASNList && av.asnShort && r.ASNSource == ASNFromIP2ASN)
}

// answerAt is view.answer as of at: the answer of the epoch's view, with
// ClassifiedAt now, AsOf at and HistoryShort set when a source the answer
// depends on has no snapshot that old.
func (av *atView) answerAt(e *Engine, r *Result, addr netip.Addr, text string, asn uint32, asName string, at, now time.Time) int {
	from := av.v.answer(r, addr, text, asn, asName, at)
	r.ClassifiedAt, r.AsOf = now.UTC(), at.UTC()
	r.HistoryShort = av.shortFor(e.sources, from, r)
	return from
}

// ClassifyAt is Classify as of the time at: the answer is made from the
// snapshot of each source in force at that time (see the history,
// docs/history.md), with that snapshot's date in SnapshotAt and AsOf set
// to at. When the history does not reach back that far for a source the
// answer depends on, the answer comes from that source's oldest snapshot
// and HistoryShort is set (DataAge is then negative). Answers as of a past
// time are neither read from nor written to the cache tiers. A zero at is
// Classify.
func (e *Engine) ClassifyAt(ctx context.Context, ip string, asn uint32, asName string, at time.Time) (Result, error) {
	if at.IsZero() {
		return e.Classify(ctx, ip, asn, asName)
	}
	if e.closed.Load() {
		return Result{}, ErrClosed
	}
	var r Result
	var err error
	e.classifyEachAt([]Query{{IP: ip, ASN: asn, ASName: asName, At: at}}, e.idx.Load(), e.cfg.Now(), func(_ int, res *Result, rerr error) {
		if rerr != nil {
			err = rerr
			return
		}
		r = *res
	})
	return r, err
}

// classifyEachAt is ClassifyEach for a batch holding some query with a
// time: those are answered as of their time, the others from the current
// view; none goes through the cache tiers. Queries in time order share
// one view per epoch. idx is the current view and now the time of the
// answers.
func (e *Engine) classifyEachAt(qs []Query, idx *view, now time.Time, emit func(i int, r *Result, err error)) {
	var r Result
	var av atView
	for i := range qs {
		q := &qs[i]
		addr, err := e.parseCounted(q.IP)
		if err != nil {
			emit(i, nil, err)
			continue
		}
		text, name := canonicalText(addr, q.IP), cleanASName(q.ASName)
		if q.At.IsZero() {
			e.stats.countFrom(&r, idx.answer(&r, addr, text, q.ASN, name, now))
			emit(i, &r, nil)
			continue
		}
		if av.v == nil || q.At.Before(av.lo) || !q.At.Before(av.hi) || av.timeline != e.currentTimeline() {
			av = e.viewAt(q.At)
		}
		e.stats.countFrom(&r, av.answerAt(e, &r, addr, text, q.ASN, name, q.At, now))
		e.stats.historyLookups.Add(1)
		if r.HistoryShort {
			e.stats.historyShort.Add(1)
		}
		emit(i, &r, nil)
	}
}

func (e *Engine) currentTimeline() *timeline { return e.hist.line.Load() }

// ImportSnapshot adds data, a file of source (a name as in Stats: "tor",
// "cloud/aws-official", …) as it was on date, to the history, so answers
// as of that time can be made from it (an operator seeds the history from
// archives). The bytes are parsed and checked as a download is; the data
// answered now is not changed. Imported snapshots are never pruned.
func (e *Engine) ImportSnapshot(ctx context.Context, sourceName string, date time.Time, data []byte) (ImportReport, error) {
	if e.closed.Load() {
		return ImportReport{}, ErrClosed
	}
	i := slices.IndexFunc(e.sources, func(s source) bool { return s.Name == sourceName })
	if i < 0 {
		names := make([]string, len(e.sources))
		for k, s := range e.sources {
			names[k] = s.Name
		}
		return ImportReport{}, fmt.Errorf("import: unknown source %q (want one of %s)", sourceName, strings.Join(names, ", "))
	}
	src := e.sources[i]
	switch {
	case date.IsZero():
		return ImportReport{}, errors.New("import: no date")
	case date.After(e.cfg.Now()):
		return ImportReport{}, fmt.Errorf("import: date %s is in the future", date.UTC().Format(time.RFC3339))
	case e.hist.store == nil:
		return ImportReport{}, errors.New("import: the history directory is not available")
	}
	p, _, err := parseSnapshot(src, data)
	if err != nil {
		return ImportReport{}, fmt.Errorf("import %s: %w", sourceName, err)
	}
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	unlock, err := e.store.Lock(ctx)
	if err != nil {
		return ImportReport{}, err
	}
	defer unlock()
	added, err := e.hist.store.Add(src.Name, snapshot.Entry{Date: date, Entries: p.Len(), Imported: true}, data, e.historyPolicy(src), e.cfg.Now())
	if err != nil {
		return ImportReport{}, fmt.Errorf("import %s: %w", sourceName, err)
	}
	e.rebuildTimeline()
	return ImportReport{Source: src.Name, Date: date.UTC(), SHA256: snapshot.SHA256Hex(data), Bytes: len(data), Entries: p.Len(), Added: added}, nil
}

// HistoryStats describes one source's history.
type HistoryStats struct {
	Entries  int       `json:"entries"`    // dated snapshots held
	From     time.Time `json:"from"`       // the oldest one's date (zero: none)
	Imported int       `json:"imported"`   // of them, imported
	Bytes    int64     `json:"disk_bytes"` // on disk
}

// historyStats is the history part of Stats, by source name.
func (e *Engine) historyStats() (map[string]HistoryStats, int64) {
	out := map[string]HistoryStats{}
	var total int64
	tl := e.currentTimeline()
	for si, s := range e.sources {
		var hs HistoryStats
		for _, x := range tl.entries[si] {
			if x.current {
				continue
			}
			if hs.Entries == 0 {
				hs.From = x.Date
			}
			hs.Entries++
			if x.Imported {
				hs.Imported++
			}
		}
		if e.hist.store != nil {
			hs.Bytes = e.hist.store.DiskBytes(s.Name)
		}
		total += hs.Bytes
		out[s.Name] = hs
	}
	return out, total
}
