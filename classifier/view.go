package classifier

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/index"
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
	// ivls holds the interval record of every interval of prefixes (see
	// interval); nil in a view of a past epoch, whose answers are made
	// without the memos (setParts, netParts, pairs: nil too).
	ivls    []interval
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
	// setParts (by set number) and netParts memoise the two parts of the current-time
	// answers (see partsOf); nameSeed hashes the AS names callers pass
	// for netParts. A view of a past epoch has none (its answers are not
	// cached either); the restamped copies of a view share them (parts
	// carry no snapshot stamps).
	setParts []atomic.Pointer[setPart]
	netParts *memo[netKey, netPart]
	// ivAnswers counts the answers kept on interval records (see
	// maxIntervalAnswers), shared by the restamped copies as the records
	// are.
	ivAnswers *atomic.Int64
	pairs     *memo[pairKey, evidenceVal] // see joinEvidence
	keys      *memo[pairKey, uint64]      // see keyOf
	nameSeed  maphash.Seed
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
	ix.prefixes = prefixIndex(sources, data, -1, ix.asnTables)
	ix.ivls, ix.ivAnswers = ix.buildIntervals(), new(atomic.Int64)
	ix.setParts, ix.netParts = make([]atomic.Pointer[setPart], ix.prefixes.Sets()), newMemo[netKey, netPart](netMemoBits)
	ix.pairs = newMemo[pairKey, evidenceVal](pairMemoBits)
	ix.keys = newMemo[pairKey, uint64](pairMemoBits)
	ix.nameSeed = maphash.MakeSeed()
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
// sourceSlot) is slot, all of them for slot -1, its intervals cut where
// what the ip2asn tables say changes too (see interval).
func prefixIndex(sources []source, data map[string]loaded, slot int, tables []asn.TableRef) *index.Index {
	prefixes := index.NewBuilder()
	for _, t := range tables {
		prefixes.Cut(t.T.Cuts())
	}
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
	// keep fromAccess the lowest: tally.add indexes its counts from it
)

// answer is classify into *r (overwritten whole) for callers that already
// have the canonical text of addr (text, which becomes Result.IP). It
// returns the position in srcs of the source that decided, or fromASName,
// fromProfile, fromNothing or fromAccess, for the engine's counters.
//
// An answer is made of two parts: what the list prefixes holding the
// address say (a setPart) and what its network says (a netPart). A view
// of the current time memoises both (see partsOf), and keeps the whole
// answer to a caller passing no ASN data on the interval record: such an
// answer is then one search of the index, one record and the copy of the
// answer it points to. A view without interval records (a past epoch's)
// makes both parts for each answer.
func (ix *view) answer(r *Result, addr netip.Addr, text string, callerASN uint32, callerName string, now time.Time) int {
	var stamp, from int
	if ix.ivls != nil {
		i := ix.prefixes.Locate(addr)
		iv := &ix.ivls[i]
		if callerASN != 0 || callerName != "" {
			sp, np := ix.partsOf(i, iv, callerASN, callerName)
			stamp, from = ix.compose(r, sp, np)
			r.key = ix.keyOf(sp, np)
		} else if c := iv.answer.Load(); c != nil { // the same answer for the whole interval
			*r = c.r
			stamp, from = c.stamp, c.from
		} else {
			sp, np := ix.partsOf(i, iv, 0, "")
			stamp, from = ix.compose(r, sp, np)
			if ix.ivAnswers.Add(1) <= maxIntervalAnswers { // past it, no key either: keyOf would cost every such answer a memo lookup
				r.key = ix.keyOf(sp, np)
				iv.answer.Store(&intervalAnswer{r: *r, stamp: stamp, from: from}) // a racing caller may store its own equal answer: either serves
			}
		}
	} else { // no interval records: nothing memoised (a past epoch's answers are not cached either)
		var buf [8]*index.Entry
		matches := buf[:0]
		if ix.byType == nil {
			matches = ix.prefixes.Matches(addr, matches)
		}
		for _, t := range ix.byType {
			matches = t.Matches(addr, matches)
		}
		k, info := ix.lookupASN(addr)
		sp, np := ix.newSetPart(matches), ix.newNetPart(ix.mergeASN(k, info, callerASN, callerName))
		stamp, from = ix.compose(r, &sp, &np)
	}
	r.IP, r.ClassifiedAt = text, now.UTC()
	if stamp >= 0 {
		ix.fromSource(r, stamp, now)
	}
	return from
}

// compose makes the answer of the parts sp and np into *r, overwritten
// whole but for IP, ClassifiedAt and the snapshot stamps: the list
// prefix deciding, else the network's answer. It returns the position in
// srcs of the source whose snapshot stamps the answer (-1 for none) and
// what answer returns.
func (ix *view) compose(r *Result, sp *setPart, np *netPart) (stamp, from int) {
	a := &np.a
	*r = Result{ASN: a.asn, ASName: a.name, Country: a.country, ASNSource: a.source}
	r.Evidence, r.Tags = ix.joinEvidence(sp, np)
	d := &sp.decides
	if np.access >= 0 {
		d = &sp.decidesAccess
	}
	if d.src >= 0 {
		r.Type, r.Provider, r.Region, r.Service = d.typ, d.provider, d.region, d.service
		r.Confidence, r.Source, r.MatchedPrefix = d.confidence, d.source, d.prefix
		return d.src, d.src
	}
	r.Type, r.Provider, r.Confidence, r.Source, r.MatchedPrefix = np.typ, np.provider, np.confidence, np.source, np.matched
	return np.stamp, np.from
}

// keyOf returns the key of the answers composed of sp and np
// (Result.Key), made on first use; 0 in a view without memos (a past
// epoch's). The memo holds sp and np, so neither address is reused while
// their key lives.
func (ix *view) keyOf(sp *setPart, np *netPart) uint64 {
	if ix.keys == nil {
		return 0
	}
	k := pairKey{sp, np}
	h := k.hash()
	if v := ix.keys.get(h, k); v != nil {
		return *v
	}
	return *ix.keys.put(h, k, answerKeys.Add(1)) // a racing caller may make its own key: either names the answer
}

// interval is what a view knows of every address of one interval of its
// prefix index (Index.Locate; the index is cut where what the ip2asn
// tables say changes too, so it is the same for every address of an
// interval): table, the position in asnTables of the first table knowing
// its addresses (noTable for none), and info, what that table says. One
// search of the index and one read of this record then locate an
// address's list prefixes and its network.
//
// answer holds the answer of the interval's addresses to a caller passing
// no ASN data, made on first use: one pointer away from the record.
type interval struct {
	table  int32
	info   asn.Info
	answer atomic.Pointer[intervalAnswer]
}

// answerKeys numbers the answers of the current views (Result.Key: one
// per pair of parts they are composed of), process-wide: a key is never
// reused, whichever engine or view made it.
var answerKeys atomic.Uint64

// maxIntervalAnswers bounds the answers kept on interval records (some
// 400 bytes each: 25 MiB at most); past it, answers are composed from
// their parts. A honeypot's traffic touches some thousands of intervals a
// day; a scan of the whole address space would touch them all.
const maxIntervalAnswers = 1 << 16

// intervalAnswer is the answer of an interval's addresses (see interval),
// as compose makes it.
type intervalAnswer struct {
	r           Result
	stamp, from int
}

// noTable is interval.table and netKey.table when no ip2asn table knows
// the addresses.
const noTable = -1

// buildIntervals computes the interval record of every interval of the
// prefix index. The first table holding any address of an interval holds
// all of it in one range: the index is cut at every range's ends (see
// prefixIndex).
func (ix *view) buildIntervals() []interval {
	out := make([]interval, ix.prefixes.Intervals())
	for i := range out {
		first, last, _ := ix.prefixes.Interval(int32(i))
		out[i].table = noTable
		for k, ref := range ix.asnTables {
			info, cov := ref.T.Span(first, last)
			if cov == asn.CoversNone {
				continue
			}
			if cov != asn.CoversWhole {
				panic(fmt.Sprintf("classifier: interval %s-%s is not cut at the ends of an ip2asn range", first, last))
			}
			out[i].table, out[i].info = int32(k), info
			break
		}
	}
	return out
}

// netKey is everything a netPart depends on: what the ip2asn tables say
// of an address (see interval) and what the caller passed.
type netKey struct {
	table      int32
	info       asn.Info
	callerASN  uint32
	callerName string
}

// netMemoBits is the size of a view's netPart memo (bits of its slot
// count): 131,072 pointers (1 MiB), and the parts asked for, some hundreds
// of bytes each with their evidence. A honeypot's traffic comes from a few
// thousand networks at a time; a scan of the whole address space cycles
// through the memo without growing it.
const netMemoBits = 17

// partsOf returns the two parts of the current-time answer for an
// address of interval i (whose record is iv), from the view's memos when
// they hold them, else made and kept there. The setParts are kept one per
// set of the index, made on first use: at most as many as the index has
// sets, the prefixes' own count.
func (ix *view) partsOf(i int32, iv *interval, callerASN uint32, callerName string) (*setPart, *netPart) {
	set := ix.prefixes.IntervalSet(i)
	sp := ix.setParts[set].Load()
	if sp == nil {
		var buf [8]*index.Entry
		p := ix.newSetPart(ix.prefixes.Members(set, buf[:0]))
		ix.setParts[set].Store(&p) // a racing caller may store its own equal part: either serves
		sp = &p
	}
	k := netKey{table: iv.table, info: iv.info, callerASN: callerASN, callerName: callerName}
	h := mix64(uint64(uint32(k.table))<<32|uint64(k.info.ASN)) ^ mix64(uint64(k.info.NameID())<<32|uint64(callerASN))
	if callerName != "" {
		h ^= maphash.String(ix.nameSeed, callerName)
	}
	np := ix.netParts.get(h, k)
	if np == nil {
		np = ix.netParts.put(h, k, ix.newNetPart(ix.mergeASN(int(k.table), k.info, callerASN, callerName)))
	}
	return sp, np
}

// setPart is what the list prefixes holding an address say: their
// evidence and tags, and the answer of the entry that decides the address
// when its network is not an access network (decides) and when it is
// (decidesAccess: the lists built from whole ASNs are then overruled).
type setPart struct {
	evidenceVal
	decides, decidesAccess listAnswer
}

// listAnswer is the answer of a list prefix deciding an address: its
// fields of Result, and src, the position in srcs of its list (-1 when no
// prefix decides).
type listAnswer struct {
	typ                                       IPType
	provider, region, service, source, prefix string
	confidence                                float64
	src                                       int
}

// listAnswerOf is the answer of e, a no-decision answer for nil.
func (ix *view) listAnswerOf(e *index.Entry) listAnswer {
	if e == nil {
		return listAnswer{src: -1}
	}
	a := listAnswer{
		typ: listTypes[e.Slot], provider: e.Provider, region: e.Region, service: e.Service,
		source: ix.srcs[e.Src].label, prefix: e.Prefix, src: e.Src,
	}
	switch a.typ {
	case TypeTor:
		a.confidence = ConfidenceTor
		a.provider = ProviderTor // upstream's answers name the provider "tor"
	case TypeCloud:
		a.confidence = ConfidenceCloud
	default:
		a.confidence = ConfidenceDatacenter
	}
	return a
}

// newSetPart makes the setPart of matches (every entry holding an
// address, as Index.Matches orders them).
func (ix *view) newSetPart(matches []*index.Entry) setPart {
	var p setPart
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
		p.evidence = append(p.evidence, ev)
	}
	p.tags = tagsOf(nil, p.evidence)
	e, _ := ix.decideAmong(matches, false)
	p.decides = ix.listAnswerOf(e)
	e, _ = ix.decideAmong(matches, true)
	p.decidesAccess = ix.listAnswerOf(e)
	return p
}

// netPart is what an address's network says: a (the ASN data of the
// answer), access (the position in srcs of the list declaring it an
// access network, -1 for none), the evidence and tags of the ASN-level
// sources with a verdict on it (hosting-ASN lists, an access declaration,
// the AS-name rules, the AS profile), and the answer when no list prefix
// decides: its type, provider, confidence, source and matched prefix, the
// source whose snapshot stamps it (stamp, -1 for none) and what answer
// returns (from).
type netPart struct {
	evidenceVal
	a                         asnOf
	access                    int
	typ                       IPType
	provider, source, matched string
	confidence                float64
	stamp, from               int
}

// newNetPart makes the netPart of the network a: an access network's
// declaration, then the hosting-ASN lists, then the AS-name heuristic,
// then the AS profile, else unknown.
func (ix *view) newNetPart(a asnOf) netPart {
	p := netPart{a: a, access: ix.accessSrc(a.asn), typ: TypeUnknown, source: SourceNone, stamp: -1, from: fromNothing}
	asText := ""
	if a.asn != 0 {
		asText = "AS" + strconv.FormatUint(uint64(a.asn), 10)
	}
	decided := false
	decide := func(typ IPType, conf float64, source, matched string, stamp, from int) {
		if !decided {
			decided = true
			p.typ, p.provider, p.confidence, p.source, p.matched, p.stamp, p.from = typ, a.name, conf, source, matched, stamp, from
		}
	}
	if p.access >= 0 { // decides first; its evidence comes after the hosting lists'
		decide(TypeResidential, ConfidenceAccessASN, SourceAccessASN, asText, p.access, fromAccess)
	}
	if a.asn != 0 {
		for _, h := range ix.hosting {
			if h.set.Has(a.asn) {
				src := &ix.srcs[h.src]
				p.evidence = append(p.evidence, Evidence{
					Source: src.label, Snapshot: src.name, Type: TypeDatacenter, Provider: a.name, MatchedPrefix: asText, Tag: src.tag,
				})
				decide(TypeDatacenter, ConfidenceHostingASN, src.label, asText, h.src, h.src)
			}
		}
	}
	if p.access >= 0 {
		src := &ix.srcs[p.access]
		p.evidence = append(p.evidence, Evidence{
			Source: SourceAccessASN, Snapshot: src.name, Type: TypeResidential, Provider: a.name, MatchedPrefix: asText, Tag: src.tag,
		})
	}
	if m := ix.asName(a); m != nil {
		ev := Evidence{Source: SourceASNName, Type: typeOfKind[m.Kind], Provider: a.name, MatchedPrefix: m.Evidence()}
		if a.table >= 0 {
			ev.Snapshot = ix.srcs[a.table].name
		}
		p.evidence = append(p.evidence, ev)
		decide(typeOfKind[m.Kind], m.Confidence, SourceASNName, m.Evidence(), a.table, fromASName) // a.table is -1 for a caller's name
	}
	if v, ok := ix.profile[a.asn]; ok && a.asn != 0 {
		p.evidence = append(p.evidence, Evidence{
			Source: SourceASNProfile, Snapshot: ix.srcs[v.Src].name, Type: typeOfKind[v.Kind], Provider: a.name, MatchedPrefix: asText,
		})
		decide(typeOfKind[v.Kind], ConfidenceASNProfile, SourceASNProfile, v.Evidence, v.Src, fromProfile)
	}
	p.tags = tagsOf(nil, p.evidence)
	return p
}

// pairKey names the joined evidence of a setPart and a netPart: a part
// is never written after it is published and a key holding its address
// keeps it alive, so the address names it.
type pairKey struct {
	sp *setPart
	np *netPart
}

// hash is k's slot hash in the memos keyed by pairs (see memo).
func (k pairKey) hash() uint64 {
	return mix64(uint64(uintptr(unsafe.Pointer(k.sp)))) ^ uint64(uintptr(unsafe.Pointer(k.np)))>>4
}

// pairMemoBits is the size of a view's memo of joined evidence (bits of
// its slot count; see netMemoBits).
const pairMemoBits = 16

// joinEvidence is the evidence and tags of an answer: the list prefixes'
// then the network's. When both have some, the joined slices come from
// the view's pair memo, made and kept there on a miss.
func (ix *view) joinEvidence(sp *setPart, np *netPart) ([]Evidence, []string) {
	switch {
	case len(np.evidence) == 0:
		return sp.evidence, sp.tags
	case len(sp.evidence) == 0:
		return np.evidence, np.tags
	}
	k := pairKey{sp, np}
	h := k.hash()
	if ix.pairs != nil { // a view of a past epoch has no memo
		if v := ix.pairs.get(h, k); v != nil {
			return v.evidence, v.tags
		}
	}
	var v evidenceVal
	v.evidence = make([]Evidence, 0, len(sp.evidence)+len(np.evidence))
	v.evidence = append(append(v.evidence, sp.evidence...), np.evidence...)
	v.tags = sp.tags
	if len(np.tags) > 0 {
		v.tags = tagsOf(slices.Clip(sp.tags), np.evidence)
	}
	if ix.pairs != nil {
		ix.pairs.put(h, k, v)
	}
	return v.evidence, v.tags
}

// evidenceVal is evidence and its tags.
type evidenceVal struct {
	evidence []Evidence
	tags     []string
}

// tagsOf appends to tags the tags of evidence it does not hold yet.
func tagsOf(tags []string, evidence []Evidence) []string {
	for _, ev := range evidence {
		if ev.Tag != "" && !slices.Contains(tags, ev.Tag) {
			tags = append(tags, ev.Tag)
		}
	}
	return tags
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

// decideAmong is the prefix list entry that decides an address held by
// matches (every entry holding it, in slot order): the first that is not
// a tag-only list, skipping the lists built from whole ASNs when the
// network declares itself an access network (access).
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
