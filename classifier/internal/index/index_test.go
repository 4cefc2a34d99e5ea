package index

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// Lookup (the flat table for IPv4) agrees with the walk of the tree and
// with a slow reference — among the prefixes holding the address, the best
// slot, then the longest, then the first added — at every prefix boundary,
// either side of it, and at random addresses; IPv6 likewise from the tree.
// Matches lists every prefix holding the address, by slot, the longest first.
func TestLookupMatchesASlowReference(t *testing.T) {
	type added struct {
		pfx  netip.Prefix
		slot uint8
		src  int
	}
	r := rand.New(rand.NewPCG(5, 6))
	b := NewBuilder()
	var all []added
	for i := range 3000 {
		var pfx netip.Prefix
		if i%4 == 0 {
			hi := 0x20010db8_00000000 | r.Uint64N(1<<16)<<16
			a := netip.AddrFrom16([16]byte{byte(hi >> 56), byte(hi >> 48), byte(hi >> 40), byte(hi >> 32), byte(hi >> 24), byte(hi >> 16), byte(hi >> 8), byte(hi)})
			pfx = netip.PrefixFrom(a, 32+r.IntN(33)).Masked()
		} else {
			pfx = netip.PrefixFrom(ipx.U32Addr(3<<24|r.Uint32N(1<<24)), 9+r.IntN(24)).Masked()
		}
		slot := uint8(r.IntN(3))
		if b.Add(pfx, Entry{Slot: slot, Src: i}) {
			all = append(all, added{pfx, slot, i})
		}
	}
	ix := b.Build()
	require.Equal(t, len(all), ix.Len())
	reference := func(a netip.Addr) int {
		best := -1
		for k, x := range all {
			if !x.pfx.Contains(a) {
				continue
			}
			if best < 0 || x.slot < all[best].slot || x.slot == all[best].slot && x.pfx.Bits() > all[best].pfx.Bits() {
				best = k
			}
		}
		if best < 0 {
			return -1
		}
		return all[best].src
	}
	referenceAll := func(a netip.Addr) []int {
		var in []added
		for _, x := range all {
			if x.pfx.Contains(a) {
				in = append(in, x)
			}
		}
		slices.SortFunc(in, func(x, y added) int {
			return cmp.Or(cmp.Compare(x.slot, y.slot), cmp.Compare(y.pfx.Bits(), x.pfx.Bits()))
		})
		var out []int
		for _, x := range in {
			out = append(out, x.src)
		}
		return out
	}
	var buf []*Entry
	checks := 0
	check := func(a netip.Addr) {
		buf = ix.Matches(a, buf[:0])
		var srcs []int
		for _, e := range buf {
			srcs = append(srcs, e.Src)
		}
		if checks++; checks%4 == 0 { // the slow reference for a quarter of the addresses (race builds)
			require.Equal(t, referenceAll(a), srcs, "%s", a)
		}
		if len(buf) > 0 {
			best, _ := ix.Lookup(a)
			require.Equal(t, best, buf[0], "%s: Matches starts with the deciding entry", a)
		}
		got, ok := ix.Lookup(a)
		tree, tok := treeLookup(b, a)
		want := reference(a)
		require.Equal(t, want >= 0, ok, "%s", a)
		require.Equal(t, ok, tok, "%s", a)
		if ok {
			require.Equal(t, want, got.Src, "%s", a)
			require.Equal(t, got, tree, "%s", a)
		}
	}
	for _, x := range all[:600] {
		first := x.pfx.Addr()
		last := first
		for range 3 {
			check(first)
			check(first.Prev())
			check(first.Next())
		}
		if first.Is4() {
			last = ipx.U32Addr(ipx.U32Of(first) | uint32(1<<(32-x.pfx.Bits())-1))
		} else {
			u := ipx.U128Of(first)
			if bits := x.pfx.Bits(); bits < 64 {
				u.Hi, u.Lo = u.Hi|(1<<(64-bits)-1), 1<<64-1
			} else {
				u.Lo |= 1<<(128-bits) - 1
			}
			last = u.Addr()
		}
		check(last)
		check(last.Next())
	}
	for range 5000 {
		check(ipx.U32Addr(3<<24 | r.Uint32N(1<<24)))
		hi := 0x20010db8_00000000 | r.Uint64N(1<<32)
		check(ipx.U128{Hi: hi, Lo: r.Uint64()}.Addr())
	}
	for _, a := range []string{"::", "::1", "::ffff:3.1.2.3", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		check(netip.MustParseAddr(a))
	}
}

// treeLookup is Lookup by a walk of b's trees (b has built its index):
// among the entries on the address's path, root first, the best slot, the
// deepest within it — the reference the flat tables are checked against.
func treeLookup(b *Builder, a netip.Addr) (*Entry, bool) {
	best := -1
	for _, tag := range b.treeTags(a) {
		if best < 0 || b.ix.entries[tag].Slot <= b.ix.entries[best].Slot {
			best = int(tag)
		}
	}
	if best < 0 {
		return nil, false
	}
	return &b.ix.entries[best], true
}

// The same prefix with the same slot is kept once, by its first source;
// with another slot both are kept and the better slot decides.
func TestAddKeepsTheFirstOfASlot(t *testing.T) {
	b := NewBuilder()
	p := netip.MustParsePrefix("198.51.100.0/24")
	require.True(t, b.Add(p, Entry{Slot: 1, Src: 0, Provider: "first"}))
	require.False(t, b.Add(p, Entry{Slot: 1, Src: 1, Provider: "second"}))
	require.True(t, b.Add(p, Entry{Slot: 0, Src: 2, Provider: "tor"}))
	ix := b.Build()
	e, ok := ix.Lookup(netip.MustParseAddr("198.51.100.9"))
	require.True(t, ok)
	require.Equal(t, "tor", e.Provider)
	require.Equal(t, "198.51.100.0/24", e.Prefix)
	_, ok = ix.Lookup(netip.MustParseAddr("198.51.101.1"))
	require.False(t, ok)
}

// The intervals tile each family's address space in order, without gap or
// overlap; Locate names the one holding an address, whose set is the
// address's (SetOf), and an address's neighbours either side of an
// interval's ends lie in the neighbouring intervals.
func TestIntervalsTileTheSpaceAndLocateHoldsTheAddress(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	b := NewBuilder()
	for i := range 400 {
		if i%3 == 0 {
			a := ipx.U128{Hi: 0x20010db8_00000000 | r.Uint64N(1<<20)<<12}.Addr()
			b.Add(netip.PrefixFrom(a, 36+r.IntN(29)).Masked(), Entry{Slot: uint8(r.IntN(3)), Src: i})
		} else {
			b.Add(netip.PrefixFrom(ipx.U32Addr(3<<24|r.Uint32N(1<<24)), 12+r.IntN(21)).Masked(), Entry{Slot: uint8(r.IntN(3)), Src: i})
		}
	}
	ix := b.Build()
	n4 := 0
	for i := range int32(ix.Intervals()) {
		first, last, set := ix.Interval(i)
		require.False(t, last.Less(first), "interval %d: %s > %s", i, first, last)
		if first.Is4() {
			n4++
		}
		for _, a := range []netip.Addr{first, last} {
			require.Equal(t, i, ix.Locate(a), "%s", a)
			require.Equal(t, set, ix.SetOf(a), "%s", a)
		}
		if i+1 < int32(ix.Intervals()) {
			next, _, nextSet := ix.Interval(i + 1)
			if next.Is4() == first.Is4() {
				require.Equal(t, last.Next(), next, "interval %d ends where %d starts", i, i+1)
				require.NotEqual(t, set, nextSet, "adjacent intervals of one set are merged")
			} else {
				require.Equal(t, "255.255.255.255", last.String(), "IPv4 ends at its last address")
				require.Equal(t, "::", next.String(), "IPv6 starts at ::")
			}
		}
	}
	require.Positive(t, n4)
	require.Less(t, n4, ix.Intervals())
	require.Equal(t, int32(0), ix.Locate(netip.MustParseAddr("0.0.0.0")))
	_, last, _ := ix.Interval(int32(ix.Intervals() - 1))
	require.Equal(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", last.String())
	for range 2000 {
		a := ipx.U32Addr(r.Uint32())
		i := ix.Locate(a)
		first, last, set := ix.Interval(i)
		require.True(t, !a.Less(first) && !last.Less(a), "%s in [%s, %s]", a, first, last)
		require.Equal(t, set, ix.SetOf(a))
	}
}

// Cut adds interval starts without changing any answer: every cut starts
// an interval, the intervals still tile the space, and Lookup, SetOf and
// Matches answer as the index without cuts does.
func TestCutSplitsIntervalsWithoutChangingAnswers(t *testing.T) {
	var cutsV4 []netip.Addr // the IPv4 cuts of the build that cuts
	build := func(cut bool) *Index {
		r := rand.New(rand.NewPCG(9, 10))
		b := NewBuilder()
		for i := range 300 {
			b.Add(netip.PrefixFrom(ipx.U32Addr(3<<24|r.Uint32N(1<<24)), 12+r.IntN(21)).Masked(), Entry{Slot: uint8(r.IntN(3)), Src: i})
			b.Add(netip.PrefixFrom(ipx.U128{Hi: 0x20010db8_00000000 | r.Uint64N(1<<20)<<12}.Addr(), 36+r.IntN(29)).Masked(), Entry{Slot: uint8(r.IntN(3)), Src: i})
		}
		if cut {
			var v4 []uint32
			var v6 []ipx.U128
			for range 500 {
				v4 = append(v4, 3<<24|r.Uint32N(1<<24))
				v6 = append(v6, ipx.U128{Hi: 0x20010db8_00000000 | r.Uint64N(1<<32), Lo: r.Uint64()})
			}
			v4 = append(v4, 0, 3<<24, 1<<32-1) // the first address, one likely a prefix start too, the last
			b.Cut(v4, append(v6, ipx.U128{}))
			for _, c := range v4 {
				cutsV4 = append(cutsV4, ipx.U32Addr(c))
			}
		}
		return b.Build()
	}
	plain, cut := build(false), build(true)
	require.Greater(t, cut.Intervals(), plain.Intervals()+900)
	for _, a := range cutsV4 {
		first, _, _ := cut.Interval(cut.Locate(a))
		require.Equal(t, a, first, "a cut starts an interval")
	}
	for i := range int32(cut.Intervals() - 1) {
		_, last, _ := cut.Interval(i)
		next, _, _ := cut.Interval(i + 1)
		if last.Is4() == next.Is4() {
			require.Equal(t, last.Next(), next)
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	var pb, cb []*Entry
	for range 5000 {
		for _, a := range []netip.Addr{ipx.U32Addr(3<<24 | r.Uint32N(1<<24)), ipx.U128{Hi: 0x20010db8_00000000 | r.Uint64N(1<<32), Lo: r.Uint64()}.Addr()} {
			pe, pok := plain.Lookup(a)
			ce, cok := cut.Lookup(a)
			require.Equal(t, pok, cok, "%s", a)
			if pok {
				require.Equal(t, pe.Src, ce.Src, "%s", a)
			}
			pb, cb = plain.Matches(a, pb[:0]), cut.Matches(a, cb[:0])
			require.Equal(t, len(pb), len(cb), "%s", a)
			for k := range pb {
				require.Equal(t, pb[k].Src, cb[k].Src, "%s", a)
			}
			require.Equal(t, cut.SetOf(a), cut.IntervalSet(cut.Locate(a)), "%s", a)
		}
	}
}
