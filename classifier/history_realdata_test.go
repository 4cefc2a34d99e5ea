package classifier_test

import (
	"bufio"
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// The real dated files of ../shared/data (SOURCES.md §3, §7, §10) and the
// dates they were published.
var (
	torMarch = datedFile{"tor/torbulkexitlist", time.Date(2026, 3, 15, 13, 17, 9, 0, time.UTC)}
	torDates = []datedFile{
		torMarch,
		{"tor/torbulkexitlist.2026-04-30", time.Date(2026, 4, 30, 17, 17, 18, 0, time.UTC)},
		{"tor/torbulkexitlist.2026-06-15", time.Date(2026, 6, 15, 19, 45, 27, 0, time.UTC)},
		{"tor/torbulkexitlist.2026-08-22", time.Date(2026, 8, 22, 16, 18, 35, 0, time.UTC)},
	}
	awsMay  = datedFile{"aws-official/ip-ranges.2026-05-06.json.gz", time.Date(2026, 5, 6, 2, 57, 6, 0, time.UTC)}
	awsJuly = datedFile{"aws-official/ip-ranges.2026-07-02.json.gz", time.Date(2026, 7, 2, 0, 7, 5, 0, time.UTC)}
)

type datedFile struct {
	path string
	date time.Time
}

func (f datedFile) read(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.SharedData(t), f.path))
	require.NoError(t, err)
	return b
}

// historyEngine is an engine over the real data whose current Tor list is
// the one of 2026-08-22 and whose AWS source is AWS's own file of
// 2026-08-22, with the dated Tor lists and AWS files imported into its
// history. Onionoo and the ip2asn tables are left out: they have no
// history here (see TestClassifyAtFlagsSourcesWithoutHistory).
func historyEngine(t *testing.T) *classifier.Engine {
	t.Helper()
	cfg := fixture.RealDataFirstPartyConfig(t)
	cfg.TorURL += ".2026-08-22"
	cfg.FirstParty = []string{"aws"}
	cfg.CloudProviders = []string{"aws", "gcp"}
	cfg.DisabledSources = append(cfg.DisabledSources, "tor/onionoo", "asn/ip2asn-v4", "asn/ip2asn-v6")
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	for _, f := range torDates {
		_, err := e.ImportSnapshot(context.Background(), "tor", f.date, f.read(t))
		require.NoError(t, err, f.path)
	}
	for _, f := range []datedFile{awsMay, awsJuly} {
		_, err := e.ImportSnapshot(context.Background(), "cloud/aws-official", f.date, f.read(t))
		require.NoError(t, err, f.path)
	}
	return e
}

// lines is the set of non-empty lines of b.
func lines(b []byte) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out[l] = true
		}
	}
	return out
}

func TestClassifyAtAnswersAMarchTorExitAsTorInMarchOnly(t *testing.T) {
	e := historyEngine(t)
	march, august := lines(torMarch.read(t)), lines(torDates[3].read(t))
	var gone []string
	for ip := range march {
		if !august[ip] {
			gone = append(gone, ip)
		}
	}
	require.NotEmpty(t, gone)
	t.Logf("%d of the %d March exits are not in the August list", len(gone), len(march))
	at := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for _, ip := range gone[:min(len(gone), 50)] {
		r, err := e.ClassifyAt(context.Background(), ip, 0, "", at)
		require.NoError(t, err)
		assert.Equal(t, classifier.TypeTor, r.Type, ip)
		assert.Equal(t, torMarch.date, r.SnapshotAt, ip)
		assert.Equal(t, at, r.AsOf)
		assert.False(t, r.HistoryShort, ip)
		assert.Equal(t, 5*24*time.Hour-(13*time.Hour+17*time.Minute+9*time.Second)+12*time.Hour, r.DataAge(time.Now()))
		now := fixture.Classify(t, e, ip)
		assert.NotEqual(t, classifier.TypeTor, now.Type, ip)
		assert.True(t, now.AsOf.IsZero())
	}
}

func TestClassifyAtUsesTheTorListInForceAtEachDate(t *testing.T) {
	e := historyEngine(t)
	for i, f := range torDates {
		list := lines(f.read(t))
		at := f.date.Add(time.Hour)
		var n, tor int
		for ip := range list {
			n++
			r, err := e.ClassifyAt(context.Background(), ip, 0, "", at)
			require.NoError(t, err)
			if r.Type == classifier.TypeTor && r.SnapshotAt.Equal(f.date) {
				tor++
			}
		}
		assert.Equal(t, n, tor, "every exit of list %d is tor from that list an hour after it", i)
	}
	// Before the oldest list: answered from it, flagged, the age negative.
	at := torMarch.date.Add(-48 * time.Hour)
	for ip := range lines(torMarch.read(t)) {
		r, err := e.ClassifyAt(context.Background(), ip, 0, "", at)
		require.NoError(t, err)
		assert.Equal(t, classifier.TypeTor, r.Type)
		assert.True(t, r.HistoryShort)
		assert.Equal(t, -48*time.Hour, r.DataAge(time.Now()))
		break
	}
	st := e.Stats()
	assert.Equal(t, 4, st.History["tor"].Imported)
	assert.Positive(t, st.History["tor"].Bytes)
	assert.Positive(t, st.HistoryBytes)
	assert.Positive(t, st.HistoryShort)
}

func TestClassifyAtAnAWSPrefixIsCloudOnlyAfterItsDate(t *testing.T) {
	e := historyEngine(t)
	parsed := func(f datedFile) parse.Parsed {
		b, err := parse.GunzipLimit(f.read(t), 1<<30)
		require.NoError(t, err)
		p, err := parse.AWSIPRanges(b)
		require.NoError(t, err)
		return p
	}
	may, july := parsed(awsMay), parsed(awsJuly)
	var old []netip.Prefix
	for _, x := range may.Entries {
		old = append(old, x.Prefix)
	}
	covered := func(a netip.Addr) bool {
		for _, p := range old {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	checked := 0
	for _, x := range july.Entries {
		a := x.Prefix.Addr()
		if covered(a) || checked == 20 {
			continue
		}
		before, err := e.ClassifyAt(context.Background(), a.String(), 0, "", awsJuly.date.Add(-time.Hour))
		require.NoError(t, err)
		after, err := e.ClassifyAt(context.Background(), a.String(), 0, "", awsJuly.date.Add(time.Hour))
		require.NoError(t, err)
		if before.Type == classifier.TypeTor || before.Source == "cloud_ranges_gcp" {
			continue
		}
		checked++
		assert.False(t, before.Type == classifier.TypeCloud && before.Provider == "aws", "%s before %s: %+v", x.Prefix, awsJuly.date, before)
		assert.Equal(t, classifier.TypeCloud, after.Type, x.Prefix)
		assert.Equal(t, "aws", after.Provider, x.Prefix)
		assert.Equal(t, awsJuly.date, after.SnapshotAt, x.Prefix)
	}
	assert.Equal(t, 20, checked, "prefixes added between the two AWS files")
}
