package asn

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// A Table answers every address as a slow reference over the rows it was
// built from: among the ranges holding the address, the one starting last;
// of those, the narrowest; of those, the one added last. The rows are
// random, nested and overlapping, around a /16 boundary (IPv4, where the
// first-level index cuts) and a /64 boundary (IPv6), and the addresses just
// outside them answer nothing.
func TestTableMatchesASlowReference(t *testing.T) {
	type row struct {
		start, end int
		asn        uint32
	}
	for _, family := range []string{"v4", "v6"} {
		t.Run(family, func(t *testing.T) {
			const space = 1024
			base := netip.MustParseAddr("10.0.254.0") // crosses 10.0/16 → 10.1/16
			if family == "v6" {
				base = netip.MustParseAddr("2001:db8:0:ffff:ffff:ffff:ffff:fe00")
			}
			addr := func(i int) netip.Addr {
				a := base
				for ; i > 0; i-- {
					a = a.Next()
				}
				for ; i < 0; i++ {
					a = a.Prev()
				}
				return a
			}
			r := rand.New(rand.NewPCG(42, uint64(len(family))))
			var rows []row
			for range 120 {
				s := r.IntN(space)
				e := s + r.IntN(min(space-s, []int{4, 40, 400}[r.IntN(3)]))
				rows = append(rows, row{s, e, uint32(1 + r.IntN(5))})
			}
			// sorted by start, as iptoasn publishes its table
			slices.SortStableFunc(rows, func(a, b row) int { return a.start - b.start })
			b := NewBuilder(len(rows), family == "v6")
			for _, x := range rows {
				b.Add(addr(x.start), addr(x.end), x.asn, []byte("us"), []byte("AS-NAME"))
			}
			tbl := b.Build()
			require.NotNil(t, tbl)
			reference := func(i int) uint32 {
				best := -1
				for k, x := range rows {
					if x.start > i || x.end < i {
						continue
					}
					if best < 0 || x.start > rows[best].start ||
						x.start == rows[best].start && x.end <= rows[best].end {
						best = k
					}
				}
				if best < 0 {
					return 0
				}
				return rows[best].asn
			}
			for i := -3; i < space+3; i++ {
				want := uint32(0)
				if i >= 0 && i < space {
					want = reference(i)
				}
				info, ok := tbl.Lookup(addr(i))
				require.Equal(t, want != 0, ok, "%s (offset %d)", addr(i), i)
				require.Equal(t, want, info.ASN, "%s (offset %d)", addr(i), i)
				if ok {
					require.Equal(t, "US", tbl.Country(info))
					require.Equal(t, "AS-NAME", tbl.Name(info))
				}
			}
		})
	}
}

// A Builder with no rows builds no table, and the other family of a table
// answers nothing.
func TestBuilderWithoutRowsBuildsNothing(t *testing.T) {
	require.Nil(t, NewBuilder(0, false).Build())
	b := NewBuilder(1, false)
	b.Add(netip.MustParseAddr("1.0.0.0"), netip.MustParseAddr("1.0.0.255"), 13335, nil, nil)
	tbl := b.Build()
	require.Equal(t, 1, tbl.Len())
	_, ok := tbl.Lookup(netip.MustParseAddr("2001:db8::1"))
	require.False(t, ok)
	info, ok := tbl.Lookup(netip.MustParseAddr("1.0.0.7"))
	require.True(t, ok)
	require.Equal(t, uint32(13335), info.ASN)
	require.Equal(t, "", tbl.Country(info))
}

// Span agrees with Lookup over every address of the block: CoversNone when
// no address is known, CoversWhole (with that Info) when every address
// answers the same Info, CoversPart otherwise — for random blocks of random
// nested rows in both families, blocks astride the /16 (IPv4) and sample
// (IPv6) boundaries included.
func TestSpanAgreesWithLookupOverTheBlock(t *testing.T) {
	for _, family := range []string{"v4", "v6"} {
		t.Run(family, func(t *testing.T) {
			const space = 600
			addrs := consecutive(family, space)
			r := rand.New(rand.NewPCG(9, uint64(len(family))))
			b := NewBuilder(0, family == "v6")
			var starts []int
			for range 200 { // many short ranges and some gaps, sorted by start
				starts = append(starts, r.IntN(space-40))
			}
			slices.Sort(starts)
			for k, s := range starts {
				name := []byte{byte('A' + k%3)}
				b.Add(addrs[s], addrs[s+r.IntN(30)], uint32(1+k%4), []byte("de"), name)
			}
			tbl := b.Build()
			for range 3000 {
				i := r.IntN(space)
				j := min(space-1, i+r.IntN([]int{1, 8, 80}[r.IntN(3)]))
				want, known, same := Coverage(CoversNone), 0, true
				var first Info
				for k := i; k <= j; k++ {
					info, ok := tbl.Lookup(addrs[k])
					if ok {
						known++
					}
					if k == i {
						first = info
					}
					same = same && ok && info == first
				}
				switch {
				case known == 0:
					want = CoversNone
				case same:
					want = CoversWhole
				default:
					want = CoversPart
				}
				info, got := tbl.Span(addrs[i], addrs[j])
				require.Equal(t, want, got, "%s-%s", addrs[i], addrs[j])
				if got == CoversWhole {
					require.Equal(t, first, info)
				}
			}
		})
	}
}

// Between two consecutive Cuts, Lookup answers the same for every address
// (checked at both ends of each block and inside it), for random nested
// rows in both families.
func TestCutsBoundBlocksOfOneAnswer(t *testing.T) {
	for _, family := range []string{"v4", "v6"} {
		t.Run(family, func(t *testing.T) {
			const space = 600
			addrs := consecutive(family, space)
			r := rand.New(rand.NewPCG(13, uint64(len(family))))
			b := NewBuilder(0, family == "v6")
			var starts []int
			for range 150 {
				starts = append(starts, 20+r.IntN(space-60))
			}
			slices.Sort(starts)
			for k, s := range starts {
				b.Add(addrs[s], addrs[s+r.IntN(30)], uint32(1+k%5), []byte("de"), []byte{byte('A' + k%3)})
			}
			tbl := b.Build()
			v4, v6 := tbl.Cuts()
			cut := map[netip.Addr]bool{}
			for _, c := range v4 {
				cut[ipx.U32Addr(c)] = true
			}
			for _, c := range v6 {
				cut[c.Addr()] = true
			}
			if family == "v4" {
				require.True(t, slices.IsSorted(v4))
				require.Empty(t, v6)
			} else {
				require.True(t, slices.IsSortedFunc(v6, ipx.U128.Cmp))
				require.Empty(t, v4)
			}
			for i := 1; i < space; i++ {
				prev, pok := tbl.Lookup(addrs[i-1])
				here, ok := tbl.Lookup(addrs[i])
				if prev != here || pok != ok {
					require.True(t, cut[addrs[i]], "the answer changes at %s: it must be a cut", addrs[i])
				}
			}
		})
	}
}

// consecutive returns n consecutive addresses of family ("v4", "v6")
// astride a /16 (IPv4) or a sample (IPv6) boundary.
func consecutive(family string, n int) []netip.Addr {
	a := netip.MustParseAddr("10.0.255.0")
	if family == "v6" {
		a = netip.MustParseAddr("2001:db8:0:ffff:ffff:ffff:ffff:ff00")
	}
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i], a = a, a.Next()
	}
	return addrs
}
