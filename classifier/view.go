package classifier

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/index"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// listTypes are the labels that come from range lists, in priority order.
var listTypes = [...]IPType{TypeTor, TypeCloud, TypeDatacenter}

// tagSlot is the index slot of the lists that only tag (kindTags): after
// every type, so such a prefix never decides.
const tagSlot = uint8(len(listTypes))

// srcInfo is what an answer needs to know of the snapshot it came from.
type srcInfo struct {
	name       string
	label      string // Result.Source
	fetchedAt  time.Time
	stale      bool // the last refresh of this source failed, or the data is the bundled baseline
	baseline   bool // the data is the bundled baseline (Config.BaselineDir), not a download of this data directory
	staleAfter time.Duration
	prefixes   int
	tag        string // source.Tag
	access     int    // of prefixes, the access networks (PeeringDB Cable/DSL/ISP)
	wholeASN   bool   // source.WholeASN: an access network's declaration overrules it
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
	// listASN says, by index.Entry.Pos, what the ip2asn tables know of
	// every address of a list prefix, when that is the same for all of
	// them: a list answer then needs no ip2asn lookup of its own.
	listASN []prefixASN
	hosting []asnSetRef
	access  []asnSetRef // networks that declare themselves access networks
	profile asn.Profile // nil when disabled or not learnable
	// dataID names the data every answer of this view is computed from:
	// see dataIdentity. A cached answer is served only under the dataID it
	// was computed with.
	dataID string
	// names memoises the AS-name heuristic for names callers pass:
	// pipelines see the same few thousand names again and again. It is the
	// engine's, shared by every view it builds.
	names *asname.Memo
	// evidence memoises the evidence and tags of answers (see evidenceOf).
	evidence *evidenceMemo
	// pinned holds what a view of a past epoch shares with other such
	// views (see historyState.view): its past snapshots, its per-type
	// indexes and its AS profile.
	pinned []any
}

// evidenceKey is everything an answer's evidence depends on: the set of
// prefixes holding the address and its network (ASN, AS name and the table
// that named it).
type evidenceKey struct {
	set   int32
	asn   uint32
	table int32
	name  string
}

// evidenceVal is the evidence and tags of a key, shared by every answer
// with that key (read-only).
type evidenceVal struct {
	evidence []Evidence
	tags     []string
}

// evidenceMemo holds the evidence of the keys seen, up to maxEvidenceMemo:
// answers from one range share it instead of allocating their own (a
// batch of attackers hits a few thousand ranges and networks). A view
// owns one; a refresh that brings new data starts a new one.
type evidenceMemo struct {
	mu sync.RWMutex
	m  map[evidenceKey]evidenceVal
}

// maxEvidenceMemo bounds the memo; past it, answers build their own.
const maxEvidenceMemo = 1 << 14

type asnSetRef struct {
	set asn.Set
	src int // position in srcs
}

// loaded is one source's parsed snapshot as the index builder takes it.
type loaded struct {
	entries   []parse.Entry
	asns      asn.Set
	access    asn.Set
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
	return loaded{entries: p.Entries, asns: p.ASNs, access: p.Access, table: p.Table, fetchedAt: fetchedAt, failed: failed, bytes: size, sha256: sum}
}

// size counts the prefixes, ASNs or ranges held.
func (l loaded) size() int {
	n := len(l.entries) + len(l.asns) + len(l.access)
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
	ix.listASN = ix.buildListASN()
	if profile {
		ix.profile = ix.buildProfile()
	}
	ix.dataID = dataIdentity(sources, data, profile)
	return ix
}

// newView is a view of data without its prefix index and AS profile.
func newView(sources []source, data map[string]loaded, names *asname.Memo) *view {
	ix := &view{names: names, evidence: &evidenceMemo{m: map[evidenceKey]evidenceVal{}}}
	for si, s := range sources {
		d := data[s.Name]
		ix.srcs = append(ix.srcs, srcInfo{
			name: s.Name, label: s.label(), fetchedAt: d.fetchedAt, stale: d.failed || d.baseline,
			baseline: d.baseline, staleAfter: s.staleAfter(), prefixes: d.size(), tag: s.Tag,
			access: len(d.access), wholeASN: s.WholeASN,
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
			if len(d.access) > 0 {
				ix.access = append(ix.access, asnSetRef{d.access, si})
			}
		}
	}
	return ix
}

// sourceSlot is the index slot of the entries of a prefix or tag list:
// its type's position in listTypes, tagSlot for a list that only tags.
func sourceSlot(s source) uint8 {
	if s.Kind == kindTags {
		return tagSlot
	}
	return uint8(typeSlot(s.Type))
}

// prefixIndex indexes the prefix and tag lists of data whose slot (see
// sourceSlot) is slot, all of them for slot -1.
func prefixIndex(sources []source, data map[string]loaded, slot int) *index.Index {
	prefixes := index.NewBuilder()
	for si, s := range sources {
		if s.Kind == kindASNTable || s.Kind == kindASNList {
			continue
		}
		sl := sourceSlot(s)
		if slot >= 0 && int(sl) != slot {
			continue
		}
		for _, e := range data[s.Name].entries {
			provider := e.Provider
			if provider == "" {
				provider = s.Provider
			}
			prefixes.Add(e.Prefix, index.Entry{Provider: provider, Region: e.Region, Service: e.Service, Slot: sl, Src: si})
		}
	}
	return prefixes.Build()
}

// lookup finds the entry of the best slot holding addr, the most specific
// within it (a tag-only list's when no other holds it).
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
		len(a.access) == len(b.access) &&
		(len(a.entries) == 0 || &a.entries[0] == &b.entries[0]) && (len(a.asns) == 0 || &a.asns[0] == &b.asns[0]) &&
		(len(a.access) == 0 || &a.access[0] == &b.access[0])
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

// prefixASN is what the ip2asn tables say of every address of one list
// prefix: table is the position in asnTables of the first table knowing
// them and info what it says; noTable when no table knows any of them,
// perAddress when it differs inside the prefix (the address is looked up).
type prefixASN struct {
	info  asn.Info
	table int32
}

const (
	noTable    = -1
	perAddress = -2
)

// buildListASN computes prefixASN for every list prefix (by Entry.Pos).
// The first table holding any address of a prefix must hold all of it in
// one range; otherwise the addresses are looked up one by one, as
// lookupASN would, so the answer is the same either way.
func (ix *view) buildListASN() []prefixASN {
	pfxs := ix.prefixes.Prefixes()
	out := make([]prefixASN, len(pfxs))
	for i, p := range pfxs {
		out[i] = prefixASN{table: noTable}
		first := p.Masked().Addr()
		last := ipx.LastOf(p)
		for k, ref := range ix.asnTables {
			info, cov := ref.T.Span(first, last)
			if cov == asn.CoversNone {
				continue
			}
			if cov == asn.CoversWhole {
				out[i] = prefixASN{info: info, table: int32(k)}
			} else {
				out[i].table = perAddress
			}
			break
		}
	}
	return out
}

// lookupASN finds the first ip2asn table that knows addr: its position in
// asnTables and what it says, or noTable.
func (ix *view) lookupASN(addr netip.Addr) (int, asn.Info) {
	for k, ref := range ix.asnTables {
		if info, ok := ref.T.Lookup(addr); ok {
			return k, info
		}
	}
	return noTable, asn.Info{}
}

// resolveASN merges the caller's ASN data with the ip2asn tables' (see
// Result for the rules).
func (ix *view) resolveASN(addr netip.Addr, callerASN uint32, callerName string) asnOf {
	k, info := ix.lookupASN(addr)
	return ix.mergeASN(k, info, callerASN, callerName)
}

// mergeASN is resolveASN once the table (k, noTable for none) and what it
// says are known.
func (ix *view) mergeASN(k int, info asn.Info, callerASN uint32, callerName string) asnOf {
	a := asnOf{asn: callerASN, name: callerName, table: -1}
	if callerASN != 0 || callerName != "" {
		a.source = ASNFromCaller
	}
	if k < 0 || (callerASN != 0 && callerASN != info.ASN) {
		return a // nobody knows, or the caller knows better: do not mix two networks' data
	}
	ref := ix.asnTables[k]
	a.asn = info.ASN
	a.country = ref.T.Country(info)
	if a.source == "" {
		a.source = ASNFromIP2ASN
	}
	if callerName == "" {
		a.name = ref.T.Name(info)
		a.tbl, a.nameIdx, a.table = ref.T, info.NameID(), ref.Src
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
// the networks that declare themselves access networks, then the
// hosting-ASN lists, then the AS-name heuristic, then the AS profile, else
// unknown. An access network's declaration overrules the lists built from
// whole ASNs (source.WholeASN), prefix lists included.
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
	fromAccess              // a network's declaration as an access network (Snapshot names its list)
)

// answer is classify into *r (overwritten whole) for callers that already
// have the canonical text of addr (text, which becomes Result.IP). It
// returns the position in srcs of the source that decided, or fromASName,
// fromProfile, fromNothing or fromAccess, for the engine's counters.
func (ix *view) answer(r *Result, addr netip.Addr, text string, callerASN uint32, callerName string, now time.Time) int {
	var (
		set     int32
		first   *index.Entry
		hit     bool
		buf     [8]*index.Entry
		matches []*index.Entry // a past epoch's view: every entry holding addr, in slot order
	)
	if ix.byType == nil {
		set = ix.prefixes.SetOf(addr)
		first, hit = ix.prefixes.First(set)
	} else {
		matches = buf[:0]
		for _, t := range ix.byType {
			matches = t.Matches(addr, matches)
		}
		if hit = len(matches) > 0; hit {
			first = matches[0]
		}
	}
	k, info := noTable, asn.Info{}
	if hit && ix.listASN != nil && ix.listASN[first.Pos].table != perAddress {
		k, info = int(ix.listASN[first.Pos].table), ix.listASN[first.Pos].info // known for the whole prefix
	} else {
		k, info = ix.lookupASN(addr)
	}
	a := ix.mergeASN(k, info, callerASN, callerName)
	*r = Result{
		IP: text, ClassifiedAt: now.UTC(),
		ASN: a.asn, ASName: a.name, Country: a.country, ASNSource: a.source,
	}
	access := ix.accessSrc(a.asn)
	var e *index.Entry
	var ok bool
	if ix.byType == nil {
		ix.evidenceOf(r, set, a)
		e, ok = ix.decidingEntry(set, access >= 0)
	} else { // a past epoch's view: no memo (its answers are not cached either)
		var v evidenceVal
		ix.buildEvidence(&v, matches, a)
		r.Evidence, r.Tags = v.evidence, v.tags
		e, ok = ix.decideAmong(matches, access >= 0)
	}
	if ok {
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
	if access >= 0 {
		r.Type = TypeResidential
		r.Provider = a.name
		r.Confidence = ConfidenceAccessASN
		r.Source = SourceAccessASN
		r.MatchedPrefix = "AS" + strconv.FormatUint(uint64(a.asn), 10)
		ix.fromSource(r, access, now)
		return fromAccess
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
	if m := ix.asName(a); m != nil {
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

// asName is the AS-name rules' verdict on a's name, nil when they have none.
func (ix *view) asName(a asnOf) *asname.Match {
	var m *asname.Match
	switch {
	case a.tbl != nil:
		m = a.tbl.Verdict(a.nameIdx)
	case a.name != "":
		m = ix.names.Of(a.name)
	}
	if m == nil || m.Kind == asname.None {
		return nil
	}
	return m
}

// evidenceOf fills r.Evidence and r.Tags (shared with every answer of the
// same key, from the memo when it has them): see buildEvidence.
func (ix *view) evidenceOf(r *Result, set int32, a asnOf) {
	key := evidenceKey{set: set, asn: a.asn, table: int32(a.table), name: a.name}
	m := ix.evidence
	m.mu.RLock()
	v, ok := m.m[key]
	m.mu.RUnlock()
	if !ok {
		var buf [8]*index.Entry
		ix.buildEvidence(&v, ix.prefixes.Members(set, buf[:0]), a)
		m.mu.Lock()
		if len(m.m) < maxEvidenceMemo {
			m.m[key] = v
		}
		m.mu.Unlock()
	}
	r.Evidence, r.Tags = v.evidence, v.tags
}

// buildEvidence makes the evidence and tags of an address: the prefix
// lists holding it (matches, as Index.Matches orders them), then the
// ASN-level sources with a verdict on a's network (hosting-ASN lists, an
// access declaration, the AS-name rules, the AS profile).
func (ix *view) buildEvidence(r *evidenceVal, matches []*index.Entry, a asnOf) {
	for _, m := range matches {
		src := &ix.srcs[m.Src]
		ev := Evidence{Source: src.label, Snapshot: src.name, Provider: m.Provider, MatchedPrefix: m.Prefix, Tag: src.tag}
		if m.Slot < tagSlot {
			ev.Type = listTypes[m.Slot]
		}
		if strings.HasSuffix(ev.Tag, ":") { // completed by the entry's name
			if m.Provider == "" {
				ev.Tag = ev.Tag[:len(ev.Tag)-1]
			} else {
				ev.Tag += m.Provider
			}
		}
		r.evidence = append(r.evidence, ev)
	}
	if a.asn != 0 {
		asText := ""
		for _, h := range ix.hosting {
			if h.set.Has(a.asn) {
				if asText == "" {
					asText = "AS" + strconv.FormatUint(uint64(a.asn), 10)
				}
				src := &ix.srcs[h.src]
				r.evidence = append(r.evidence, Evidence{
					Source: src.label, Snapshot: src.name, Type: TypeDatacenter, Provider: a.name, MatchedPrefix: asText, Tag: src.tag,
				})
			}
		}
	}
	if src := ix.accessSrc(a.asn); src >= 0 {
		r.evidence = append(r.evidence, Evidence{
			Source: SourceAccessASN, Snapshot: ix.srcs[src].name, Type: TypeResidential, Provider: a.name,
			MatchedPrefix: "AS" + strconv.FormatUint(uint64(a.asn), 10), Tag: ix.srcs[src].tag,
		})
	}
	if m := ix.asName(a); m != nil {
		ev := Evidence{Source: SourceASNName, Type: typeOfKind[m.Kind], Provider: a.name, MatchedPrefix: m.Evidence()}
		if a.table >= 0 {
			ev.Snapshot = ix.srcs[a.table].name
		}
		r.evidence = append(r.evidence, ev)
	}
	if v, ok := ix.profile[a.asn]; ok && a.asn != 0 {
		r.evidence = append(r.evidence, Evidence{
			Source: SourceASNProfile, Snapshot: ix.srcs[v.Src].name, Type: typeOfKind[v.Kind], Provider: a.name,
			MatchedPrefix: "AS" + strconv.FormatUint(uint64(a.asn), 10),
		})
	}
	for _, ev := range r.evidence {
		if ev.Tag != "" && !slices.Contains(r.tags, ev.Tag) {
			r.tags = append(r.tags, ev.Tag)
		}
	}
}

// decidingEntry is the prefix list entry that decides an address of set:
// the first (by type priority, most specific first) that is not a tag-only
// list, skipping the lists built from whole ASNs when the network declares
// itself an access network (access).
func (ix *view) decidingEntry(set int32, access bool) (*index.Entry, bool) {
	e, ok := ix.prefixes.First(set)
	if !ok || e.Slot >= tagSlot {
		return nil, false
	}
	if !access || !ix.srcs[e.Src].wholeASN {
		return e, true
	}
	var buf [8]*index.Entry
	return ix.decideAmong(ix.prefixes.Members(set, buf[:0]), access)
}

// decideAmong is decidingEntry among matches, every entry holding an
// address in slot order.
func (ix *view) decideAmong(matches []*index.Entry, access bool) (*index.Entry, bool) {
	for _, m := range matches {
		if m.Slot < tagSlot && !(access && ix.srcs[m.Src].wholeASN) {
			return m, true
		}
	}
	return nil, false
}

// accessSrc returns the position in srcs of the first list that names asn
// an access network, or -1 (also for asn 0).
func (ix *view) accessSrc(asn uint32) int {
	if asn == 0 {
		return -1
	}
	for _, ref := range ix.access {
		if ref.set.Has(asn) {
			return ref.src
		}
	}
	return -1
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
		return ok && e.Slot < tagSlot && listTypes[e.Slot] != TypeTor
	}
	return asn.BuildProfile(ix.asnTables, listed, hosting)
}
