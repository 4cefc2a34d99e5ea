package tests_go

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// realLines returns the data lines of a real-data file: blank lines and
// '#' comments skipped, the text before a " #" comment, trimmed.
func realLines(t *testing.T, rel string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(testkit.SharedData(t), rel))
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func hasTagPrefix(r classifier.Result, prefix string) bool {
	return slices.ContainsFunc(r.Tags, func(tag string) bool { return strings.HasPrefix(tag, prefix) })
}

// Every address of maltrail's mass-scanner list is tagged a scanner (the
// list only tags: their types are what their networks say), a named one
// with its name; Censys's are scanner:censys.
func TestRealDataKnownScannersAreTagged(t *testing.T) {
	e := fixture.RealEngine(t)
	lines := realLines(t, "maltrail/mass_scanner.txt")
	require.Greater(t, len(lines), 19000, "SOURCES.md §14: 19,223 addresses")
	tagged, named, byType := 0, 0, map[classifier.IPType]int{}
	for _, ip := range lines {
		a, err := netip.ParseAddr(ip)
		if err != nil || !a.IsGlobalUnicast() || a.IsPrivate() {
			continue
		}
		r := fixture.Classify(t, e, ip)
		byType[r.Type]++
		if hasTagPrefix(r, classifier.TagScanner) {
			tagged++
		}
		if hasTagPrefix(r, classifier.TagScanner+":") {
			named++
		}
	}
	t.Logf("scanners: %d addresses, %d tagged, %d named; types %v", len(lines), tagged, named, byType)
	assert.GreaterOrEqual(t, float64(tagged)/float64(len(lines)), 0.99, "known scanners tagged")
	assert.Greater(t, byType[classifier.TypeResidential]+byType[classifier.TypeUnknown], 0,
		"the scanner list flips no type: university and home-line scanners keep theirs")

	r := fixture.Classify(t, e, "162.142.125.10")
	assert.Contains(t, r.Tags, "scanner:censys", "%+v", r)
}

// Linode's own list (ipranges, from its geofeed) answers cloud/linode.
func TestRealDataLinodeIsCloudLinode(t *testing.T) {
	e := fixture.RealEngine(t)
	for _, pfx := range realLines(t, "ipranges/linode/ipv4_merged.txt")[:20] {
		p := netip.MustParsePrefix(pfx)
		r := fixture.Classify(t, e, p.Addr().Next().String())
		assert.Equal(t, classifier.TypeCloud, r.Type, pfx)
		assert.Equal(t, "linode", r.Provider, pfx)
		assert.Equal(t, "ipranges/linode-ipv4", r.Snapshot, pfx)
	}
}

// A Tor exit on a hosting network carries both: the tor_exit tag and the
// hosting evidence (a datacenter list, the hosting-ASN list or the AS
// name), with the Tor list first.
func TestRealDataTorExitsOnHostingNetworksSayBoth(t *testing.T) {
	e := fixture.RealEngine(t)
	exits := realLines(t, "tor/torbulkexitlist")
	both := 0
	for _, ip := range exits {
		r := fixture.Classify(t, e, ip)
		require.Equal(t, classifier.TypeTor, r.Type, ip)
		require.Equal(t, []string{classifier.TagTorExit}, r.Tags[:1], ip)
		require.Equal(t, classifier.SourceTor, r.Evidence[0].Source, ip)
		if slices.ContainsFunc(r.Evidence[1:], func(ev classifier.Evidence) bool { return ev.Type == classifier.TypeDatacenter }) {
			both++
		}
	}
	t.Logf("tor exits: %d, %d with hosting evidence", len(exits), both)
	assert.Greater(t, both, len(exits)/2, "most Tor exits run in hosting networks")
}
