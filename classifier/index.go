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
	prefix   netip.Prefix
	provider string
	region   string
	service  string
	src      int // position in index.srcs
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

// index is an immutable lookup structure: one patricia tree per list type
// and address family, tagged with positions in entries. It is built once
// and never written after, so concurrent reads need no lock.
type index struct {
	v4      [len(listTypes)]*generics_tree.TreeV4[uint32]
	v6      [len(listTypes)]*generics_tree.TreeV6[uint32]
	entries [len(listTypes)][]indexEntry
	srcs    []srcInfo
}

// loaded is one source's parsed snapshot as the index builder takes it.
type loaded struct {
	entries   []Entry
	fetchedAt time.Time
	failed    bool // the newest refresh attempt failed
}

// buildIndex builds an index from the loaded snapshots, keyed by source
// name. Inside one list type the most specific prefix wins; when two
// sources list the same prefix, the one earlier in sources wins.
func buildIndex(sources []Source, data map[string]loaded) *index {
	ix := &index{}
	for t := range listTypes {
		ix.v4[t] = generics_tree.NewTreeV4[uint32]()
		ix.v6[t] = generics_tree.NewTreeV6[uint32]()
	}
	for si, s := range sources {
		d := data[s.Name]
		ix.srcs = append(ix.srcs, srcInfo{
			name: s.Name, label: s.label(), fetchedAt: d.fetchedAt, stale: d.failed,
			staleAfter: s.staleAfter(), prefixes: len(d.entries),
		})
		t := typeSlot(s.Type)
		for _, e := range d.entries {
			tag := uint32(len(ix.entries[t]))
			var added bool
			if e.Prefix.Addr().Is4() {
				added, _ = ix.v4[t].Add(v4Key(e.Prefix.Addr(), e.Prefix.Bits()), tag, firstWins)
			} else {
				added, _ = ix.v6[t].Add(v6Key(e.Prefix.Addr(), e.Prefix.Bits()), tag, firstWins)
			}
			if added {
				ix.entries[t] = append(ix.entries[t], indexEntry{
					prefix: e.Prefix, provider: e.Provider, region: e.Region, service: e.Service, src: si,
				})
			}
		}
	}
	return ix
}

// firstWins is the tree's equality test for Add: any tag already on a node
// counts as equal, so the first source to list a prefix keeps it.
func firstWins(uint32, uint32) bool { return true }

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

// lookup returns the most specific entry of list type slot t holding addr.
func (ix *index) lookup(t int, addr netip.Addr) (*indexEntry, bool) {
	var ok bool
	var tag uint32
	if addr.Is4() {
		ok, tag = ix.v4[t].FindDeepestTag(v4Key(addr, 32))
	} else {
		ok, tag = ix.v6[t].FindDeepestTag(v6Key(addr, 128))
	}
	if !ok {
		return nil, false
	}
	return &ix.entries[t][tag], true
}

// classify answers for addr from the lists, then the AS-name heuristic.
func (ix *index) classify(addr netip.Addr, asn uint32, asName string, now time.Time) Result {
	r := Result{IP: addr.String(), ClassifiedAt: now.UTC(), ASN: asn, ASName: asName}
	for t, typ := range listTypes {
		e, ok := ix.lookup(t, addr)
		if !ok {
			continue
		}
		src := &ix.srcs[e.src]
		r.Type = typ
		r.Provider, r.Region, r.Service = e.provider, e.region, e.service
		r.Source = src.label
		r.Matched = e.prefix.String()
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
	if m := matchResidential(asName); m.confidence > 0 {
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
