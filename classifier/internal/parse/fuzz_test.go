package parse

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// checkParsed is what every parser promises of what it keeps, whatever
// the input: no more malformed records than records, every entry a valid
// prefix that is no bogon, Len counting what was kept.
func checkParsed(t *testing.T, p Parsed) {
	t.Helper()
	require.GreaterOrEqual(t, p.Records, 0)
	require.LessOrEqual(t, p.Malformed, p.Records)
	require.LessOrEqual(t, p.Bogons, p.Records)
	for _, e := range p.Entries {
		require.True(t, e.Prefix.IsValid(), "%+v", e)
		require.False(t, ipx.IsBogon(e.Prefix), "%v is a bogon", e.Prefix)
		require.NotContains(t, e.Provider+e.Region+e.Service, "\t")
		require.NotContains(t, e.Provider+e.Region+e.Service, "\n")
	}
	for i := 1; i < len(p.ASNs); i++ {
		require.Less(t, p.ASNs[i-1], p.ASNs[i], "ASNs sorted, each once")
	}
	for i := 1; i < len(p.Access); i++ {
		require.Less(t, p.Access[i-1], p.Access[i], "access ASNs sorted, each once")
	}
	for _, a := range p.Access {
		require.False(t, p.ASNs.Has(a), "AS%d both access and content", a)
	}
	n := len(p.Entries) + len(p.ASNs) + len(p.Access)
	if p.Table != nil {
		n += p.Table.Len()
	}
	require.Equal(t, n, p.Len())
}

// fuzzParser seeds f with fixtures (and their gzipped forms: every parser
// takes both) and checks that parse never panics and keeps only what
// checkParsed allows.
func fuzzParser(f *testing.F, parse Parser, fixtures ...string) {
	for _, name := range fixtures {
		b := testkit.ReadTestdata(f, name)
		f.Add(b)
		f.Add(testkit.Gzip(f, b))
	}
	f.Add([]byte{})
	f.Add([]byte("<html><body>not a list</body></html>"))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parse(data)
		if err != nil {
			return
		}
		checkParsed(t, p)
	})
}

func FuzzTorList(f *testing.F)    { fuzzParser(f, TorList, "torbulkexitlist") }
func FuzzCIDRList(f *testing.F)   { fuzzParser(f, CIDRList, "hosting/ipv4.txt", "hosting/ipv6.txt") }
func FuzzASNList(f *testing.F)    { fuzzParser(f, ASNList, "hosting/ASN.txt") }
func FuzzDatacenter(f *testing.F) { fuzzParser(f, DatacenterCSV, "datacenters.csv") }
func FuzzPeeringDBNet(f *testing.F) {
	fuzzParser(f, PeeringDBNet, "peeringdb/net.json", "peeringdb/net-info-type.json")
}
func FuzzOnionoo(f *testing.F)     { fuzzParser(f, Onionoo, "onionoo/details.json") }
func FuzzAWSIPRanges(f *testing.F) { fuzzParser(f, AWSIPRanges, "firstparty/ip-ranges.json") }
func FuzzGCPCloudJSON(f *testing.F) {
	fuzzParser(f, GCPCloudJSON, "firstparty/cloud.json.gz")
}
func FuzzOracleIPRanges(f *testing.F) {
	fuzzParser(f, OracleIPRanges, "firstparty/public_ip_ranges.json")
}
func FuzzAzureServiceTags(f *testing.F) {
	fuzzParser(f, AzureServiceTags, "firstparty/ServiceTags_Public.json")
}
func FuzzRezmossCSV(f *testing.F) {
	fuzzParser(f, RezmossCSV("aws"), "cloud/aws/aws_ips.csv", "cloud/googlecloud/googlecloud_ips.csv")
}

// Detect never panics, and what it names For can parse.
func FuzzDetect(f *testing.F) {
	for _, name := range []string{"torbulkexitlist", "onionoo/details.json", "firstparty/ip-ranges.json", "datacenters.csv", "hosting/ASN.txt", "asn/ip2asn-v6.tsv", "peeringdb/net.json"} {
		f.Add(testkit.ReadTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if format := Detect(data); format != "" {
			_, err := For(format, "aws")
			require.NoError(t, err, format)
		}
	})
}

func FuzzProviderList(f *testing.F) {
	fuzzParser(f, ProviderList, "ipranges/linode/ipv4_merged.txt", "ipranges/protonvpn/ipv4.txt", "ipranges/linode/geofeed.csv")
}
func FuzzMassScanners(f *testing.F) { fuzzParser(f, MassScanners, "maltrail/mass_scanner.txt") }

// ScannerName never panics and yields only tag-safe text.
func FuzzScannerName(f *testing.F) {
	for _, s := range []string{"censys.io", "kiwi.census.shodan.io.", "ANSSI", "x.ac.uk", ".", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := ScannerName(s)
		require.Regexp(t, `^[a-z0-9-]*$`, n)
		require.LessOrEqual(t, len(n), maxScannerName)
	})
}
