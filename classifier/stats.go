package classifier

import (
	"sync/atomic"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
)

// Stats is a point-in-time view of an engine's counters and data.
type Stats struct {
	Version  string           `json:"version"`
	Lookups  int64            `json:"lookups"`
	Invalid  int64            `json:"invalid_inputs"`
	ByType   map[string]int64 `json:"by_type"`
	BySource map[string]int64 `json:"by_source"`
	// ByASNSource counts answers by where their ASN came from: "caller",
	// "ip2asn" or "none".
	ByASNSource map[string]int64 `json:"by_asn_source"`
	// Prefixes counts the prefixes of the range lists, ASNRanges the routed
	// ranges of the ip2asn tables, HostingASNs the ASNs of the hosting-ASN
	// lists (PeeringDB's content networks included), AccessASNs the
	// networks that declare themselves access networks (PeeringDB).
	Prefixes    int           `json:"prefixes"`
	ASNRanges   int           `json:"asn_ranges"`
	HostingASNs int           `json:"hosting_asns"`
	AccessASNs  int           `json:"access_asns"`
	Sources     []SourceStats `json:"sources"`
	Cache       CacheStats    `json:"cache"`
	// DataID names the data answers are computed from now (see
	// encodeCached); CacheOutdated counts the cached answers not served
	// because they were computed from other data (before a refresh that
	// changed a snapshot, or by a process holding other snapshots).
	DataID        string `json:"data_id"`
	CacheOutdated int64  `json:"cache_outdated"`
	// History describes the dated snapshots of each source (by source
	// name) and HistoryBytes their total size on disk; HistoryLookups
	// counts the answers as of a past time, HistoryShort those of them
	// flagged history_short, HistoryViews the views of past times built.
	History        map[string]HistoryStats `json:"history"`
	HistoryBytes   int64                   `json:"history_disk_bytes"`
	HistoryLookups int64                   `json:"history_lookups"`
	HistoryShort   int64                   `json:"history_short"`
	HistoryViews   int64                   `json:"history_views_built"`
	// HistoryEpochs are the dates, in increasing order, at which some
	// source's snapshot in force changes (every dated snapshot's date, the
	// ones served now included). They cut time into epochs: before the
	// first, between two consecutive ones [lo, hi), and from the last on.
	// Within one epoch every source has the same snapshot in force, so
	// ClassifyAt gives an address the same type, provider and
	// history_short flag at any time of it (only the times, the data age
	// and staleness differ): a backfill classifies once per address and
	// epoch.
	HistoryEpochs []time.Time `json:"history_epochs"`
	// AutoRefresh describes the background refresh (Config.AutoRefresh).
	AutoRefresh AutoRefreshStats `json:"auto_refresh"`
	// SQLite is the SQLite library of this build (whether it is the
	// system's, shared with the host's sqlite3 module, or an own copy).
	SQLite SQLiteLibrary `json:"sqlite"`
}

// SourceStats describes one source's snapshot and refresh history (since
// the engine was opened, for the counters).
type SourceStats struct {
	Name          string    `json:"name"`
	Group         string    `json:"group"`
	URL           string    `json:"url"`
	Prefixes      int       `json:"prefixes"` // prefixes, ASNs or ASN ranges held
	SnapshotAt    time.Time `json:"snapshot_at"`
	AgeSeconds    float64   `json:"age_seconds"` // -1 when there is no snapshot
	Stale         bool      `json:"stale"`
	LastAttemptAt time.Time `json:"last_attempt_at"`
	LastError     string    `json:"last_error,omitempty"`
	Updated       int64     `json:"refresh_updated"`
	NotModified   int64     `json:"refresh_not_modified"`
	Failed        int64     `json:"refresh_failed"`
	// SnapshotDamaged counts the snapshots of this source found damaged
	// on disk (at Open): never served; LastError says what was loaded
	// instead.
	SnapshotDamaged int64 `json:"snapshot_damaged"`
	// Baseline is set when the data is the bundled baseline
	// (Config.BaselineDir), not a download of this data directory.
	Baseline bool `json:"baseline,omitempty"`
}

// counters are the engine's lock-free counters. The maps are filled once by
// init and only read after, so increments need no lock.
type counters struct {
	lookups  atomic.Int64
	invalid  atomic.Int64
	outdated atomic.Int64 // cached answers from other data, not served
	// answers as of a past time, those flagged history_short, views of
	// past times built
	historyLookups, historyShort, historyViews atomic.Int64
	byType                                     [5]atomic.Int64 // by typeIndex
	bySource                                   map[string]*atomic.Int64
	bySrc                                      []*atomic.Int64             // bySource by source position (nil: no label)
	noSource                                   *atomic.Int64               // bySource[SourceNone]
	byASNSrc                                   [3]atomic.Int64             // caller, ip2asn, none
	refresh                                    map[string]*[4]atomic.Int64 // updated, not modified, failed, snapshot damaged
}

func (c *counters) init(sources []source) {
	c.bySource = map[string]*atomic.Int64{
		SourceASNName: new(atomic.Int64), SourceASNProfile: new(atomic.Int64), SourceNone: new(atomic.Int64),
		SourceAccessASN: new(atomic.Int64),
	}
	c.refresh = map[string]*[4]atomic.Int64{}
	for _, s := range sources {
		if l := s.label(); l != "" && c.bySource[l] == nil {
			c.bySource[l] = new(atomic.Int64)
		}
		c.refresh[s.Name] = new([4]atomic.Int64)
	}
	// The same counters by source position, for countFrom (a source with
	// no label, an ASN table, counts nothing, as in count).
	c.bySrc = make([]*atomic.Int64, len(sources))
	for i, s := range sources {
		c.bySrc[i] = c.bySource[s.label()]
	}
	c.noSource = c.bySource[SourceNone]
}

// typeIndex is the position of t in allTypes, -1 for an invalid type.
func typeIndex(t IPType) int {
	switch t {
	case TypeTor:
		return 0
	case TypeCloud:
		return 1
	case TypeDatacenter:
		return 2
	case TypeResidential:
		return 3
	case TypeUnknown:
		return 4
	}
	return -1
}

// countFrom records an answer just made from the index; from is what
// view.answer returned (no map lookup by source label on this path).
func (c *counters) countFrom(r *Result, from int) {
	c.lookups.Add(1)
	c.byType[typeIndex(r.Type)].Add(1)
	if n := c.fromCounter(from); n != nil {
		n.Add(1)
	}
	c.byASNSrc[asnSourceIndex(r)].Add(1)
}

// fromCounter is the bySource counter of an answer view.answer made
// (from as it returned), nil for a source that counts nothing.
func (c *counters) fromCounter(from int) *atomic.Int64 {
	switch {
	case from >= 0 && from < len(c.bySrc):
		return c.bySrc[from]
	case from == fromASName:
		return c.bySource[SourceASNName]
	case from == fromProfile:
		return c.bySource[SourceASNProfile]
	case from == fromNothing:
		return c.noSource
	case from == fromAccess:
		return c.bySource[SourceAccessASN]
	}
	return nil
}

// tally is countFrom for the answers of one batch run: plain integers,
// added to the counters once, by flush. The runs of a batch answered on
// several goroutines would otherwise contend for the same counters on
// every answer. The zero tally is ready: its by-source counts grow as
// needed.
type tally struct {
	lookups  int64
	byType   [5]int64
	byFrom   []int64 // by from - fromAccess
	byASNSrc [3]int64
}

// add is countFrom into t.
func (t *tally) add(r *Result, from int) {
	t.lookups++
	t.byType[typeIndex(r.Type)]++
	if i := from - fromAccess; i >= 0 { // every from is fromAccess or above
		if i >= len(t.byFrom) {
			t.byFrom = append(t.byFrom, make([]int64, i+1-len(t.byFrom))...)
		}
		t.byFrom[i]++
	}
	t.byASNSrc[asnSourceIndex(r)]++
}

// flush adds t's counts to c.
func (c *counters) flush(t *tally) {
	c.lookups.Add(t.lookups)
	for i, v := range t.byType {
		c.byType[i].Add(v)
	}
	for i, v := range t.byFrom {
		if n := c.fromCounter(i + fromAccess); n != nil && v != 0 {
			n.Add(v)
		}
	}
	for i, v := range t.byASNSrc {
		c.byASNSrc[i].Add(v)
	}
}

// count records one answer.
func (c *counters) count(r *Result) {
	c.lookups.Add(1)
	if i := typeIndex(r.Type); i >= 0 {
		c.byType[i].Add(1)
	}
	if n, ok := c.bySource[r.Source]; ok {
		n.Add(1)
	}
	c.byASNSrc[asnSourceIndex(r)].Add(1)
}

// asnSourceIndex is where an answer's ASN came from, by position in
// byASNSrc: caller, ip2asn, none.
func asnSourceIndex(r *Result) int {
	switch r.ASNSource {
	case ASNFromCaller:
		return 0
	case ASNFromIP2ASN:
		return 1
	}
	return 2
}

// refreshed records one source's refresh outcome.
func (c *counters) refreshed(source, status string) {
	n := c.refresh[source]
	switch status {
	case StatusUpdated:
		n[0].Add(1)
	case StatusNotModified:
		n[1].Add(1)
	case StatusFailed:
		n[2].Add(1)
	}
}

// damaged records a damaged snapshot of source found on disk.
func (c *counters) damaged(source string) {
	if n := c.refresh[source]; n != nil {
		n[3].Add(1)
	}
}

// Stats returns the counters, the snapshot of every source and the cache
// tier counters.
func (e *Engine) Stats() Stats {
	now := e.cfg.Now()
	s := Stats{
		Version: Version, Lookups: e.stats.lookups.Load(), Invalid: e.stats.invalid.Load(),
		ByType: map[string]int64{}, BySource: map[string]int64{}, Cache: e.cache.Stats(), SQLite: cache.SQLite(),
		CacheOutdated: e.stats.outdated.Load(), AutoRefresh: e.auto.stats(),
		ByASNSource: map[string]int64{
			ASNFromCaller: e.stats.byASNSrc[0].Load(), ASNFromIP2ASN: e.stats.byASNSrc[1].Load(),
			"none": e.stats.byASNSrc[2].Load(),
		},
	}
	for i, t := range allTypes {
		s.ByType[string(t)] = e.stats.byType[i].Load()
	}
	s.History, s.HistoryBytes = e.historyStats()
	s.HistoryLookups, s.HistoryShort = e.stats.historyLookups.Load(), e.stats.historyShort.Load()
	s.HistoryViews = e.stats.historyViews.Load()
	s.HistoryEpochs = append([]time.Time{}, e.currentTimeline().epochs...) // [] when there is none, not null
	for src, n := range e.stats.bySource {
		s.BySource[src] = n.Load()
	}
	metas := *e.metaView.Load()
	ix := e.idx.Load()
	s.DataID = ix.dataID
	for i, src := range e.sources {
		info := ix.srcs[i]
		m := metas[src.Name]
		n := e.stats.refresh[src.Name]
		ss := SourceStats{
			Name: src.Name, Group: src.Group, URL: src.URL, Prefixes: info.prefixes,
			SnapshotAt: info.fetchedAt, AgeSeconds: -1, LastAttemptAt: m.LastAttemptAt, LastError: m.LastError,
			Updated: n[0].Load(), NotModified: n[1].Load(), Failed: n[2].Load(), SnapshotDamaged: n[3].Load(),
		}
		if !info.fetchedAt.IsZero() {
			ss.AgeSeconds = now.Sub(info.fetchedAt).Seconds()
			ss.Stale = info.stale || now.Sub(info.fetchedAt) > info.staleAfter
			ss.Baseline = info.baseline
		}
		switch src.Kind {
		case kindASNTable:
			s.ASNRanges += info.prefixes
		case kindASNList:
			s.HostingASNs += info.prefixes - info.access
			s.AccessASNs += info.access
		default:
			s.Prefixes += info.prefixes
		}
		s.Sources = append(s.Sources, ss)
	}
	return s
}
