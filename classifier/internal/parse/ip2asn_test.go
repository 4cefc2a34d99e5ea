package parse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// asnRangeRow is an ASNRange in comparable text form.
type asnRangeRow struct {
	Start, End string
	ASN        uint32
	Country    string
	Name       string
}

func asnRows(p Parsed) []asnRangeRow {
	var out []asnRangeRow
	for _, r := range p.Table.Ranges() {
		out = append(out, asnRangeRow{r.Start.String(), r.End.String(), r.ASN, r.Country, r.Name})
	}
	return out
}

func TestIP2ASNv4ReadsRangesNotCIDRs(t *testing.T) {
	want := []asnRangeRow{
		{"1.0.0.0", "1.0.0.255", 13335, "US", "CLOUDFLARENET"},
		{"5.9.0.0", "5.9.255.255", 24940, "DE", "HETZNER-AS"},
		{"13.32.0.0", "13.35.255.255", 16509, "US", "AMAZON-02"},
		{"24.0.0.0", "24.0.0.255", 7922, "US", "COMCAST-7922"},
		{"24.0.1.0", "24.0.1.255", 64999, "US", "MORE-SPECIFIC-INSIDE-COMCAST"},
		{"24.0.2.0", "24.0.2.199", 7922, "US", "COMCAST-7922"},
		{"24.0.2.200", "24.0.5.17", 20115, "US", "CHARTER-20115"},
		{"24.0.5.19", "24.0.9.255", 33588, "US", "BRESNAN-33588"},
		{"45.90.0.0", "45.90.3.255", 45090, "CN", "Tencent cloud computing (Beijing) Co., Ltd."},
		{"46.249.32.0", "46.249.63.255", 50673, "NL", "SERVERIUS-AS"},
		{"62.224.0.0", "62.227.255.255", 3320, "DE", "DTAG Internet service provider operations"},
		{"64.0.0.0", "64.0.0.255", 4323, "US", "TWTC - tw telecom holdings, inc."},
		{"81.2.69.0", "81.2.69.255", 20712, "GB", "ANDREWS-AS Andrews & Arnold Ltd"},
		{"88.198.0.0", "88.198.255.255", 24940, "DE", "HETZNER-AS"},
		{"102.130.113.0", "102.130.113.255", 37153, "ZA", "XNEXT"},
		{"185.220.100.0", "185.220.103.255", 205100, "DE", "F3NETZE-AS F3 Netze e.V."},
		{"187.0.0.0", "187.0.0.255", 28573, "BR", "CLARO S.A."},
		{"200.0.0.0", "200.0.0.127", 262996, "BR", "MEGAMINAS TELECOMUNICACOES LTDA"},
		{"200.0.0.128", "200.0.0.255", 64496, "XX", ""},
		{"223.255.255.0", "223.255.255.255", 64511, "", "LAST-RANGE-NO-COUNTRY"},
	}
	for _, file := range []string{"asn/ip2asn-v4.tsv", "asn/ip2asn-v4.tsv.gz"} {
		t.Run(file, func(t *testing.T) {
			p, err := IP2ASN(testkit.ReadTestdata(t, file))
			require.NoError(t, err)
			assert.Equal(t, want, asnRows(p))
			assert.Equal(t, 25, p.Records, "every non-blank line")
			// a line that is not a range, a range that ends before it starts,
			// one that mixes families, a bad AS number; the two unrouted rows
			// are skipped, not malformed; the more-specific range inside
			// Comcast's splits it in three
			assert.Equal(t, 4, p.Malformed)
			assert.Equal(t, 20, p.Len())
			assert.Empty(t, p.Entries, "ranges are not prefixes")
		})
	}
}

func TestIP2ASNv6WithCRLFAndMappedUnroutedSpace(t *testing.T) {
	want := []asnRangeRow{
		{"2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff", 112, "US", "AS112-PROJECT"},
		{"2003::", "2003:e2:ffff:ffff:ffff:ffff:ffff:ffff", 3320, "DE", "DTAG Internet service provider operations"},
		{"2600:1f00::", "2600:1f3f:ffff:ffff:ffff:ffff:ffff:ffff", 16509, "US", "AMAZON-02"},
		{"2a01:4f8::", "2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff", 24940, "DE", "HETZNER-AS"},
		{"2a02:8108::", "2a02:8109:fa7f:ffff:ffff:ffff:ffff:ffff", 3209, "DE", "VODANET Vodafone GmbH"},
		{"2a0b:f4c0::", "2a0b:f4c0::1", 64999, "DE", "MORE-SPECIFIC-SAME-START"},
		{"2a0b:f4c0::2", "2a0b:f4c3:ffff:ffff:ffff:ffff:ffff:ffff", 210558, "DE", "SERVICES-1337-GMBH 1337 Services GmbH"},
		{"2c0f:f000::", "2c0f:f000::ffff", 36974, "GH", "AFNET-TELECOM Afnet"},
	}
	plain := testkit.ReadTestdata(t, "asn/ip2asn-v6.tsv")
	for name, data := range map[string][]byte{"plain": plain, "gzip file": testkit.ReadTestdata(t, "asn/ip2asn-v6.tsv.gz"), "gzip in memory": testkit.Gzip(t, plain)} {
		t.Run(name, func(t *testing.T) {
			p, err := IP2ASN(data)
			require.NoError(t, err)
			assert.Equal(t, want, asnRows(p))
			assert.Equal(t, 12, p.Records)
			assert.Equal(t, 1, p.Malformed, "a broken end address")
		})
	}
}

func TestIP2ASNSortsUnsortedInput(t *testing.T) {
	p, err := IP2ASN([]byte("9.0.0.0\t9.0.0.255\t3\tUS\tC\n1.0.0.0\t1.0.0.255\t1\tUS\tA\n5.0.0.0\t5.0.0.255\t2\tUS\tB\n"))
	require.NoError(t, err)
	var asns []uint32
	for _, r := range p.Table.Ranges() {
		asns = append(asns, r.ASN)
	}
	assert.Equal(t, []uint32{1, 2, 3}, asns)
}

func TestIP2ASNRejectsBrokenGzipAndCountsGarbage(t *testing.T) {
	_, err := IP2ASN([]byte{0x1f, 0x8b, 0x08, 0x00, 'x'})
	require.ErrorContains(t, err, "gunzip")
	p, err := IP2ASN([]byte("<html><body>rate limited</body></html>\n"))
	require.NoError(t, err, "a bad file is counted, not an error: the validation gate refuses it")
	assert.Equal(t, 1, p.Malformed)
	assert.Zero(t, p.Len())
	assert.Nil(t, p.Table, "no table from no row")
}

func TestASNListReadsX4BNetASNs(t *testing.T) {
	p, err := ASNList(testkit.ReadTestdata(t, "hosting/ASN.txt"))
	require.NoError(t, err)
	assert.Equal(t, asn.Set{4323, 16509, 24940, 45090, 53667, 205100, 210558}, p.ASNs, "sorted, duplicates once")
	assert.Equal(t, 10, p.Records)
	assert.Equal(t, 2, p.Malformed, "ASX and AS0")
	assert.Equal(t, 7, p.Len())
	gz, err := ASNList(testkit.Gzip(t, testkit.ReadTestdata(t, "hosting/ASN.txt")))
	require.NoError(t, err)
	assert.Equal(t, p.ASNs, gz.ASNs)
}

// FuzzIP2ASN checks that no input panics the parser and that what it
// keeps is a valid table: each range within one family, start ≤ end, sorted
// and non-overlapping.
func FuzzIP2ASN(f *testing.F) {
	for _, name := range []string{"asn/ip2asn-v4.tsv", "asn/ip2asn-v6.tsv", "asn/ip2asn-v4.tsv.gz"} {
		f.Add(testkit.ReadTestdata(f, name))
	}
	f.Add([]byte("1.0.0.0\t1.0.0.9\t1\tUS\tA\n1.0.0.5\t1.0.0.5\t2\tUS\tB\n1.0.0.3\t1.0.0.7\t3\tUS\tC\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := IP2ASN(data)
		if err != nil {
			return
		}
		require.LessOrEqual(t, p.Malformed, p.Records)
		if p.Table == nil {
			require.Zero(t, p.Len())
			return
		}
		rs := p.Table.Ranges()
		require.Equal(t, p.Len(), len(rs))
		for i, r := range rs {
			require.Equal(t, r.Start.Is4(), r.End.Is4(), "%v", r)
			require.False(t, r.End.Less(r.Start), "%v", r)
			require.NotZero(t, r.ASN)
			if i > 0 && rs[i-1].Start.Is4() == r.Start.Is4() {
				require.True(t, rs[i-1].End.Less(r.Start), "%v then %v", rs[i-1], r)
			}
		}
	})
}

// IP2ASNRows gives the rows as the table publishes them (the nested
// announcement and the covering one both, in file order), with the country
// and name cleaned as IP2ASN cleans them, skips unrouted rows and
// counts broken ones — plain or gzip alike.
func TestIP2ASNRowsReadsTheRowsAsPublished(t *testing.T) {
	table := []byte("24.0.0.0\t24.0.5.255\t7922\tus\tCOMCAST-7922 \n" +
		"24.0.1.0\t24.0.1.255\t64999\tUS\tMORE-SPECIFIC\n" +
		"24.0.6.0\t24.0.6.255\t0\tNone\tNot routed\n" +
		"24.0.7.0\t24.0.7.255\t64500\n" +
		"not an address\t24.0.8.255\t64501\tUS\tBROKEN\n" +
		"2001:db8::\t2001:db8::ffff\t64502\tNone\tV6-NET\n")
	want := []asnRangeRow{
		{"24.0.0.0", "24.0.5.255", 7922, "US", "COMCAST-7922"},
		{"24.0.1.0", "24.0.1.255", 64999, "US", "MORE-SPECIFIC"},
		{"24.0.7.0", "24.0.7.255", 64500, "", ""},
		{"2001:db8::", "2001:db8::ffff", 64502, "", "V6-NET"},
	}
	for name, data := range map[string][]byte{"plain": table, "gzip": testkit.Gzip(t, table)} {
		t.Run(name, func(t *testing.T) {
			rows, malformed, err := IP2ASNRows(data)
			require.NoError(t, err)
			var got []asnRangeRow
			for _, r := range rows {
				got = append(got, asnRangeRow{r.Start.String(), r.End.String(), r.ASN, r.Country, r.Name})
			}
			assert.Equal(t, want, got)
			assert.Equal(t, 1, malformed)
		})
	}
	_, _, err := IP2ASNRows([]byte{0x1f, 0x8b, 0x08, 0x00, 'x'})
	assert.Error(t, err, "broken gzip")
}
