package asn

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// The AS profile is the last rule before unknown: an ASN that no list
// names, whose AS name says nothing either way, is compared with the
// networks the engine could label, and labelled at low confidence when it
// looks clearly like one kind.
//
// It is learnt at every index build from the engine's own data, never from
// a truth set: an ASN is a known hosting network when a hosting-ASN list
// names it, when a cloud or datacenter prefix list holds one of its ranges,
// or when its AS name has hosting words; a known access network when its
// AS name says so and nothing says hosting. A naive Bayes model over what
// the ip2asn tables say of every ASN (its country, the size of its largest
// IPv4 and IPv6 range, how many ranges it announces) then gives each
// unlabelled ASN the odds hosting : access. Hosting networks cluster in a
// few countries and announce few, small ranges; access networks are
// national and announce large ones.
//
// The thresholds were tuned on the even ASNs of bgp.tools' tags and
// checked on the odd ones (docs/validation.md); the tags are not an input.
const (
	// profileHostingOdds and profileAccessOdds are the log odds
	// (hosting : access) at or beyond which an unlabelled ASN is called
	// datacenter or residential.
	profileHostingOdds = 1.0
	profileAccessOdds  = -2.5
	// profileMinKnown is how many ASNs of each kind the model needs before
	// it answers at all.
	profileMinKnown = 10
)

// The features of an ASN, each a small number (its value), and how many
// values each takes (for the smoothing).
const (
	featCountry = iota
	featV4Size
	featV6Size
	featRanges
	numFeats
)

// asnFeatures is what the ip2asn tables say of one ASN.
type asnFeatures struct {
	country uint16 // index into the first table's countries, shifted per table
	v4Bits  int8   // prefix length of the largest IPv4 range (its size rounded down to a power of two); -1: none
	v6Bits  int16  // same for IPv6
	ranges  uint32
	src     int // the first table that has the ASN (position in srcs)
	cc      string
}

func (f *asnFeatures) values() [numFeats]int {
	return [numFeats]int{
		featCountry: int(f.country),
		featV4Size:  v4SizeBucket(f.v4Bits),
		featV6Size:  v6SizeBucket(f.v6Bits),
		featRanges:  rangesBucket(f.ranges),
	}
}

// Buckets: none, then from large to small. The v6 edges are where access
// and hosting networks part in the real ip2asn-v6 table (ISPs announce /32
// and larger, hosters /40 to /48); the v4 ones mirror them (a /16 is an
// ISP's, a /24 a small hoster's).
func v4SizeBucket(b int8) int {
	switch {
	case b < 0:
		return 0
	case b <= 16:
		return 1
	case b <= 19:
		return 2
	case b <= 22:
		return 3
	}
	return 4
}

func v6SizeBucket(b int16) int {
	switch {
	case b < 0:
		return 0
	case b <= 29:
		return 1
	case b <= 32:
		return 2
	case b <= 40:
		return 3
	case b <= 47:
		return 4
	}
	return 5
}

func rangesBucket(n uint32) int {
	switch {
	case n <= 1:
		return 0
	case n <= 3:
		return 1
	case n <= 10:
		return 2
	}
	return 3
}

// TableRef is an ip2asn table with the position of its source, which the
// verdicts it gives carry.
type TableRef struct {
	T   *Table
	Src int
}

// Verdict is the AS profile's answer for one ASN: Residential or Hosting,
// why (the figures, for the answer's evidence), and the table it read.
type Verdict struct {
	Kind     asname.Kind
	Evidence string
	Src      int // TableRef.Src of the table the profile read
}

// Profile holds the verdicts of the ASNs the profile labels; others are
// absent. A nil Profile labels nothing.
type Profile map[uint32]Verdict

// BuildProfile learns the profile from the engine's own data: the ip2asn
// tables (in source order), listed (whether a cloud or datacenter prefix
// list holds an address) and the hosting-ASN lists. It returns nil when
// there is no table or too few known networks of either kind.
func BuildProfile(tables []TableRef, listed func(netip.Addr) bool, hostingLists []Set) Profile {
	if len(tables) == 0 {
		return nil
	}
	feats := map[uint32]*asnFeatures{}
	hosting := map[uint32]bool{}
	access := map[uint32]bool{}
	countries := map[string]uint16{}
	var ccNames []string
	shared := sharedVerdicts{} // the v4 and v6 tables mostly repeat each other's names
	see := func(ref TableRef, in Info, start, end ipx.U128, v6 bool, first netip.Addr) {
		f := feats[in.ASN]
		if f == nil {
			cc := ref.T.Country(in)
			id, ok := countries[cc]
			if !ok {
				id = uint16(len(ccNames))
				countries[cc] = id
				ccNames = append(ccNames, cc)
			}
			f = &asnFeatures{country: id, v4Bits: -1, v6Bits: -1, src: ref.Src, cc: cc}
			feats[in.ASN] = f
		}
		f.ranges++
		if v6 {
			if b := int16(prefixBits(start, end, 128)); f.v6Bits < 0 || b < f.v6Bits {
				f.v6Bits = b
			}
		} else if b := int8(prefixBits(start, end, 32)); f.v4Bits < 0 || b < f.v4Bits {
			f.v4Bits = b
		}
		if !hosting[in.ASN] && listed(first) {
			hosting[in.ASN] = true
		}
		if !hosting[in.ASN] {
			switch shared.verdict(ref.T, in.name).Kind {
			case asname.Hosting:
				hosting[in.ASN] = true
			case asname.Residential:
				access[in.ASN] = true
			}
		}
	}
	for _, ref := range tables {
		t := ref.T
		for i, s := range t.v4Start {
			r := t.v4Rec[i]
			see(ref, r.info, ipx.U128{Lo: uint64(s)}, ipx.U128{Lo: uint64(r.end)}, false, ipx.U32Addr(s))
		}
		for i, s := range t.v6Start {
			r := t.v6Rec[i]
			see(ref, r.info, s, r.end, true, s.Addr())
		}
	}
	for asn := range feats {
		for _, h := range hostingLists {
			if h.Has(asn) {
				hosting[asn] = true
			}
		}
	}

	// Count the feature values of each kind (hosting wins over access).
	var counts [2][numFeats]map[int]int
	var seen [numFeats]map[int]bool
	for k := range counts {
		for f := range counts[k] {
			counts[k][f] = map[int]int{}
		}
	}
	for f := range seen {
		seen[f] = map[int]bool{}
	}
	var n [2]int
	for asn, f := range feats {
		v := f.values()
		for i, x := range v {
			seen[i][x] = true
		}
		k := -1
		switch {
		case hosting[asn]:
			k = 0
		case access[asn]:
			k = 1
		}
		if k < 0 {
			continue
		}
		n[k]++
		for i, x := range v {
			counts[k][i][x]++
		}
	}
	if n[0] < profileMinKnown || n[1] < profileMinKnown {
		return nil
	}
	prior := math.Log(float64(n[0]) / float64(n[1]))
	out := Profile{}
	for asn, f := range feats {
		if hosting[asn] || access[asn] {
			continue
		}
		odds := prior
		for i, x := range f.values() {
			// Laplace smoothing: one more of every value in each kind.
			vals := float64(len(seen[i]))
			ph := (float64(counts[0][i][x]) + 1) / (float64(n[0]) + vals)
			pa := (float64(counts[1][i][x]) + 1) / (float64(n[1]) + vals)
			odds += math.Log(ph / pa)
		}
		var kind asname.Kind
		switch {
		case odds >= profileHostingOdds:
			kind = asname.Hosting
		case odds <= profileAccessOdds:
			kind = asname.Residential
		default:
			continue
		}
		out[asn] = Verdict{Kind: kind, Evidence: f.describe(odds), Src: f.src}
	}
	return out
}

// sharedVerdicts carries AS-name verdicts across ip2asn tables by name, so
// a name both tables hold is matched once.
type sharedVerdicts map[string]*asname.Match

// verdict is t.Verdict(i), taken from or given to the other tables.
func (s sharedVerdicts) verdict(t *Table, i uint32) *asname.Match {
	if m := t.verdicts[i].Load(); m != nil {
		return m
	}
	name := t.names[i]
	if m, ok := s[name]; ok {
		t.verdicts[i].Store(m)
		return m
	}
	m := t.Verdict(i)
	s[name] = m
	return m
}

// describe says why: "AS profile: country DE, largest v6 /29, 2 ranges;
// hosting:access odds 3.1:1".
func (f *asnFeatures) describe(logOdds float64) string {
	cc := f.cc
	if cc == "" {
		cc = "none"
	}
	s := "AS profile: country " + cc
	if f.v4Bits >= 0 {
		s += fmt.Sprintf(", largest v4 /%d", f.v4Bits)
	}
	if f.v6Bits >= 0 {
		s += fmt.Sprintf(", largest v6 /%d", f.v6Bits)
	}
	s += fmt.Sprintf(", %d ranges; hosting:access odds ", f.ranges)
	if logOdds >= 0 {
		return s + fmt.Sprintf("%.1f:1", math.Exp(logOdds))
	}
	return s + fmt.Sprintf("1:%.1f", math.Exp(-logOdds))
}

// prefixBits is the prefix length of the largest power-of-two block that
// fits in start..end (inclusive), in a family of width bits: a range of
// 2^k to 2^(k+1)-1 addresses counts as a /(width-k).
func prefixBits(start, end ipx.U128, width int) int {
	d := ipx.U128{Hi: end.Hi - start.Hi, Lo: end.Lo - start.Lo}
	if end.Lo < start.Lo {
		d.Hi--
	}
	// size = d+1; floor(log2(size)) without overflowing at the full space.
	var k int
	if d.Hi == ^uint64(0) && d.Lo == ^uint64(0) {
		k = 128
	} else {
		d = d.Inc()
		if d.Hi != 0 {
			k = 64 + bits.Len64(d.Hi) - 1
		} else {
			k = bits.Len64(d.Lo) - 1
		}
	}
	return width - k
}
