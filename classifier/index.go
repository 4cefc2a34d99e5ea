package classifier

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/kentik/patricia"
	"github.com/kentik/patricia/generics_tree"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// listTypes are the labels that come from range lists, in priority order.
var listTypes = [...]IPType{TypeTor, TypeCloud, TypeDatacenter}

// indexEntry is one prefix of the index with what it says.
type indexEntry struct {
	prefix   string // canonical text, made once at build time
	provider string
	region   string
	service  string
	slot     uint8 // position of its type in listTypes: lower wins
	src      int   // position in index.srcs
}

// srcInfo is what an answer needs to know of the snapshot it came from.
type srcInfo struct {
	name       string
	label      string // Result.Source
	fetchedAt  time.Time
	stale      bool // the last refresh of this source failed
	staleAfter time.Duration
	prefixes   int
}

// index is an immutable lookup structure: one patricia tree per address
// family holding every prefix list, tagged with positions in entries, plus
// the ASN data: the ip2asn range tables and the hosting-ASN sets. A prefix
// lookup walks the tree once, collecting the tags on the path, and keeps the
// one of the highest-priority type, the deepest (most specific) within that
// type; IPv4 lookups read the same answers from flat4, the v4 tree
// flattened at build time. It is built once and never written after, so
// reads need no lock.
type index struct {
	v4        *generics_tree.TreeV4[uint32]
	v6        *generics_tree.TreeV6[uint32]
	flat4     *flatV4 // the v4 tree flattened: what IPv4 lookups use
	entries   []indexEntry
	srcs      []srcInfo
	asnTables []asn.TableRef // in source order: the first that knows an address answers
	hosting   []asnSetRef
	profile   asn.Profile // nil when disabled or not learnable
	// names memoises the AS-name heuristic for names callers pass:
	// pipelines see the same few thousand names again and again. It is the
	// engine's, shared by every index it builds.
	names *asname.Memo
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
}

// loadedFrom keeps what a parser yielded.
func loadedFrom(p parse.Parsed, fetchedAt time.Time, failed bool) loaded {
	return loaded{entries: p.Entries, asns: p.ASNs, table: p.Table, fetchedAt: fetchedAt, failed: failed}
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

// buildIndex builds an index from the loaded snapshots, keyed by source
// name. When two sources of one type list the same prefix, the one earlier
// in sources keeps it.
func buildIndex(sources []source, data map[string]loaded, names *asname.Memo, profile bool) *index {
	ix := &index{
		v4: generics_tree.NewTreeV4[uint32](), v6: generics_tree.NewTreeV6[uint32](),
		names: names,
	}
	sameType := func(a, b uint32) bool { return ix.entries[a].slot == ix.entries[b].slot }
	var cuts4 []uint32 // see flatV4
	for si, s := range sources {
		d := data[s.Name]
		ix.srcs = append(ix.srcs, srcInfo{
			name: s.Name, label: s.label(), fetchedAt: d.fetchedAt, stale: d.failed,
			staleAfter: s.staleAfter(), prefixes: d.size(),
		})
		switch s.Kind {
		case kindASNTable:
			if d.table != nil {
				ix.asnTables = append(ix.asnTables, asn.TableRef{T: d.table, Src: si})
			}
			continue
		case kindASNList:
			if len(d.asns) > 0 {
				ix.hosting = append(ix.hosting, asnSetRef{d.asns, si})
			}
			continue
		}
		slot := uint8(typeSlot(s.Type))
		for _, e := range d.entries {
			tag := uint32(len(ix.entries))
			ix.entries = append(ix.entries, indexEntry{
				prefix: e.Prefix.String(), provider: e.Provider, region: e.Region, service: e.Service,
				slot: slot, src: si,
			})
			var added bool
			if e.Prefix.Addr().Is4() {
				added, _ = ix.v4.Add(v4Key(e.Prefix.Addr(), e.Prefix.Bits()), tag, sameType)
				first := ipx.U32Of(e.Prefix.Masked().Addr())
				last := first | uint32(1<<(32-e.Prefix.Bits())-1)
				cuts4 = append(cuts4, first)
				if last != 1<<32-1 {
					cuts4 = append(cuts4, last+1)
				}
			} else {
				added, _ = ix.v6.Add(v6Key(e.Prefix.Addr(), e.Prefix.Bits()), tag, sameType)
			}
			if !added {
				ix.entries = ix.entries[:tag]
			}
		}
	}
	ix.flat4 = buildFlatV4(ix, cuts4)
	if profile {
		ix.profile = ix.buildProfile()
	}
	return ix
}

func typeSlot(t IPType) int {
	for i, lt := range listTypes {
		if lt == t {
			return i
		}
	}
	panic("classifier: no list for type " + string(t))
}

func v4Key(a netip.Addr, bits int) patricia.IPv4Address {
	b := a.As4()
	return patricia.NewIPv4Address(binary.BigEndian.Uint32(b[:]), uint(bits))
}

func v6Key(a netip.Addr, bits int) patricia.IPv6Address {
	b := a.As16()
	return patricia.IPv6Address{
		Left: binary.BigEndian.Uint64(b[:8]), Right: binary.BigEndian.Uint64(b[8:]), Length: uint(bits),
	}
}

// lookup returns the entry that decides addr: the highest-priority type
// among the prefixes holding addr, the most specific prefix of that type.
// IPv4 is answered from the flat table, IPv6 from the tree.
func (ix *index) lookup(addr netip.Addr) (*indexEntry, bool) {
	var i int
	if addr.Is4() {
		i = ix.flat4.find(ipx.U32Of(addr))
	} else {
		i = ix.treeLookup(addr)
	}
	if i < 0 {
		return nil, false
	}
	return &ix.entries[i], true
}

// treeLookup is lookup by a walk of the tree; it returns the position of
// the entry in ix.entries, -1 for none.
func (ix *index) treeLookup(addr netip.Addr) int {
	var buf [16]uint32
	var tags []uint32
	if addr.Is4() {
		tags = ix.v4.FindTagsAppend(buf[:0], v4Key(addr, 32))
	} else {
		tags = ix.v6.FindTagsAppend(buf[:0], v6Key(addr, 128))
	}
	best := -1
	for _, tag := range tags { // root first, so a later tag of the same type is deeper
		if best < 0 || ix.entries[tag].slot <= ix.entries[best].slot {
			best = int(tag)
		}
	}
	return best
}

// flatV4 is the IPv4 half of the index flattened for lookups: the address
// space cut at every prefix start and end into intervals, each holding the
// entry the tree answers for it (-1 for none), adjacent intervals with the
// same answer merged. Between two cuts every address lies in the same
// prefixes, so one tree lookup at the interval start is the answer for all
// of it: the table agrees with the tree by construction. A lookup is a
// binary search within a 16-bit bucket, like asnTable's: a few cache lines,
// where a walk of the tree touches one per node (about 20 for an address in
// a dense cloud range), which made the walk most of the cost of a batch.
type flatV4 struct {
	start  []uint32 // interval starts, ascending; start[0] == 0
	entry  []int32  // position in index.entries, -1 = no prefix
	bucket []uint32 // bucket[h] = first interval whose start>>16 >= h; len 1<<16+1
}

// buildFlatV4 flattens the IPv4 tree of ix; cuts are the first address of
// every prefix and the address after its last.
func buildFlatV4(ix *index, cuts []uint32) *flatV4 {
	cuts = append(cuts, 0)
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	f := &flatV4{start: make([]uint32, 0, len(cuts)), entry: make([]int32, 0, len(cuts))}
	for _, c := range cuts {
		e := int32(ix.treeLookup(ipx.U32Addr(c)))
		if n := len(f.entry); n > 0 && f.entry[n-1] == e {
			continue // same answer as the interval before: merge
		}
		f.start = append(f.start, c)
		f.entry = append(f.entry, e)
	}
	f.start, f.entry = slices.Clip(f.start), slices.Clip(f.entry)
	f.bucket = make([]uint32, 1<<16+1)
	i := 0
	for h := range f.bucket {
		for i < len(f.start) && f.start[i]>>16 < uint32(h) {
			i++
		}
		f.bucket[h] = uint32(i)
	}
	return f
}

// find returns the entry position deciding x, -1 for none.
func (f *flatV4) find(x uint32) int {
	// The first interval in [lo, hi) starting after x; the one before it
	// holds x (it may start in an earlier bucket; start[0] == 0).
	lo, hi := int(f.bucket[x>>16]), int(f.bucket[x>>16+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.start[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return int(f.entry[lo-1])
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
func (ix *index) resolveASN(addr netip.Addr, callerASN uint32, callerName string) asnOf {
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
func (ix *index) fromSource(r *Result, si int, now time.Time) {
	src := &ix.srcs[si]
	r.Snapshot = src.name
	r.SnapshotAt = src.fetchedAt
	r.Stale = src.stale || now.Sub(src.fetchedAt) > src.staleAfter
}

// classify answers for addr: the prefix lists (tor, cloud, datacenter), then
// the hosting-ASN lists, then the AS-name heuristic, then the AS profile,
// else unknown.
func (ix *index) classify(addr netip.Addr, callerASN uint32, callerName string, now time.Time) Result {
	return ix.answer(addr, addr.String(), callerASN, callerName, now)
}

// answer is classify for callers that already have the canonical text of
// addr (text, which becomes Result.IP).
func (ix *index) answer(addr netip.Addr, text string, callerASN uint32, callerName string, now time.Time) Result {
	a := ix.resolveASN(addr, callerASN, callerName)
	r := Result{
		IP: text, ClassifiedAt: now.UTC(),
		ASN: a.asn, ASName: a.name, Country: a.country, ASNSource: a.source,
	}
	if e, ok := ix.lookup(addr); ok {
		typ := listTypes[e.slot]
		r.Type = typ
		r.Provider, r.Region, r.Service = e.provider, e.region, e.service
		r.Source = ix.srcs[e.src].label
		r.MatchedPrefix = e.prefix
		ix.fromSource(&r, e.src, now)
		switch typ {
		case TypeTor:
			r.Confidence = ConfidenceTor
			r.Provider = ProviderTor // upstream's answers name the provider "tor"
		case TypeCloud:
			r.Confidence = ConfidenceCloud
		default:
			r.Confidence = ConfidenceDatacenter
		}
		return r
	}
	if a.asn != 0 {
		for _, h := range ix.hosting {
			if h.set.Has(a.asn) {
				r.Type = TypeDatacenter
				r.Provider = a.name
				r.Confidence = ConfidenceHostingASN
				r.Source = ix.srcs[h.src].label
				r.MatchedPrefix = "AS" + strconv.FormatUint(uint64(a.asn), 10)
				ix.fromSource(&r, h.src, now)
				return r
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
			ix.fromSource(&r, a.table, now)
		}
		return r
	}
	if v, ok := ix.profile[a.asn]; ok && a.asn != 0 {
		r.Type = typeOfKind[v.Kind]
		r.Provider = a.name
		r.Confidence = ConfidenceASNProfile
		r.Source = SourceASNProfile
		r.MatchedPrefix = v.Evidence
		ix.fromSource(&r, v.Src, now)
		return r
	}
	r.Type = TypeUnknown
	r.Source = SourceNone
	return r
}

// typeOfKind is the label each kind of network the AS-name rules and the AS
// profile recognise gets.
var typeOfKind = [...]IPType{asname.None: TypeUnknown, asname.Residential: TypeResidential, asname.Hosting: TypeDatacenter}

// buildProfile learns the AS profile from the index's own tables and lists:
// an address in a cloud or datacenter prefix list marks its network as
// hosting (Tor relays run anywhere, so their lists say nothing).
func (ix *index) buildProfile() asn.Profile {
	hosting := make([]asn.Set, len(ix.hosting))
	for i, h := range ix.hosting {
		hosting[i] = h.set
	}
	listed := func(a netip.Addr) bool {
		e, ok := ix.lookup(a)
		return ok && listTypes[e.slot] != TypeTor
	}
	return asn.BuildProfile(ix.asnTables, listed, hosting)
}
