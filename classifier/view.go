package classifier

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/index"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// listTypes are the labels that come from range lists, in priority order.
var listTypes = [...]IPType{TypeTor, TypeCloud, TypeDatacenter}

// srcInfo is what an answer needs to know of the snapshot it came from.
type srcInfo struct {
	name       string
	label      string // Result.Source
	fetchedAt  time.Time
	stale      bool // the last refresh of this source failed, or the data is the bundled baseline
	baseline   bool // the data is the bundled baseline (Config.BaselineDir), not a download of this data directory
	staleAfter time.Duration
	prefixes   int
}

// view is everything an answer is made from, as of one refresh: the prefix
// index of every list (the highest-priority type wins, the most specific
// prefix within it), the ASN data (the ip2asn range tables, the
// hosting-ASN sets, the AS profile) and what each source's snapshot is. It
// is built once and never written after, so reads need no lock; a refresh
// swaps in a new one.
type view struct {
	prefixes *index.Index // every prefix list; Entry.Slot is the position of its type in listTypes
	// byType, in a view of a past epoch only (prefixes is then nil), holds
	// the prefix lists as one index per type in listTypes order, so the
	// views of several epochs share the indexes of the types whose lists
	// did not change between them (see historyState.view).
	byType    []*index.Index
	srcs      []srcInfo
	asnTables []asn.TableRef // in source order: the first that knows an address answers
	hosting   []asnSetRef
	profile   asn.Profile // nil when disabled or not learnable
	// dataID names the data every answer of this view is computed from:
	// see dataIdentity. A cached answer is served only under the dataID it
	// was computed with.
	dataID string
	// names memoises the AS-name heuristic for names callers pass:
	// pipelines see the same few thousand names again and again. It is the
	// engine's, shared by every view it builds.
	names *asname.Memo
	// pinned holds what a view of a past epoch shares with other such
	// views (see historyState.view): its past snapshots, its per-type
	// indexes and its AS profile.
	pinned []any
}

type asnSetRef struct {
	set asn.Set
	src int // position in srcs
}

// loaded is one source's parsed snapshot as the index builder takes it.
type loaded struct {
	entries   []parse.Entry
	asns      asn.Set
	table     *asn.Table
	fetchedAt time.Time
	failed    bool // the newest refresh attempt failed
	baseline  bool // read from Config.BaselineDir: answers from it are always stale
	// damaged is set when the current snapshot on disk was damaged and
	// this is the previous generation: due for a download at once.
	damaged bool
	bytes   int    // uncompressed size of the snapshot (the base of its download limit)
	sha256  string // of the snapshot's bytes: what the data is, wherever it was loaded
}

// loadedFrom keeps what a parser yielded from size uncompressed bytes whose
// SHA-256 is sum.
func loadedFrom(p parse.Parsed, size int, fetchedAt time.Time, failed bool, sum string) loaded {
	return loaded{entries: p.Entries, asns: p.ASNs, table: p.Table, fetchedAt: fetchedAt, failed: failed, bytes: size, sha256: sum}
}

// size counts the prefixes, ASNs or ranges held.
func (l loaded) size() int {
	n := len(l.entries) + len(l.asns)
	if l.table != nil {
		n += l.table.Len()
	}
	return n
}

// has reports whether l holds data (a source with none answers nothing).
func (l loaded) has() bool { return l.size() > 0 }

// buildView builds an index from the loaded snapshots, keyed by source
// name. When two sources of one type list the same prefix, the one earlier
// in sources keeps it.
func buildView(sources []source, data map[string]loaded, names *asname.Memo, profile bool) *view {
	ix := newView(sources, data, names)
	ix.prefixes = prefixIndex(sources, data, -1)
	if profile {
		ix.profile = ix.buildProfile()
	}
	ix.dataID = dataIdentity(sources, data, profile)
	return ix
}

// newView is a view of data without its prefix index and AS profile.
func newView(sources []source, data map[string]loaded, names *asname.Memo) *view {
	ix := &view{names: names}
	for si, s := range sources {
		d := data[s.Name]
		ix.srcs = append(ix.srcs, srcInfo{
			name: s.Name, label: s.label(), fetchedAt: d.fetchedAt, stale: d.failed || d.baseline,
			baseline: d.baseline, staleAfter: s.staleAfter(), prefixes: d.size(),
		})
		switch s.Kind {
		case kindASNTable:
			if d.table != nil {
				ix.asnTables = append(ix.asnTables, asn.TableRef{T: d.table, Src: si})
			}
		case kindASNList:
			if len(d.asns) > 0 {
				ix.hosting = append(ix.hosting, asnSetRef{d.asns, si})
			}
		}
	}
	return ix
}

// prefixIndex indexes the prefix lists of data whose type is listTypes[slot]
// (all of them for slot -1).
func prefixIndex(sources []source, data map[string]loaded, slot int) *index.Index {
	prefixes := index.NewBuilder()
	for si, s := range sources {
		if s.Kind != kindPrefixes || (slot >= 0 && typeSlot(s.Type) != slot) {
			continue
		}
		sl := uint8(typeSlot(s.Type))
		for _, e := range data[s.Name].entries {
			prefixes.Add(e.Prefix, index.Entry{Provider: e.Provider, Region: e.Region, Service: e.Service, Slot: sl, Src: si})
		}
	}
	return prefixes.Build()
}

// lookup finds the entry that decides addr among the prefix lists: the
// one of the best type, the most specific within it.
func (ix *view) lookup(addr netip.Addr) (*index.Entry, bool) {
	if ix.byType == nil {
		return ix.prefixes.Lookup(addr)
	}
	for _, t := range ix.byType {
		if e, ok := t.Lookup(addr); ok {
			return e, ok
		}
	}
	return nil, false
}

// dataIdentity names what a view answers from: the engine version, whether
// the AS profile is on, and the name, label and snapshot SHA-256 of every
// source holding data (one with none, or not configured, answers nothing),
// hashed to 16 hex digits. Two views — in one
// process or in two sharing the cache tiers — have the same identity
// exactly when they were built from the same bytes under the same rules, so
// they give the same answer to every query; a refresh that changes any
// snapshot changes it (one that gets a 304 or the same bytes does not).
// Every answer depends on all sources (an unknown, on every list; a cloud
// answer, on the Tor lists that outrank it), so one identity serves all.
func dataIdentity(sources []source, data map[string]loaded, profile bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "ipclassifier %s profile=%t\n", Version, profile)
	for _, s := range sources {
		if d := data[s.Name]; d.has() { // a source with no data answers nothing
			fmt.Fprintf(h, "%s %s %s %s\n", s.Name, s.Type, s.label(), d.sha256)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// restamped is a copy of v sharing its index and ASN data, with the
// snapshot times and stale flags of data: the view after a refresh that
// brought no new data (data holds what v was built from).
func (v *view) restamped(sources []source, data map[string]loaded) *view {
	nv := *v
	nv.srcs = make([]srcInfo, len(v.srcs))
	for si, s := range sources {
		d := data[s.Name]
		nv.srcs[si] = v.srcs[si]
		nv.srcs[si].fetchedAt, nv.srcs[si].stale, nv.srcs[si].baseline = d.fetchedAt, d.failed || d.baseline, d.baseline
	}
	return &nv
}

// sameLoaded reports whether a and b hold the same parsed data (not merely
// equal data: the same arrays).
func sameLoaded(a, b loaded) bool {
	return a.table == b.table && len(a.entries) == len(b.entries) && len(a.asns) == len(b.asns) &&
		(len(a.entries) == 0 || &a.entries[0] == &b.entries[0]) && (len(a.asns) == 0 || &a.asns[0] == &b.asns[0])
}

func typeSlot(t IPType) int {
	for i, lt := range listTypes {
		if lt == t {
			return i
		}
	}
	panic("classifier: no list for type " + string(t))
}

// asnOf is what the index knows of the network announcing an address.
type asnOf struct {
	asn     uint32
	name    string
	country string
	source  string
	// tbl and nameIdx locate name in the ip2asn table that gave it (whose
	// memo holds its AS-name verdict), table is that table's position in
	// srcs; tbl is nil and table -1 when the name is the caller's.
	tbl     *asn.Table
	nameIdx uint32
	table   int
}

// resolveASN merges the caller's ASN data with the ip2asn tables' (see
// Result for the rules).
func (ix *view) resolveASN(addr netip.Addr, callerASN uint32, callerName string) asnOf {
	a := asnOf{asn: callerASN, name: callerName, table: -1}
	if callerASN != 0 || callerName != "" {
		a.source = ASNFromCaller
	}
	for _, ref := range ix.asnTables {
		info, ok := ref.T.Lookup(addr)
		if !ok {
			continue
		}
		if callerASN != 0 && callerASN != info.ASN {
			break // the caller knows better; do not mix two networks' data
		}
		a.asn = info.ASN
		a.country = ref.T.Country(info)
		if a.source == "" {
			a.source = ASNFromIP2ASN
		}
		if callerName == "" {
			a.name = ref.T.Name(info)
			a.tbl, a.nameIdx, a.table = ref.T, info.NameID(), ref.Src
		}
		break
	}
	return a
}

// fromSource fills the snapshot fields of r from source si.
func (ix *view) fromSource(r *Result, si int, now time.Time) {
	src := &ix.srcs[si]
	r.Snapshot = src.name
	r.SnapshotAt = src.fetchedAt
	r.Stale = src.stale || now.Sub(src.fetchedAt) > src.staleAfter
}

// classify answers for addr: the prefix lists (tor, cloud, datacenter), then
// the hosting-ASN lists, then the AS-name heuristic, then the AS profile,
// else unknown.
func (ix *view) classify(addr netip.Addr, callerASN uint32, callerName string, now time.Time) Result {
	var r Result
	ix.answer(&r, addr, addr.String(), callerASN, callerName, now)
	return r
}

// Where an answer came from when no source of the view decided it (the
// result of answer; a source's position in srcs otherwise).
const (
	fromASName  = -1 - iota // the AS-name heuristic
	fromProfile             // the AS profile
	fromNothing             // unknown
)

// answer is classify into *r (overwritten whole) for callers that already
// have the canonical text of addr (text, which becomes Result.IP). It
// returns the position in srcs of the source that decided, or fromASName,
// fromProfile or fromNothing, for the engine's counters.
func (ix *view) answer(r *Result, addr netip.Addr, text string, callerASN uint32, callerName string, now time.Time) int {
	a := ix.resolveASN(addr, callerASN, callerName)
	*r = Result{
		IP: text, ClassifiedAt: now.UTC(),
		ASN: a.asn, ASName: a.name, Country: a.country, ASNSource: a.source,
	}
	if e, ok := ix.lookup(addr); ok {
		typ := listTypes[e.Slot]
		r.Type = typ
		r.Provider, r.Region, r.Service = e.Provider, e.Region, e.Service
		r.Source = ix.srcs[e.Src].label
		r.MatchedPrefix = e.Prefix
		ix.fromSource(r, e.Src, now)
		switch typ {
		case TypeTor:
			r.Confidence = ConfidenceTor
			r.Provider = ProviderTor // upstream's answers name the provider "tor"
		case TypeCloud:
			r.Confidence = ConfidenceCloud
		default:
			r.Confidence = ConfidenceDatacenter
		}
		return e.Src
	}
	if a.asn != 0 {
		for _, h := range ix.hosting {
			if h.set.Has(a.asn) {
				r.Type = TypeDatacenter
				r.Provider = a.name
				r.Confidence = ConfidenceHostingASN
				r.Source = ix.srcs[h.src].label
				r.MatchedPrefix = "AS" + strconv.FormatUint(uint64(a.asn), 10)
				ix.fromSource(r, h.src, now)
				return h.src
			}
		}
	}
	var m *asname.Match
	switch {
	case a.tbl != nil:
		m = a.tbl.Verdict(a.nameIdx)
	case a.name != "":
		m = ix.names.Of(a.name)
	}
	if m != nil && m.Kind != asname.None {
		r.Type = typeOfKind[m.Kind]
		r.Provider = a.name
		r.Confidence = m.Confidence
		r.Source = SourceASNName
		r.MatchedPrefix = m.Evidence()
		if a.table >= 0 {
			ix.fromSource(r, a.table, now)
		}
		return fromASName
	}
	if v, ok := ix.profile[a.asn]; ok && a.asn != 0 {
		r.Type = typeOfKind[v.Kind]
		r.Provider = a.name
		r.Confidence = ConfidenceASNProfile
		r.Source = SourceASNProfile
		r.MatchedPrefix = v.Evidence
		ix.fromSource(r, v.Src, now)
		return fromProfile
	}
	r.Type = TypeUnknown
	r.Source = SourceNone
	return fromNothing
}

// typeOfKind is the label each kind of network the AS-name rules and the AS
// profile recognise gets.
var typeOfKind = [...]IPType{asname.None: TypeUnknown, asname.Residential: TypeResidential, asname.Hosting: TypeDatacenter}

// buildProfile learns the AS profile from the index's own tables and lists:
// an address in a cloud or datacenter prefix list marks its network as
// hosting (Tor relays run anywhere, so their lists say nothing).
func (ix *view) buildProfile() asn.Profile {
	hosting := make([]asn.Set, len(ix.hosting))
	for i, h := range ix.hosting {
		hosting[i] = h.set
	}
	listed := func(a netip.Addr) bool {
		e, ok := ix.lookup(a)
		return ok && listTypes[e.Slot] != TypeTor
	}
	return asn.BuildProfile(ix.asnTables, listed, hosting)
}
