package classifier_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// baselineDate is when the test baseline's lists were "published".
var baselineDate = time.Date(2026, 8, 22, 0, 0, 0, 0, time.UTC)

// makeBaseline builds a baseline as `make baseline` does: an engine
// refreshes a Tor list of n addresses into a data directory with its clock
// at baselineDate; that directory is the baseline.
func makeBaseline(t *testing.T, n int) string {
	t.Helper()
	srv := newTorServer(t, reply{status: 200, body: torList(n)})
	e := torEngine(t, srv.URL, func(c *classifier.Config) {
		c.DisabledSources = []string{"tor/onionoo"}
		c.Now = func() time.Time { return baselineDate }
	})
	require.Equal(t, classifier.StatusUpdated, tor(t, e).Status)
	return e.Config().DataDir
}

// tor refreshes the bulk list alone (Onionoo disabled) and returns its line.
func tor(t *testing.T, e *classifier.Engine) classifier.SourceReport {
	t.Helper()
	rep, err := e.Refresh(context.Background(), classifier.GroupTor, false)
	require.NoError(t, err)
	require.Len(t, rep.Sources, 1)
	return rep.Sources[0]
}

// onBaseline opens an engine with a fresh data directory on baseline,
// its Tor list at torURL and its clock at now.
func onBaseline(t *testing.T, baseline, torURL string, now time.Time, dataDir string) *classifier.Engine {
	t.Helper()
	return torEngine(t, torURL, func(c *classifier.Config) {
		c.DisabledSources = []string{"tor/onionoo"}
		c.BaselineDir = baseline
		c.Now = func() time.Time { return now }
		if dataDir != "" {
			c.DataDir = dataDir
		}
	})
}

func TestBaselineAnswersStaleWithItsRealAgeWhenTheDataDirHasNothing(t *testing.T) {
	baseline := makeBaseline(t, 10)
	now := baselineDate.Add(100 * 24 * time.Hour)
	e := onBaseline(t, baseline, "http://127.0.0.1:1/unreachable", now, "")

	r := fixture.Classify(t, e, "185.220.0.1")
	assert.Equal(t, classifier.TypeTor, r.Type)
	assert.True(t, r.Stale, "answers from the baseline are stale")
	assert.Equal(t, baselineDate, r.SnapshotAt.UTC(), "with the baseline's own date")
	assert.Equal(t, 100*24*time.Hour, r.DataAge(now))
	s := sourceStats(t, e, "tor")
	assert.True(t, s.Baseline)
	assert.True(t, s.Stale)
	assert.Equal(t, 10, s.Prefixes)
}

func TestBaselineIsStaleEvenWhenItIsYoungerThanTheSourceInterval(t *testing.T) {
	baseline := makeBaseline(t, 10)
	e := onBaseline(t, baseline, "http://127.0.0.1:1/unreachable", baselineDate.Add(time.Minute), "")
	assert.True(t, fixture.Classify(t, e, "185.220.0.1").Stale)
}

func TestFailedRefreshKeepsTheBaselineAndWritesNothingInTheDataDir(t *testing.T) {
	baseline := makeBaseline(t, 10)
	now := baselineDate.Add(30 * 24 * time.Hour)
	e := onBaseline(t, baseline, "http://127.0.0.1:1/unreachable", now, "")
	sr := tor(t, e)
	assert.Equal(t, classifier.StatusFailed, sr.Status, "the baseline's date makes it due at once")
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "185.220.0.1").Type)
	written, err := filepath.Glob(filepath.Join(e.Config().DataDir, "snapshots", "tor.*"))
	require.NoError(t, err)
	assert.Empty(t, written, "metadata without data would read as a damaged snapshot next time")

	again := onBaseline(t, baseline, "http://127.0.0.1:1/unreachable", now, e.Config().DataDir)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, again, "185.220.0.1").Type, "the next start serves the baseline again")
	assert.True(t, sourceStats(t, again, "tor").Baseline)
}

func TestAGoodDownloadReplacesTheBaselineEvenWhenMuchSmaller(t *testing.T) {
	baseline := makeBaseline(t, 100)
	srv := newTorServer(t, reply{status: 200, body: "45.95.147.1\n"})
	now := baselineDate.Add(30 * 24 * time.Hour)
	e := onBaseline(t, baseline, srv.URL, now, "")
	sr := tor(t, e)
	require.Equal(t, classifier.StatusUpdated, sr.Status, "the shrink test guards the data directory's own data, not the baseline: %s", sr.Error)
	r := fixture.Classify(t, e, "45.95.147.1")
	assert.Equal(t, classifier.TypeTor, r.Type)
	assert.False(t, r.Stale)
	assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, e, "185.220.0.1").Type, "the baseline is gone")
	assert.False(t, sourceStats(t, e, "tor").Baseline)
	assert.FileExists(t, filepath.Join(e.Config().DataDir, "snapshots", "tor.data"))
}

func TestTheDataDirsOwnSnapshotWinsOverTheBaselineWhateverTheirDates(t *testing.T) {
	// The data directory's list is older than the baseline: still it is
	// what this installation downloaded, and the baseline never shadows it.
	srv := newTorServer(t, reply{status: 200, body: "45.95.147.1\n"})
	old := onBaseline(t, "", srv.URL, baselineDate.Add(-60*24*time.Hour), "")
	require.Equal(t, classifier.StatusUpdated, tor(t, old).Status)
	require.NoError(t, old.Close())

	e := onBaseline(t, makeBaseline(t, 10), "http://127.0.0.1:1/unreachable", baselineDate, old.Config().DataDir)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "45.95.147.1").Type)
	assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, e, "185.220.0.1").Type)
	assert.False(t, sourceStats(t, e, "tor").Baseline)
}

func TestADamagedSnapshotFallsBackToTheBaselineAndSaysSo(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: "45.95.147.1\n"})
	own := onBaseline(t, "", srv.URL, baselineDate, "")
	require.Equal(t, classifier.StatusUpdated, tor(t, own).Status)
	require.NoError(t, own.Close())
	dataFile := filepath.Join(own.Config().DataDir, "snapshots", "tor.data")
	require.NoError(t, os.WriteFile(dataFile, []byte("<html>not a list</html>\n"), 0o644))

	e := onBaseline(t, makeBaseline(t, 10), "http://127.0.0.1:1/unreachable", baselineDate, own.Config().DataDir)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "185.220.0.1").Type)
	s := sourceStats(t, e, "tor")
	assert.True(t, s.Baseline)
	assert.Contains(t, s.LastError, "snapshot damaged: tor.data does not match its metadata")
	assert.Contains(t, s.LastError, "serving the bundled baseline")
}

func TestAMissingBaselineDirIsAnErrorAtOpen(t *testing.T) {
	c := fixture.Config(t, "http://127.0.0.1:1")
	c.BaselineDir = filepath.Join(t.TempDir(), "nowhere")
	_, err := classifier.Open(c)
	require.ErrorContains(t, err, "baseline_dir")
	assert.NoDirExists(t, c.BaselineDir, "the baseline is never created or written")
}

func TestADamagedSnapshotFallsBackToItsPreviousGenerationBeforeTheBaseline(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: "45.95.147.1\n"}, reply{status: 200, body: "45.95.147.2\n"})
	own := onBaseline(t, "", srv.URL, baselineDate, "")
	require.Equal(t, classifier.StatusUpdated, tor(t, own).Status)
	_, err := own.Refresh(context.Background(), classifier.GroupTor, true)
	require.NoError(t, err)
	require.NoError(t, own.Close())
	require.NoError(t, os.WriteFile(filepath.Join(own.Config().DataDir, "snapshots", "tor.data"), []byte("garbage\n"), 0o644))

	e := onBaseline(t, makeBaseline(t, 10), "http://127.0.0.1:1/unreachable", baselineDate, own.Config().DataDir)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "45.95.147.1").Type, "this directory's previous generation")
	assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, e, "185.220.0.1").Type, "not the baseline")
	s := sourceStats(t, e, "tor")
	assert.False(t, s.Baseline)
	assert.Contains(t, s.LastError, "serving the previous generation")
}

func TestASourceNeverDownloadedIsNotReportedDamagedAfterAFailedRefresh(t *testing.T) {
	// No baseline: the failed attempt is recorded, and the next start says
	// so without calling the snapshot damaged.
	e := onBaseline(t, "", "http://127.0.0.1:1/unreachable", baselineDate, "")
	sr := tor(t, e)
	require.Equal(t, classifier.StatusFailed, sr.Status)
	require.NoError(t, e.Close())

	again := onBaseline(t, "", "http://127.0.0.1:1/unreachable", baselineDate, e.Config().DataDir)
	s := sourceStats(t, again, "tor")
	assert.Zero(t, s.SnapshotDamaged)
	assert.NotContains(t, s.LastError, "damaged")
	assert.Equal(t, sr.Error, s.LastError, "the last attempt's error")
	assert.Equal(t, float64(-1), s.AgeSeconds, "no snapshot")

	// With a baseline, it stands in, and the failed attempt is still told.
	withBase := onBaseline(t, makeBaseline(t, 10), "http://127.0.0.1:1/unreachable", baselineDate, e.Config().DataDir)
	s = sourceStats(t, withBase, "tor")
	assert.True(t, s.Baseline)
	assert.Zero(t, s.SnapshotDamaged)
	assert.Equal(t, sr.Error, s.LastError)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, withBase, "185.220.0.1").Type)
}
