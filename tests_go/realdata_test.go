package tests_go

import (
	"bufio"
	"encoding/csv"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func TestRealDataEveryTorListAddressIsTor(t *testing.T) {
	e := fixture.RealEngine(t)
	f, err := os.Open(filepath.Join(testkit.SharedData(t), "tor", "torbulkexitlist"))
	require.NoError(t, err)
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ip := strings.TrimSpace(sc.Text())
		if ip == "" {
			continue
		}
		r := fixture.Classify(t, e, ip)
		require.Equal(t, classifier.TypeTor, r.Type, ip)
		require.Equal(t, ip+"/32", r.MatchedPrefix)
		n++
	}
	assert.Equal(t, 1182, n, "SOURCES.md: 1,182 unique IPv4")
}

func TestRealDataGoogleCloudRangesAreCloudGCPWithRegion(t *testing.T) {
	e := fixture.RealEngine(t)
	rows := readCSV(t, filepath.Join(testkit.SharedData(t), "cloud-provider-ip-addresses", "googlecloud", "googlecloud_ips.csv"))
	checked := 0
	for _, row := range rows[1:] {
		pfx := netip.MustParsePrefix(row[0])
		ip := pfx.Addr().Next().String() // an address inside, not the network address itself
		r := fixture.Classify(t, e, ip)
		if r.Type == classifier.TypeTor {
			continue
		}
		require.Equal(t, classifier.TypeCloud, r.Type, ip)
		require.Equal(t, "gcp", r.Provider, ip)
		require.Equal(t, row[3], r.Region, ip)
		require.Equal(t, "cloud_ranges_gcp", r.Source)
		checked++
	}
	assert.Equal(t, 1039, checked, "SOURCES.md: 1,039 googlecloud rows")
}

func TestRealDataHostingRangeNoCloudListHasIsDatacenter(t *testing.T) {
	e := fixture.RealEngine(t)
	// 88.198.0.0/16 (Hetzner) is in X4BNet's datacenter list and in no cloud file.
	r := fixture.Classify(t, e, "88.198.10.10")
	assert.Equal(t, classifier.TypeDatacenter, r.Type)
	assert.Equal(t, "datacenter_community_lists", r.Source)
	assert.Equal(t, "datacenter/x4bnet-ipv4", r.Snapshot)
	assert.True(t, netip.MustParsePrefix(r.MatchedPrefix).Contains(netip.MustParseAddr("88.198.10.10")))
}

func TestRealDataAWSRowsAreCloudAWS(t *testing.T) {
	e := fixture.RealEngine(t)
	rows := readCSV(t, filepath.Join(testkit.SharedData(t), "cloud-provider-ip-addresses", "aws", "aws_ips.csv"))
	misses := 0
	for _, row := range rows[1:] {
		ip := netip.MustParsePrefix(row[0]).Addr().String()
		r := fixture.Classify(t, e, ip)
		if r.Type != classifier.TypeCloud && r.Type != classifier.TypeTor {
			misses++
			continue
		}
		if r.Type == classifier.TypeCloud {
			assert.Equal(t, "aws", r.Provider, ip)
		}
	}
	assert.Zero(t, misses)
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// TestRealDataIPv4AddressesTakeTheirASNFromTheRealTable classifies IPv4
// addresses with no caller ASN: the real ip2asn-v4 table (SOURCES.md §8)
// gives the ASN, its country and name, and the AS rules decide.
func TestRealDataIPv4AddressesTakeTheirASNFromTheRealTable(t *testing.T) {
	e := fixture.RealEngine(t)
	for _, tt := range []struct {
		ip      string
		asn     uint32
		country string
		typ     classifier.IPType
	}{
		{"2.160.1.1", 3320, "DE", classifier.TypeResidential}, // DTAG Internet service provider operations
		{"5.9.1.1", 24940, "DE", classifier.TypeDatacenter},   // HETZNER-AS
	} {
		r := fixture.Classify(t, e, tt.ip)
		assert.Equal(t, tt.asn, r.ASN, tt.ip)
		assert.Equal(t, "ip2asn", r.ASNSource, tt.ip)
		assert.Equal(t, tt.country, r.Country, tt.ip)
		assert.Equal(t, tt.typ, r.Type, "%s: %+v", tt.ip, r)
	}
}
