package classifier

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// ASNRange is one routed range of an IP-to-ASN table: every address from
// Start to End (inclusive, same family) is announced by ASN. Country is the
// ISO 3166 code of the AS's registration, empty when the table has none.
type ASNRange struct {
	Start   netip.Addr
	End     netip.Addr
	ASN     uint32
	Country string
	Name    string
}

// asnInfo is what a range says, packed: the ASN, an index into the table's
// names and one into its countries.
type asnInfo struct {
	asn  uint32
	name uint32
	cc   uint16
}

// asnRec4 and asnRec6 are the end of a range and what it says, together so
// that a hit costs one cache line.
type asnRec4 struct {
	end  uint32
	info asnInfo
}

type asnRec6 struct {
	end  u128
	info asnInfo
}

// v6SampleEvery is the stride of the IPv6 first-level index.
const v6SampleEvery = 64

// asnTable is an immutable IP-to-ASN table: per family, sorted
// non-overlapping inclusive ranges (the starts in one array, the ends and
// what they say in another) searched by binary search. IPv4 has a
// first-level index on the top 16 bits, IPv6 a sample of every 64th start
// (small enough to stay in cache), so a lookup touches a handful of cache
// lines. Names and countries are stored once. Ranges are not CIDRs:
// iptoasn's ranges often are not aligned.
type asnTable struct {
	v4Start   []uint32
	v4Rec     []asnRec4
	v4Bucket  []uint32 // v4Bucket[h] = first range whose start>>16 >= h; len 1<<16+1
	v6Start   []u128
	v6Rec     []asnRec6
	v6Sample  []u128 // v6Start[0], v6Start[64], …
	names     []string
	countries []string // index 0 is ""
	// verdicts memoises the AS-name heuristic per name, filled on first
	// use; the table is immutable otherwise.
	verdicts []atomic.Pointer[ASNameMatch]
}

// u128 is an IPv6 address as two big-endian halves, ordered as numbers.
type u128 struct{ hi, lo uint64 }

func u128Of(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (x u128) less(y u128) bool { return x.hi < y.hi || x.hi == y.hi && x.lo < y.lo }

func (x u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

func u32Of(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func u32Addr(x uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], x)
	return netip.AddrFrom4(b)
}

func (t *asnTable) len() int { return len(t.v4Start) + len(t.v6Start) }

// lookup returns the range info holding addr.
func (t *asnTable) lookup(addr netip.Addr) (asnInfo, bool) {
	if addr.Is4() {
		if len(t.v4Start) == 0 {
			return asnInfo{}, false
		}
		x := u32Of(addr)
		lo, hi := int(t.v4Bucket[x>>16]), int(t.v4Bucket[x>>16+1])
		// First range in [lo, hi) starting after x; the one before it is
		// the only candidate (it may come from an earlier bucket).
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if t.v4Start[m] <= x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if i := lo - 1; i >= 0 && t.v4Rec[i].end >= x {
			return t.v4Rec[i].info, true
		}
		return asnInfo{}, false
	}
	if len(t.v6Start) == 0 {
		return asnInfo{}, false
	}
	x := u128Of(addr)
	// The last sample <= x picks a block of v6SampleEvery ranges.
	lo, hi := 0, len(t.v6Sample)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.less(t.v6Sample[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return asnInfo{}, false
	}
	lo, hi = (lo-1)*v6SampleEvery, min(lo*v6SampleEvery, len(t.v6Start))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.less(t.v6Start[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if i := lo - 1; i >= 0 && !t.v6Rec[i].end.less(x) {
		return t.v6Rec[i].info, true
	}
	return asnInfo{}, false
}

// verdict returns the AS-name heuristic's answer for name i, computing it
// once.
func (t *asnTable) verdict(i uint32) *ASNameMatch {
	if m := t.verdicts[i].Load(); m != nil {
		return m
	}
	m := MatchASName(t.names[i])
	t.verdicts[i].Store(&m)
	return &m
}

func (t *asnTable) country(i asnInfo) string { return t.countries[i.cc] }

// eachIP2ASNRow calls fn with every routed row of an iptoasn table (plain,
// already gunzipped), in file order and as published (nested announcements
// included): the range, its AS number and the raw country and AS_description
// fields (nil when the row has none; sub-slices of data, not to be kept).
// Blank and '#' lines are skipped; records counts the others, malformed
// those that do not parse, mix families or end before they start. Unrouted
// rows (AS 0) are neither passed on nor malformed.
func eachIP2ASNRow(data []byte, fn func(start, end netip.Addr, asn uint32, country, name []byte)) (records, malformed int) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		records++
		// Split without copying: the five fields are sub-slices of line.
		var f [5][]byte
		nf := 0
		for rest := line; nf < 5; nf++ {
			if nf == 4 {
				f[nf] = rest
				nf++
				break
			}
			i := bytes.IndexByte(rest, '\t')
			if i < 0 {
				f[nf] = rest
				nf++
				break
			}
			f[nf], rest = rest[:i], rest[i+1:]
		}
		if nf < 3 {
			malformed++
			continue
		}
		asn, ok := parseASNBytes(f[2])
		start, ok1 := parseAddrBytes(f[0])
		end, ok2 := parseAddrBytes(f[1])
		if !ok || !ok1 || !ok2 {
			malformed++
			continue
		}
		if start.Is4In6() && end.Is4In6() {
			start, end = start.Unmap(), end.Unmap()
		}
		if start.Is4() != end.Is4() || end.Less(start) {
			malformed++
			continue
		}
		if asn == 0 {
			continue // not routed
		}
		var cc, name []byte
		if nf > 3 {
			cc = f[3]
		}
		if nf > 4 {
			name = f[4]
		}
		fn(start, end, asn, cc, name)
	}
	return records, malformed
}

// IP2ASNRows reads the routed rows of an iptoasn table (gzip or plain) as
// published, in file order, nested announcements included — what
// ParseIP2ASN reads before it flattens them — with the country and name
// cleaned as ParseIP2ASN cleans them. It also returns how many rows were
// malformed. The error is only for broken gzip.
func IP2ASNRows(data []byte) (rows []ASNRange, malformed int, err error) {
	data, err = gunzipMaybe(data)
	if err != nil {
		return nil, 0, err
	}
	_, malformed = eachIP2ASNRow(data, func(start, end netip.Addr, asn uint32, cc, name []byte) {
		rows = append(rows, ASNRange{start, end, asn, countryCode(string(cc)), clean(string(name))})
	})
	return rows, malformed, nil
}

// Ranges lists the table a ParseIP2ASN call read, IPv4 first, in address
// order; nil for other parsers.
func (p Parsed) Ranges() []ASNRange {
	t := p.table
	if t == nil {
		return nil
	}
	out := make([]ASNRange, 0, t.len())
	for i := range t.v4Start {
		in := t.v4Rec[i].info
		out = append(out, ASNRange{u32Addr(t.v4Start[i]), u32Addr(t.v4Rec[i].end), in.asn, t.country(in), t.names[in.name]})
	}
	for i := range t.v6Start {
		in := t.v6Rec[i].info
		out = append(out, ASNRange{t.v6Start[i].addr(), t.v6Rec[i].end.addr(), in.asn, t.country(in), t.names[in.name]})
	}
	return out
}

// ParseIP2ASN reads an iptoasn.com table (ip2asn-v4.tsv, ip2asn-v6.tsv or
// ip2asn-combined.tsv; gzip or plain): no header, one range per line,
// TAB-separated "range_start range_end AS_number country_code
// AS_description". Unrouted rows (AS 0, "None", "Not routed") are skipped;
// a row that does not parse, mixes families or ends before it starts is
// counted malformed. The ranges are kept as ranges, not CIDRs; where one
// lies inside another (a more-specific announcement), the inner one answers
// for its span and the outer one for the rest.
func ParseIP2ASN(data []byte) (Parsed, error) {
	data, err := gunzipMaybe(data)
	if err != nil {
		return Parsed{}, err
	}
	var p Parsed
	names := map[string]uint32{}
	countries := map[string]uint16{"": 0}
	t := &asnTable{countries: []string{""}}
	// Size the arrays of the family the table is about (its first row
	// tells) for every line, so they are not regrown half a million times.
	var r4 ranges4
	var r6 ranges6
	lines := bytes.Count(data, []byte{'\n'}) + 1
	if first, _, _ := bytes.Cut(data, []byte{'\t'}); bytes.IndexByte(first, ':') >= 0 {
		r6 = ranges6{make([]u128, 0, lines), make([]u128, 0, lines), make([]asnInfo, 0, lines)}
	} else {
		r4 = ranges4{make([]uint32, 0, lines), make([]uint32, 0, lines), make([]asnInfo, 0, lines)}
	}
	p.Records, p.Malformed = eachIP2ASNRow(data, func(start, end netip.Addr, asn uint32, cc, raw []byte) {
		in := asnInfo{asn: asn}
		if cc != nil {
			id, ok := countries[string(cc)] // no copy when known
			if !ok {
				code := countryCode(string(cc))
				if id, ok = countries[code]; !ok {
					id = uint16(len(t.countries))
					countries[code] = id
					t.countries = append(t.countries, code)
				}
				countries[string(cc)] = id
			}
			in.cc = id
		}
		id, ok := names[string(raw)] // no copy when known
		if !ok {
			name := clean(string(raw))
			if id, ok = names[name]; !ok {
				id = uint32(len(t.names))
				names[name] = id
				t.names = append(t.names, name)
			}
			names[string(raw)] = id
		}
		in.name = id
		if start.Is4() {
			r4.start = append(r4.start, u32Of(start))
			r4.end = append(r4.end, u32Of(end))
			r4.info = append(r4.info, in)
		} else {
			r6.start = append(r6.start, u128Of(start))
			r6.end = append(r6.end, u128Of(end))
			r6.info = append(r6.info, in)
		}
	})
	// iptoasn publishes sorted ranges, but some lie inside others (a
	// more-specific announcement inside a covering one, of the same or of
	// another AS). Flatten them: the innermost range answers for its span,
	// the covering one for the rest.
	flat4 := flatten(len(r4.start), func(i int) (u128, u128, asnInfo) {
		return u128{lo: uint64(r4.start[i])}, u128{lo: uint64(r4.end[i])}, r4.info[i]
	})
	t.v4Start, t.v4Rec = make([]uint32, len(flat4)), make([]asnRec4, len(flat4))
	for i, f := range flat4 {
		t.v4Start[i], t.v4Rec[i] = uint32(f.start.lo), asnRec4{uint32(f.end.lo), f.info}
	}
	flat6 := flatten(len(r6.start), func(i int) (u128, u128, asnInfo) { return r6.start[i], r6.end[i], r6.info[i] })
	t.v6Start, t.v6Rec = make([]u128, len(flat6)), make([]asnRec6, len(flat6))
	for i, f := range flat6 {
		t.v6Start[i], t.v6Rec[i] = f.start, asnRec6{f.end, f.info}
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
	t.verdicts = make([]atomic.Pointer[ASNameMatch], len(t.names))
	if t.len() > 0 {
		p.table = t
	}
	return p, nil
}

// parseAddrBytes parses an address without copying it when it is a plain
// dotted quad (the common case: the IPv4 table has half a million rows).
func parseAddrBytes(b []byte) (netip.Addr, bool) {
	b = bytes.TrimSpace(b)
	var q [4]byte
	n, digits, v := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9' && digits < 3:
			v = v*10 + int(c-'0')
			digits++
		case c == '.' && digits > 0 && n < 3 && v <= 255:
			q[n] = byte(v)
			n, digits, v = n+1, 0, 0
		default:
			a, err := netip.ParseAddr(string(b))
			return a, err == nil && a.Zone() == ""
		}
	}
	if n != 3 || digits == 0 || v > 255 {
		a, err := netip.ParseAddr(string(b))
		return a, err == nil && a.Zone() == ""
	}
	q[3] = byte(v)
	return netip.AddrFrom4(q), true
}

// parseASNBytes reads "64500" or "AS64500".
func parseASNBytes(b []byte) (uint32, bool) {
	b = bytes.TrimSpace(b)
	if len(b) > 2 && (b[0] == 'A' || b[0] == 'a') && (b[1] == 'S' || b[1] == 's') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// ranges4 and ranges6 are parallel arrays as read.
type ranges4 struct {
	start, end []uint32
	info       []asnInfo
}

type ranges6 struct {
	start, end []u128
	info       []asnInfo
}

// span is one flattened range.
type span struct {
	start, end u128
	info       asnInfo
}

func (x u128) inc() u128 {
	if x.lo == ^uint64(0) {
		return u128{x.hi + 1, 0}
	}
	return u128{x.hi, x.lo + 1}
}

func (x u128) dec() u128 {
	if x.lo == 0 {
		return u128{x.hi - 1, ^uint64(0)}
	}
	return u128{x.hi, x.lo - 1}
}

// flatten turns n possibly nested ranges (get(i) returns range i) into
// sorted non-overlapping spans: where ranges overlap, the one starting
// later (the innermost, for nested ones) answers; of two with the same
// start, the narrower. Adjacent spans saying the same are merged.
func flatten(n int, get func(int) (u128, u128, asnInfo)) []span {
	in := make([]span, n)
	for i := range in {
		in[i].start, in[i].end, in[i].info = get(i)
	}
	sorted := slices.IsSortedFunc(in, func(a, b span) int {
		if c := cmpU128(a.start, b.start); c != 0 {
			return c
		}
		return cmpU128(b.end, a.end)
	})
	if !sorted {
		slices.SortStableFunc(in, func(a, b span) int {
			if c := cmpU128(a.start, b.start); c != 0 {
				return c
			}
			return cmpU128(b.end, a.end) // wider first, so the narrower is pushed on top
		})
	}
	out := make([]span, 0, n)
	emit := func(start, end u128, info asnInfo) {
		if k := len(out); k > 0 && out[k-1].info == info && out[k-1].end.inc() == start {
			out[k-1].end = end
			return
		}
		out = append(out, span{start, end, info})
	}
	var stack []span // open ranges, innermost on top
	var cur u128     // first address not yet emitted
	closeUntil := func(limit u128, all bool) {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if !all && !top.end.less(limit) {
				return
			}
			stack = stack[:len(stack)-1]
			if !top.end.less(cur) {
				emit(cur, top.end, top.info)
				cur = top.end.inc()
			}
		}
	}
	for _, r := range in {
		closeUntil(r.start, false)
		if len(stack) > 0 && cur.less(r.start) {
			emit(cur, r.start.dec(), stack[len(stack)-1].info)
		}
		cur = r.start
		for len(stack) > 0 && !r.end.less(stack[len(stack)-1].end) {
			stack = stack[:len(stack)-1] // covered from here to its end by r
		}
		stack = append(stack, r)
	}
	closeUntil(u128{}, true)
	return out
}

func cmpU128(a, b u128) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// countryCode keeps a two-letter code, upper-cased ("None", "Unknown" and
// "" are none).
func countryCode(s string) string {
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

// ParseASNList reads a list of ASNs, one per line ("AS45090 # comment" or
// a bare number), as X4BNet lists_vpn publishes in
// input/datacenter/ASN.txt. Blank lines and '#' comments are ignored.
func ParseASNList(data []byte) (Parsed, error) {
	data, err := gunzipMaybe(data)
	if err != nil {
		return Parsed{}, err
	}
	var p Parsed
	err = eachLine(data, func(line string) {
		p.Records++
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if len(line) > 2 && strings.EqualFold(line[:2], "AS") {
			line = line[2:]
		}
		n, err := strconv.ParseUint(line, 10, 32)
		if err != nil || n == 0 {
			p.Malformed++
			return
		}
		p.ASNs = append(p.ASNs, uint32(n))
	})
	slices.Sort(p.ASNs)
	p.ASNs = slices.Clip(slices.Compact(p.ASNs))
	return p, err
}

// asnSet is a sorted set of ASNs.
type asnSet []uint32

func (s asnSet) has(asn uint32) bool {
	_, ok := slices.BinarySearch(s, asn)
	return ok
}
