// Package index is the engine's prefix index. A Builder gathers every
// prefix list into one patricia tree (kentik/patricia) per address family,
// each prefix tagged with an Entry, and flattens each tree into a sorted
// interval table, which is all an Index keeps (the trees were most of its
// heap): Lookup gives the deciding entry, Matches every entry holding an
// address, Locate the interval for records a caller keeps beside each.
// Among the prefixes holding an address, the one of the best (lowest)
// Slot decides, the deepest (most specific) within that slot. An Index is
// built once and never written after, so reads need no lock.
package index

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"

	"github.com/kentik/patricia"
	"github.com/kentik/patricia/generics_tree"

	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// Entry is what a prefix of the index says. The index reads only Slot
// (priority: lower wins); the rest is the caller's.
type Entry struct {
	Prefix   string // canonical text, made once at build time
	Provider string
	Region   string
	Service  string
	Slot     uint8 // priority of the entry's label: lower wins
	Src      int   // the caller's position of the source it came from
	// Pos is the entry's position in the index (0 to Len()-1), set by
	// Add: a key for what the caller keeps beside each entry.
	Pos int32
}

// Builder gathers prefixes into an Index. The zero value is not usable:
// make one with NewBuilder.
type Builder struct {
	ix *Index
	// v4 and v6 hold the prefixes while the index is built: the flat
	// tables are made from them, and an Index does not keep them (they
	// were most of its heap).
	v4    *generics_tree.TreeV4[uint32]
	v6    *generics_tree.TreeV6[uint32]
	cuts4 []uint32   // see flatV4
	cuts6 []ipx.U128 // see flatV6
	// more4 and more6 are the interval starts Cut adds.
	more4 []uint32
	more6 []ipx.U128
	// strs holds one copy of each provider, region and service text: the
	// entries share it (a few hundred texts over hundreds of thousands of
	// entries), and none keeps the bytes of the file it was read from.
	strs map[string]string
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{ix: &Index{}, v4: generics_tree.NewTreeV4[uint32](), v6: generics_tree.NewTreeV6[uint32](), strs: map[string]string{}}
}

// intern returns the Builder's copy of s.
func (b *Builder) intern(s string) string {
	if s == "" {
		return ""
	}
	c, ok := b.strs[s]
	if !ok {
		c = strings.Clone(s)
		b.strs[c] = c
	}
	return c
}

// Add adds pfx with what it says. When a prefix is added twice with the
// same Slot, the first keeps it (sources added earlier win); it reports
// whether e was kept.
func (b *Builder) Add(pfx netip.Prefix, e Entry) bool {
	ix := b.ix
	sameSlot := func(a, c uint32) bool { return ix.entries[a].Slot == ix.entries[c].Slot }
	e.Prefix = pfx.String()
	e.Provider, e.Region, e.Service = b.intern(e.Provider), b.intern(e.Region), b.intern(e.Service)
	tag := uint32(len(ix.entries))
	e.Pos = int32(tag)
	ix.entries = append(ix.entries, e)
	var added bool
	if pfx.Addr().Is4() {
		added, _ = b.v4.Add(v4Key(pfx.Addr(), pfx.Bits()), tag, sameSlot)
		first := ipx.U32Of(pfx.Masked().Addr())
		last := first | uint32(1<<(32-pfx.Bits())-1)
		b.cuts4 = append(b.cuts4, first)
		if last != 1<<32-1 {
			b.cuts4 = append(b.cuts4, last+1)
		}
	} else {
		added, _ = b.v6.Add(v6Key(pfx.Addr(), pfx.Bits()), tag, sameSlot)
		first := ipx.U128Of(pfx.Masked().Addr())
		last := first
		if bits := pfx.Bits(); bits < 64 {
			last.Hi |= 1<<(64-bits) - 1
			last.Lo = 1<<64 - 1
		} else {
			last.Lo |= 1<<(128-bits) - 1
		}
		b.cuts6 = append(b.cuts6, first)
		if last != (ipx.U128{Hi: 1<<64 - 1, Lo: 1<<64 - 1}) {
			b.cuts6 = append(b.cuts6, last.Inc())
		}
	}
	if !added {
		ix.entries = ix.entries[:tag]
	}
	return added
}

// Cut makes every address of v4 and v6 (numbers of IPv4 and IPv6
// addresses, see ipx) the start of an interval (see Locate), even where
// the prefixes holding addresses do not change: a caller keeping records
// beside the intervals cuts them where its own data changes too.
func (b *Builder) Cut(v4 []uint32, v6 []ipx.U128) {
	b.more4, b.more6 = append(b.more4, v4...), append(b.more6, v6...)
}

// Build returns the Index of the prefixes added. The Builder is spent (it
// keeps its trees, for a white-box test's reference walk: drop it).
func (b *Builder) Build() *Index {
	b.ix.sets, b.ix.setIDs = []uint32{0}, map[string]int32{}
	b.ix.flat4 = buildFlatV4(b, b.cuts4)
	b.ix.flat6 = buildFlatV6(b, b.cuts6)
	if len(b.more4) > 0 {
		b.ix.flat4.start, b.ix.flat4.set = refine(b.ix.flat4.start, b.ix.flat4.set, b.more4, cmp.Compare[uint32])
		b.ix.flat4.fillBuckets()
	}
	if len(b.more6) > 0 {
		b.ix.flat6.start, b.ix.flat6.set = refine(b.ix.flat6.start, b.ix.flat6.set, b.more6, ipx.U128.Cmp)
		b.ix.flat6.fillBuckets()
	}
	ix := b.ix
	ix.setIDs = nil
	b.cuts4, b.cuts6, b.more4, b.more6, b.strs = nil, nil, nil, nil, nil
	return ix
}

// refine cuts the intervals (start, set) at every address of more too: a
// new interval holds what the one it was cut from holds.
func refine[A any](start []A, set []int32, more []A, cmp func(A, A) int) ([]A, []int32) {
	more = slices.Clone(more)
	slices.SortFunc(more, cmp)
	more = slices.CompactFunc(more, func(a, b A) bool { return cmp(a, b) == 0 })
	n := len(start) + len(more)
	s2, t2 := make([]A, 0, n), make([]int32, 0, n)
	j := 0
	for i := range start {
		s2, t2 = append(s2, start[i]), append(t2, set[i])
		for j < len(more) && cmp(more[j], start[i]) <= 0 {
			j++
		}
		for ; j < len(more) && (i+1 == len(start) || cmp(more[j], start[i+1]) < 0); j++ {
			s2, t2 = append(s2, more[j]), append(t2, set[i])
		}
	}
	return slices.Clip(s2), slices.Clip(t2)
}

// Index is an immutable prefix index; see the package documentation.
type Index struct {
	flat4   *flatV4 // the v4 tree flattened: what IPv4 lookups use
	flat6   *flatV6 // the v6 tree flattened: what IPv6 lookups use
	entries []Entry
	// sets holds, for every distinct set of prefixes an interval of the
	// flat tables lies in, the positions of their entries (see Matches):
	// set k is members[sets[k]:sets[k+1]].
	sets    []uint32
	members []int32
	setIDs  map[string]int32 // build time only: a set's members as bytes → k
}

// Len counts the entries (prefixes kept).
func (ix *Index) Len() int { return len(ix.entries) }

// Prefixes returns the prefixes kept, in the order they were added (by
// Entry.Pos).
func (ix *Index) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, len(ix.entries))
	for i := range ix.entries {
		out[i] = netip.MustParsePrefix(ix.entries[i].Prefix)
	}
	return out
}

// Lookup returns the entry that decides addr: the best slot among the
// prefixes holding addr, the most specific prefix of that slot, answered
// from the flat tables.
func (ix *Index) Lookup(addr netip.Addr) (*Entry, bool) {
	return ix.First(ix.SetOf(addr))
}

// Matches appends to dst every entry whose prefix holds addr — the one
// Lookup returns and all it outranks — ordered by Slot, the most specific
// first within one. A prefix added twice with the same Slot is there once
// (as Add keeps it).
func (ix *Index) Matches(addr netip.Addr, dst []*Entry) []*Entry {
	return ix.Members(ix.SetOf(addr), dst)
}

// SetOf returns the number of the set of entries holding addr: two
// addresses in the same prefixes have the same one.
func (ix *Index) SetOf(addr netip.Addr) int32 {
	if addr.Is4() {
		return ix.flat4.set[ix.flat4.find(ipx.U32Of(addr))]
	}
	return ix.flat6.set[ix.flat6.find(ipx.U128Of(addr))]
}

// Sets counts the distinct sets of prefixes holding an address (SetOf
// numbers them 0 to Sets()-1; 0 is the empty set).
func (ix *Index) Sets() int { return len(ix.sets) - 1 }

// Intervals counts the intervals the index cuts the address space into
// (both families): every address of one lies in the same prefixes.
// Locate numbers them 0 to Intervals()-1, IPv4 first.
func (ix *Index) Intervals() int { return len(ix.flat4.start) + len(ix.flat6.start) }

// Locate returns the number of the interval holding addr: one search, for
// callers that keep something of their own beside each interval.
func (ix *Index) Locate(addr netip.Addr) int32 {
	if addr.Is4() {
		return int32(ix.flat4.find(ipx.U32Of(addr)))
	}
	return int32(len(ix.flat4.start) + ix.flat6.find(ipx.U128Of(addr)))
}

// IntervalSet is the number of the set of prefixes holding interval i
// (see Locate and SetOf).
func (ix *Index) IntervalSet(i int32) int32 {
	if n := int32(len(ix.flat4.start)); i >= n {
		return ix.flat6.set[i-n]
	}
	return ix.flat4.set[i]
}

// Interval returns the first and last address of interval i (see Locate)
// and the number of the set of prefixes holding it (SetOf).
func (ix *Index) Interval(i int32) (first, last netip.Addr, set int32) {
	if n := int32(len(ix.flat4.start)); i >= n {
		f, i := ix.flat6, int(i-n)
		l := ipx.U128{Hi: 1<<64 - 1, Lo: 1<<64 - 1}
		if i+1 < len(f.start) {
			l = f.start[i+1].Dec()
		}
		return f.start[i].Addr(), l.Addr(), f.set[i]
	}
	f := ix.flat4
	l := uint32(1<<32 - 1)
	if int(i)+1 < len(f.start) {
		l = f.start[i+1] - 1
	}
	return ipx.U32Addr(f.start[i]), ipx.U32Addr(l), f.set[i]
}

// First returns the first entry of a set (SetOf): the one Lookup returns
// for its addresses; false for the empty set.
func (ix *Index) First(set int32) (*Entry, bool) {
	lo, hi := ix.sets[set], ix.sets[set+1]
	if lo == hi {
		return nil, false
	}
	return &ix.entries[ix.members[lo]], true
}

// Members appends the entries of a set (SetOf) to dst, ordered as Matches
// orders them.
func (ix *Index) Members(set int32, dst []*Entry) []*Entry {
	for _, m := range ix.members[ix.sets[set]:ix.sets[set+1]] {
		dst = append(dst, &ix.entries[m])
	}
	return dst
}

// matchSet returns the number of the set of every entry holding addr (see
// Matches), adding that set to ix when it is new. Only Build calls it.
func (b *Builder) matchSet(addr netip.Addr) (set int32) {
	ix := b.ix
	tags := b.treeTags(addr)
	// tags are root first: a stable sort by slot of the reversed list puts
	// the most specific first within each slot.
	slices.Reverse(tags)
	slices.SortStableFunc(tags, func(a, b uint32) int { return int(ix.entries[a].Slot) - int(ix.entries[b].Slot) })
	key := make([]byte, 0, 4*len(tags))
	for _, t := range tags {
		key = binary.LittleEndian.AppendUint32(key, t)
	}
	id, ok := ix.setIDs[string(key)]
	if !ok {
		id = int32(len(ix.sets) - 1)
		ix.setIDs[string(key)] = id
		for _, t := range tags {
			ix.members = append(ix.members, int32(t))
		}
		ix.sets = append(ix.sets, uint32(len(ix.members)))
	}
	return id
}

// treeTags returns the entries of the prefixes holding addr, by a walk of
// the trees, root first.
func (b *Builder) treeTags(addr netip.Addr) []uint32 {
	if addr.Is4() {
		return b.v4.FindTagsAppend(nil, v4Key(addr, 32))
	}
	return b.v6.FindTagsAppend(nil, v6Key(addr, 128))
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

// flatV4 is the IPv4 half of the index flattened for lookups: the address
// space cut at every prefix start and end into intervals, each holding the
// set of every entry holding it (Matches; its first entry decides),
// adjacent intervals in the same prefixes merged, then cut again where
// Builder.Cut asks. Between two cuts every address lies in the same
// prefixes, so one tree lookup at the interval start is the answer for all
// of it: the table agrees with the tree by construction. A lookup is a
// binary search within a 16-bit bucket, like asn.Table's: a few cache
// lines, where a walk of the tree touches one per node (about 20 for an
// address in a dense cloud range), which made the walk most of the cost of
// a batch.
type flatV4 struct {
	start  []uint32 // interval starts, ascending; start[0] == 0
	set    []int32  // the set of every entry holding the interval (Index.sets)
	bucket []uint32 // bucket[h] = first interval whose start>>16 >= h; len 1<<16+1
}

// buildFlatV4 flattens the IPv4 tree of b; cuts are the first address of
// every prefix and the address after its last.
func buildFlatV4(b *Builder, cuts []uint32) *flatV4 {
	cuts = append(cuts, 0)
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	f := &flatV4{start: make([]uint32, 0, len(cuts)), set: make([]int32, 0, len(cuts))}
	for _, c := range cuts {
		set := b.matchSet(ipx.U32Addr(c))
		if n := len(f.set); n > 0 && f.set[n-1] == set {
			continue // the same prefixes as the interval before: merge
		}
		f.start = append(f.start, c)
		f.set = append(f.set, set)
	}
	f.start, f.set = slices.Clip(f.start), slices.Clip(f.set)
	f.fillBuckets()
	return f
}

// fillBuckets computes bucket from start.
func (f *flatV4) fillBuckets() {
	f.bucket = make([]uint32, 1<<16+1)
	i := 0
	for h := range f.bucket {
		for i < len(f.start) && f.start[i]>>16 < uint32(h) {
			i++
		}
		f.bucket[h] = uint32(i)
	}
}

// find returns the position of the interval holding x.
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
	return lo - 1
}

// flatV6 is flatV4 for IPv6: the same intervals and merging, 128-bit
// starts, buckets by the first 16 bits of the address. It replaced the
// walk of the v6 tree (a node per bit of the prefix length) on the
// lookup path.
type flatV6 struct {
	start  []ipx.U128 // interval starts, ascending; start[0] is ::
	set    []int32    // the set of every entry holding the interval (Index.sets)
	bucket []uint32   // bucket[h] = first interval whose start.Hi>>48 >= h; len 1<<16+1
}

// buildFlatV6 flattens the IPv6 tree of b; cuts are the first address of
// every prefix and the address after its last.
func buildFlatV6(b *Builder, cuts []ipx.U128) *flatV6 {
	cuts = append(cuts, ipx.U128{})
	slices.SortFunc(cuts, ipx.U128.Cmp)
	cuts = slices.Compact(cuts)
	f := &flatV6{start: make([]ipx.U128, 0, len(cuts)), set: make([]int32, 0, len(cuts))}
	for _, c := range cuts {
		set := b.matchSet(c.Addr())
		if n := len(f.set); n > 0 && f.set[n-1] == set {
			continue // the same prefixes as the interval before: merge
		}
		f.start = append(f.start, c)
		f.set = append(f.set, set)
	}
	f.start, f.set = slices.Clip(f.start), slices.Clip(f.set)
	f.fillBuckets()
	return f
}

// fillBuckets computes bucket from start.
func (f *flatV6) fillBuckets() {
	f.bucket = make([]uint32, 1<<16+1)
	i := 0
	for h := range f.bucket {
		for i < len(f.start) && f.start[i].Hi>>48 < uint64(h) {
			i++
		}
		f.bucket[h] = uint32(i)
	}
}

// find returns the position of the interval holding x.
func (f *flatV6) find(x ipx.U128) int {
	h := x.Hi >> 48
	lo, hi := int(f.bucket[h]), int(f.bucket[h+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.Less(f.start[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}
