package parse

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
)

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
// published, in file order, nested announcements included — what IP2ASN
// reads before it flattens them — with the country and name cleaned as the
// table cleans them. It also returns how many rows were malformed. The
// error is only for broken gzip.
func IP2ASNRows(data []byte) (rows []asn.Range, malformed int, err error) {
	data, err = Gunzip(data)
	if err != nil {
		return nil, 0, err
	}
	_, malformed = eachIP2ASNRow(data, func(start, end netip.Addr, n uint32, cc, name []byte) {
		rows = append(rows, asn.Range{Start: start, End: end, ASN: n, Country: asn.CountryCode(string(cc)), Name: field.Clean(string(name))})
	})
	return rows, malformed, nil
}

// IP2ASN reads an iptoasn.com table (ip2asn-v4.tsv, ip2asn-v6.tsv or
// ip2asn-combined.tsv; gzip or plain): no header, one range per line,
// TAB-separated "range_start range_end AS_number country_code
// AS_description", into Parsed.Table. Unrouted rows (AS 0, "None", "Not
// routed") are skipped; a row that does not parse, mixes families or ends
// before it starts is counted malformed. The ranges are kept as ranges, not
// CIDRs; where one lies inside another (a more-specific announcement), the
// inner one answers for its span and the outer one for the rest.
func IP2ASN(data []byte) (Parsed, error) {
	data, err := Gunzip(data)
	if err != nil {
		return Parsed{}, err
	}
	var p Parsed
	// Size the arrays of the family the table is about (its first row
	// tells) for every line.
	first, _, _ := bytes.Cut(data, []byte{'\t'})
	// A row is at least 16 bytes ("1.0.0.0\t1.0.0.0\t1"): blank lines must
	// not size the arrays.
	rows := min(bytes.Count(data, []byte{'\n'})+1, len(data)/16+1)
	b := asn.NewBuilder(rows, bytes.IndexByte(first, ':') >= 0)
	p.Records, p.Malformed = eachIP2ASNRow(data, b.Add)
	p.Table = b.Build()
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

// ASNList reads a list of ASNs, one per line ("AS45090 # comment" or
// a bare number), as X4BNet lists_vpn publishes in
// input/datacenter/ASN.txt. Blank lines and '#' comments are ignored.
func ASNList(data []byte) (Parsed, error) {
	data, err := Gunzip(data)
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
