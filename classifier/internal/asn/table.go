// Package asn holds what the engine knows of the networks announcing
// addresses: IP-to-ASN range tables (Table, built by a Builder from the
// rows of an iptoasn file), sets of ASNs (Set, a hosting-ASN list), and the
// AS profile (BuildProfile), which labels networks no list names by how
// much they look like those the engine can label.
package asn

import (
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// Range is one routed range of an IP-to-ASN table: every address from
// Start to End (inclusive, same family) is announced by ASN. Country is the
// ISO 3166 code of the AS's registration, empty when the table has none.
type Range struct {
	Start   netip.Addr
	End     netip.Addr
	ASN     uint32
	Country string
	Name    string
}

// Info is what a range of a Table says, packed: the ASN, and positions in
// the table's names and countries (read them with Table.Name and
// Table.Country).
type Info struct {
	ASN  uint32
	name uint32
	cc   uint16
}

// NameID is the position of the range's AS name in its table (for
// Table.Verdict).
func (i Info) NameID() uint32 { return i.name }

// rec4 and rec6 are the end of a range and what it says, together so that
// a hit costs one cache line.
type rec4 struct {
	end  uint32
	info Info
}

type rec6 struct {
	end  ipx.U128
	info Info
}

// v6SampleEvery is the stride of the IPv6 first-level index.
const v6SampleEvery = 64

// Table is an immutable IP-to-ASN table: per family, sorted non-overlapping
// inclusive ranges (the starts in one array, the ends and what they say in
// another) searched by binary search. IPv4 has a first-level index on the
// top 16 bits, IPv6 a sample of every 64th start (small enough to stay in
// cache), so a lookup touches a handful of cache lines. Names and countries
// are stored once. Ranges are not CIDRs: iptoasn's ranges often are not
// aligned. A Table is safe for concurrent use; build one with a Builder.
type Table struct {
	v4Start   []uint32
	v4Rec     []rec4
	v4Bucket  []uint32 // v4Bucket[h] = first range whose start>>16 >= h; len 1<<16+1
	v6Start   []ipx.U128
	v6Rec     []rec6
	v6Sample  []ipx.U128 // v6Start[0], v6Start[64], …
	names     []string
	countries []string // index 0 is ""
	// verdicts remembers the AS-name heuristic per name, filled on first
	// use; the table is immutable otherwise.
	verdicts []atomic.Pointer[asname.Match]
}

// Len counts the ranges (after flattening).
func (t *Table) Len() int { return len(t.v4Start) + len(t.v6Start) }

// Names counts the distinct AS names.
func (t *Table) Names() int { return len(t.names) }

// Lookup returns what the range holding addr says.
func (t *Table) Lookup(addr netip.Addr) (Info, bool) {
	if addr.Is4() {
		x := ipx.U32Of(addr)
		if i := t.floor4(x); i >= 0 && t.v4Rec[i].end >= x {
			return t.v4Rec[i].info, true
		}
		return Info{}, false
	}
	x := ipx.U128Of(addr)
	if i := t.floor6(x); i >= 0 && !t.v6Rec[i].end.Less(x) {
		return t.v6Rec[i].info, true
	}
	return Info{}, false
}

// Cuts returns, per family in ascending order, every address where what
// Lookup answers may change: each range's start and the address after its
// end.
func (t *Table) Cuts() (v4 []uint32, v6 []ipx.U128) {
	v4 = make([]uint32, 0, 2*len(t.v4Start))
	for i, start := range t.v4Start {
		if n := len(v4); n == 0 || v4[n-1] != start {
			v4 = append(v4, start)
		}
		if end := t.v4Rec[i].end; end != 1<<32-1 {
			v4 = append(v4, end+1)
		}
	}
	v6 = make([]ipx.U128, 0, 2*len(t.v6Start))
	for i, start := range t.v6Start {
		if n := len(v6); n == 0 || v6[n-1] != start {
			v6 = append(v6, start)
		}
		if end := t.v6Rec[i].end; end != (ipx.U128{Hi: 1<<64 - 1, Lo: 1<<64 - 1}) {
			v6 = append(v6, end.Inc())
		}
	}
	return v4, v6
}

// Coverage is how the ranges of a Table cover a block of addresses (see
// Span).
type Coverage uint8

// The answers of Span.
const (
	CoversNone  Coverage = iota // no range holds any address of the block
	CoversWhole                 // one range holds every address of the block
	CoversPart                  // some addresses are held, by one range or several, others maybe not
)

// Span tells how the table covers the block of addresses from first to
// last (inclusive, one family, first <= last) and, when one range holds it
// whole, what that range says: every Lookup inside the block then answers
// that Info. The engine asks it once per prefix of its lists, so an address
// those decide needs no lookup of its own.
func (t *Table) Span(first, last netip.Addr) (Info, Coverage) {
	if first.Is4() {
		lo, hi := ipx.U32Of(first), ipx.U32Of(last)
		i := t.floor4(hi) // the last range starting at or before the block's end
		switch {
		case i < 0 || t.v4Rec[i].end < lo:
			return Info{}, CoversNone
		case t.v4Start[i] <= lo && t.v4Rec[i].end >= hi:
			return t.v4Rec[i].info, CoversWhole
		}
		return Info{}, CoversPart
	}
	lo, hi := ipx.U128Of(first), ipx.U128Of(last)
	i := t.floor6(hi)
	switch {
	case i < 0 || t.v6Rec[i].end.Less(lo):
		return Info{}, CoversNone
	case !lo.Less(t.v6Start[i]) && !t.v6Rec[i].end.Less(hi):
		return t.v6Rec[i].info, CoversWhole
	}
	return Info{}, CoversPart
}

// floor4 is the position of the last IPv4 range starting at or before x,
// -1 for none.
func (t *Table) floor4(x uint32) int {
	if len(t.v4Start) == 0 {
		return -1
	}
	lo, hi := int(t.v4Bucket[x>>16]), int(t.v4Bucket[x>>16+1])
	// First range in [lo, hi) starting after x; the one before it is the
	// answer (it may come from an earlier bucket).
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.v4Start[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// floor6 is floor4 for IPv6.
func (t *Table) floor6(x ipx.U128) int {
	if len(t.v6Start) == 0 {
		return -1
	}
	// The last sample <= x picks a block of v6SampleEvery ranges.
	lo, hi := 0, len(t.v6Sample)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.Less(t.v6Sample[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return -1
	}
	lo, hi = (lo-1)*v6SampleEvery, min(lo*v6SampleEvery, len(t.v6Start))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.Less(t.v6Start[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// Name is the AS name of a range.
func (t *Table) Name(i Info) string { return t.names[i.name] }

// Country is the registration country of a range's AS ("" = unknown).
func (t *Table) Country(i Info) string { return t.countries[i.cc] }

// Verdict returns the AS-name heuristic's answer for the name with id,
// computing it once.
func (t *Table) Verdict(id uint32) *asname.Match {
	if m := t.verdicts[id].Load(); m != nil {
		return m
	}
	m := asname.Of(t.names[id])
	t.verdicts[id].Store(&m)
	return &m
}

// Ranges lists the table, IPv4 first, in address order.
func (t *Table) Ranges() []Range {
	out := make([]Range, 0, t.Len())
	for i := range t.v4Start {
		in := t.v4Rec[i].info
		out = append(out, Range{ipx.U32Addr(t.v4Start[i]), ipx.U32Addr(t.v4Rec[i].end), in.ASN, t.Country(in), t.Name(in)})
	}
	for i := range t.v6Start {
		in := t.v6Rec[i].info
		out = append(out, Range{t.v6Start[i].Addr(), t.v6Rec[i].end.Addr(), in.ASN, t.Country(in), t.Name(in)})
	}
	return out
}

// Builder gathers the rows of an iptoasn file into a Table. The zero value
// is not usable: make one with NewBuilder.
type Builder struct {
	names     map[string]uint32
	countries map[string]uint16
	t         *Table
	r4        ranges4
	r6        ranges6
}

// ranges4 and ranges6 are parallel arrays as read.
type ranges4 struct {
	start, end []uint32
	info       []Info
}

type ranges6 struct {
	start, end []ipx.U128
	info       []Info
}

// NewBuilder returns a Builder for about rows rows, most of one family (v6
// or not): its arrays are sized once instead of regrown half a million
// times.
func NewBuilder(rows int, v6 bool) *Builder {
	b := &Builder{
		names: map[string]uint32{}, countries: map[string]uint16{"": 0},
		t: &Table{countries: []string{""}},
	}
	if v6 {
		b.r6 = ranges6{make([]ipx.U128, 0, rows), make([]ipx.U128, 0, rows), make([]Info, 0, rows)}
	} else {
		b.r4 = ranges4{make([]uint32, 0, rows), make([]uint32, 0, rows), make([]Info, 0, rows)}
	}
	return b
}

// Add adds one routed range (start and end of one family, start <= end)
// with its raw country and AS_description fields (nil: none); they are
// cleaned (a two-letter upper-case code, or none; see field.Clean) and
// stored once. The byte slices are not kept.
func (b *Builder) Add(start, end netip.Addr, asn uint32, cc, name []byte) {
	t := b.t
	in := Info{ASN: asn}
	if cc != nil {
		id, ok := b.countries[string(cc)] // no copy when known
		if !ok {
			code := CountryCode(string(cc))
			if id, ok = b.countries[code]; !ok {
				id = uint16(len(t.countries))
				b.countries[code] = id
				t.countries = append(t.countries, code)
			}
			b.countries[string(cc)] = id
		}
		in.cc = id
	}
	id, ok := b.names[string(name)] // no copy when known
	if !ok {
		clean := field.Clean(string(name))
		if id, ok = b.names[clean]; !ok {
			id = uint32(len(t.names))
			b.names[clean] = id
			t.names = append(t.names, clean)
		}
		b.names[string(name)] = id
	}
	in.name = id
	if start.Is4() {
		b.r4.start = append(b.r4.start, ipx.U32Of(start))
		b.r4.end = append(b.r4.end, ipx.U32Of(end))
		b.r4.info = append(b.r4.info, in)
	} else {
		b.r6.start = append(b.r6.start, ipx.U128Of(start))
		b.r6.end = append(b.r6.end, ipx.U128Of(end))
		b.r6.info = append(b.r6.info, in)
	}
}

// Build returns the table of the rows added, nil when there were none.
// iptoasn publishes sorted ranges, but some lie inside others (a
// more-specific announcement inside a covering one, of the same or of
// another AS): they are flattened, the innermost range answering for its
// span and the covering one for the rest. The Builder is spent.
func (b *Builder) Build() *Table {
	t, r4, r6 := b.t, b.r4, b.r6
	flat4 := flatten(len(r4.start), func(i int) (ipx.U128, ipx.U128, Info) {
		return ipx.U128{Lo: uint64(r4.start[i])}, ipx.U128{Lo: uint64(r4.end[i])}, r4.info[i]
	})
	t.v4Start, t.v4Rec = make([]uint32, len(flat4)), make([]rec4, len(flat4))
	for i, f := range flat4 {
		t.v4Start[i], t.v4Rec[i] = uint32(f.start.Lo), rec4{uint32(f.end.Lo), f.info}
	}
	flat6 := flatten(len(r6.start), func(i int) (ipx.U128, ipx.U128, Info) { return r6.start[i], r6.end[i], r6.info[i] })
	t.v6Start, t.v6Rec = make([]ipx.U128, len(flat6)), make([]rec6, len(flat6))
	for i, f := range flat6 {
		t.v6Start[i], t.v6Rec[i] = f.start, rec6{f.end, f.info}
	}
	if len(t.v4Start) > 0 {
		t.v4Bucket = make([]uint32, 1<<16+1)
		j := 0
		for h := range t.v4Bucket {
			for j < len(t.v4Start) && int(t.v4Start[j]>>16) < h {
				j++
			}
			t.v4Bucket[h] = uint32(j)
		}
	}
	for i := 0; i < len(t.v6Start); i += v6SampleEvery {
		t.v6Sample = append(t.v6Sample, t.v6Start[i])
	}
	t.names = slices.Clone(t.names) // exact size: the table lives long
	t.verdicts = make([]atomic.Pointer[asname.Match], len(t.names))
	b.t, b.r4, b.r6, b.names, b.countries = nil, ranges4{}, ranges6{}, nil, nil
	if t.Len() == 0 {
		return nil
	}
	return t
}

// span is one flattened range.
type span struct {
	start, end ipx.U128
	info       Info
}

// flatten turns n possibly nested ranges (get(i) returns range i) into
// sorted non-overlapping spans: where ranges overlap, the one starting
// later (the innermost, for nested ones) answers; of two with the same
// start, the narrower. Adjacent spans saying the same are merged.
func flatten(n int, get func(int) (ipx.U128, ipx.U128, Info)) []span {
	in := make([]span, n)
	for i := range in {
		in[i].start, in[i].end, in[i].info = get(i)
	}
	order := func(a, b span) int {
		if c := a.start.Cmp(b.start); c != 0 {
			return c
		}
		return b.end.Cmp(a.end) // wider first, so the narrower is pushed on top
	}
	if !slices.IsSortedFunc(in, order) {
		slices.SortStableFunc(in, order)
	}
	out := make([]span, 0, n)
	emit := func(start, end ipx.U128, info Info) {
		if k := len(out); k > 0 && out[k-1].info == info && out[k-1].end.Inc() == start {
			out[k-1].end = end
			return
		}
		out = append(out, span{start, end, info})
	}
	var stack []span // open ranges, innermost on top
	var cur ipx.U128 // first address not yet emitted
	closeUntil := func(limit ipx.U128, all bool) {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if !all && !top.end.Less(limit) {
				return
			}
			stack = stack[:len(stack)-1]
			if !top.end.Less(cur) {
				emit(cur, top.end, top.info)
				cur = top.end.Inc()
			}
		}
	}
	for _, r := range in {
		closeUntil(r.start, false)
		if len(stack) > 0 && cur.Less(r.start) {
			emit(cur, r.start.Dec(), stack[len(stack)-1].info)
		}
		cur = r.start
		for len(stack) > 0 && !r.end.Less(stack[len(stack)-1].end) {
			stack = stack[:len(stack)-1] // covered from here to its end by r
		}
		stack = append(stack, r)
	}
	closeUntil(ipx.U128{}, true)
	return out
}

// CountryCode keeps a two-letter code, upper-cased ("None", "Unknown" and
// "" are none).
func CountryCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 2 {
		return ""
	}
	s = strings.ToUpper(s)
	if s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return ""
	}
	return s
}

// Set is a sorted set of ASNs (a hosting-ASN list). The zero value is the
// empty set.
type Set []uint32

// Has reports whether asn is in s.
func (s Set) Has(asn uint32) bool {
	_, ok := slices.BinarySearch(s, asn)
	return ok
}
