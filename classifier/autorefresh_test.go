package classifier_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// eventually polls cond every 20 ms for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func autoRefreshing(c *classifier.Config) { c.AutoRefresh, c.AutoRefreshRetry = true, 0.2 }

// A host that never calls Refresh gets answers from the lists all the same:
// the engine downloads what is due in the background, without blocking
// Classify, and says so in Stats.
func TestAutoRefreshDownloadsOnFirstUseWithoutBlocking(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10)})
	e := torEngine(t, srv.URL, autoRefreshing)
	r := fixture.Classify(t, e, "185.220.0.1") // answered at once, from whatever is loaded
	require.Contains(t, []classifier.IPType{classifier.TypeUnknown, classifier.TypeTor}, r.Type)
	eventually(t, "the background refresh", func() bool { return fixture.Classify(t, e, "185.220.0.1").Type == classifier.TypeTor })
	eventually(t, "the run to be counted", func() bool { return e.Stats().AutoRefresh.Runs >= 1 })
	st := e.Stats().AutoRefresh
	assert.True(t, st.Enabled)
	assert.Zero(t, st.Failed)
	assert.True(t, st.NextRunAt.After(time.Now()), "the next run waits for the next due source: %v", st.NextRunAt)
	assert.Equal(t, 1, srv.count(), "downloaded once: nothing is due again for an hour")

	off := torEngine(t, srv.URL)
	assert.False(t, off.Stats().AutoRefresh.Enabled, "off unless configured")
}

// Two processes on one data directory: one downloads, the other adopts
// its snapshot (the data directory's refresh lock).
func TestAutoRefreshOneProcessPerDataDirDownloads(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10)})
	dir := t.TempDir()
	shared := func(c *classifier.Config) { autoRefreshing(c); c.DataDir = dir }
	a := torEngine(t, srv.URL, shared)
	b := torEngine(t, srv.URL, shared)
	for _, e := range []*classifier.Engine{a, b} {
		eventually(t, "tor answers", func() bool { return fixture.Classify(t, e, "185.220.0.1").Type == classifier.TypeTor })
	}
	assert.Equal(t, 1, srv.count(), "one download for the two of them")
	assert.Equal(t, a.Stats().DataID, b.Stats().DataID)
}

// A failed source is tried again after AutoRefreshRetry, and the failure is
// counted; Close stops the refresh.
func TestAutoRefreshRetriesAFailureAndStopsAtClose(t *testing.T) {
	srv := newTorServer(t, reply{status: 500}, reply{status: 200, body: torList(10)})
	c := fixture.Config(t, fixture.Server(t).URL)
	c.TorURL, c.Attempts = srv.URL, 1
	autoRefreshing(&c)
	e, err := classifier.Open(c)
	require.NoError(t, err)
	eventually(t, "the retry", func() bool { return fixture.Classify(t, e, "185.220.0.1").Type == classifier.TypeTor })
	eventually(t, "the second run to be counted", func() bool { return e.Stats().AutoRefresh.Runs >= 2 })
	st := e.Stats().AutoRefresh
	assert.GreaterOrEqual(t, st.Failed, int64(1))
	assert.GreaterOrEqual(t, st.Runs, int64(2))
	require.NoError(t, e.Close())
	n := srv.count()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, n, srv.count(), "nothing after Close")
}
