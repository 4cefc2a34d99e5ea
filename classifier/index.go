package classifier

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/kentik/patricia"
	"github.com/kentik/patricia/generics_tree"
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
// family holding every list, tagged with positions in entries. A lookup
// walks the tree once, collecting the tags on the path, and keeps the one of
// the highest-priority type, the deepest (most specific) within that type.
// It is built once and never written after, so reads need no lock.
type index struct {
	v4      *generics_tree.TreeV4[uint32]
	v6      *generics_tree.TreeV6[uint32]
	entries []indexEntry
	srcs    []srcInfo
	// residential memoises the AS-name heuristic: pipelines see the same
	// few thousand names again and again.
	residential *residentialMemo
}

// loaded is one source's parsed snapshot as the index builder takes it.
type loaded struct {
	entries   []Entry
	fetchedAt time.Time
	failed    bool // the newest refresh attempt failed
}

// buildIndex builds an index from the loaded snapshots, keyed by source
// name. When two sources of one type list the same prefix, the one earlier
// in sources keeps it.
func buildIndex(sources []Source, data map[string]loaded) *index {
	ix := &index{
		v4: generics_tree.NewTreeV4[uint32](), v6: generics_tree.NewTreeV6[uint32](),
		residential: newResidentialMemo(),
	}
	sameType := func(a, b uint32) bool { return ix.entries[a].slot == ix.entries[b].slot }
	for si, s := range sources {
		d := data[s.Name]
		ix.srcs = append(ix.srcs, srcInfo{
			name: s.Name, label: s.label(), fetchedAt: d.fetchedAt, stale: d.failed,
			staleAfter: s.staleAfter(), prefixes: len(d.entries),
		})
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
			} else {
				added, _ = ix.v6.Add(v6Key(e.Prefix.Addr(), e.Prefix.Bits()), tag, sameType)
			}
			if !added {
				ix.entries = ix.entries[:tag]
			}
		}
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
func (ix *index) lookup(addr netip.Addr) (*indexEntry, bool) {
	var buf [16]uint32
	var tags []uint32
	if addr.Is4() {
		tags = ix.v4.FindTagsAppend(buf[:0], v4Key(addr, 32))
	} else {
		tags = ix.v6.FindTagsAppend(buf[:0], v6Key(addr, 128))
	}
	var best *indexEntry
	for _, tag := range tags { // root first, so a later tag of the same type is deeper
		if e := &ix.entries[tag]; best == nil || e.slot <= best.slot {
			best = e
		}
	}
	return best, best != nil
}

// classify answers for addr from the lists, then the AS-name heuristic.
func (ix *index) classify(addr netip.Addr, asn uint32, asName string, now time.Time) Result {
	r := Result{IP: addr.String(), ClassifiedAt: now.UTC(), ASN: asn, ASName: asName}
	if e, ok := ix.lookup(addr); ok {
		typ := listTypes[e.slot]
		src := &ix.srcs[e.src]
		r.Type = typ
		r.Provider, r.Region, r.Service = e.provider, e.region, e.service
		r.Source = src.label
		r.Matched = e.prefix
		r.Snapshot = src.name
		r.SnapshotAt = src.fetchedAt
		r.Stale = src.stale || now.Sub(src.fetchedAt) > src.staleAfter
		switch typ {
		case TypeTor:
			r.Confidence = ConfidenceTor
		case TypeCloud:
			r.Confidence = ConfidenceCloud
		default:
			r.Confidence = ConfidenceDatacenter
		}
		return r
	}
	if m := ix.residential.match(asName); m.confidence > 0 {
		r.Type = TypeResidential
		r.Provider = asName
		r.Confidence = m.confidence
		r.Source = SourceASNName
		r.Matched = m.evidence()
		return r
	}
	r.Type = TypeUnknown
	r.Source = SourceNone
	return r
}
