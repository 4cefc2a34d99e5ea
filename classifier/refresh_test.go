package classifier_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// reply is one scripted HTTP answer.
type reply struct {
	status     int
	body       string
	etag       string
	retryAfter string
	truncate   bool // announce a longer Content-Length than the body sent
}

// torServer serves the Tor list path from a script of replies (the last one
// repeats) and records what it was asked.
type torServer struct {
	*httptest.Server
	mu       sync.Mutex
	script   []reply
	requests int
	ifNone   []string
}

func newTorServer(t *testing.T, script ...reply) *torServer {
	s := &torServer{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		rep := s.script[min(s.requests, len(s.script)-1)]
		s.requests++
		s.ifNone = append(s.ifNone, r.Header.Get("If-None-Match"))
		s.mu.Unlock()
		if rep.etag != "" && r.Header.Get("If-None-Match") == rep.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if rep.etag != "" {
			w.Header().Set("ETag", rep.etag)
		}
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		if rep.truncate {
			w.Header().Set("Content-Length", fmt.Sprint(len(rep.body)+1000))
		}
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte(rep.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *torServer) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// torEngine is an engine whose only source that matters is the Tor list.
func torEngine(t *testing.T, torURL string, cfg ...func(*classifier.Config)) *classifier.Engine {
	c := fixture.Config(t, fixture.Server(t).URL)
	c.TorURL = torURL
	for _, f := range cfg {
		f(&c)
	}
	return fixture.Open(t, c)
}

// refreshTor refreshes the tor group (the bulk list and Onionoo) and returns
// the bulk list's report line.
func refreshTor(t *testing.T, e *classifier.Engine, force bool) classifier.SourceReport {
	t.Helper()
	rep, err := e.Refresh(context.Background(), classifier.GroupTor, force)
	require.NoError(t, err)
	require.Len(t, rep.Sources, 2)
	require.Equal(t, "tor", rep.Sources[0].Source)
	require.Equal(t, "tor/onionoo", rep.Sources[1].Source)
	return rep.Sources[0]
}

// torList makes a bulk exit list of n addresses 10.x → 185.220.x.y.
func torList(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "185.220.%d.%d\n", i/250, i%250+1)
	}
	return b.String()
}

func TestRefreshDownloadsValidatesAndSwaps(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10)})
	e := torEngine(t, srv.URL)
	assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, e, "185.220.0.1").Type, "nothing before the first refresh")
	sr := refreshTor(t, e, false)
	assert.Equal(t, classifier.StatusUpdated, sr.Status)
	assert.Equal(t, 10, sr.Entries)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "185.220.0.1").Type)
}

func TestRefreshUsesConditionalGETAndCounts304AsCurrent(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10), etag: `"v1"`})
	e := torEngine(t, srv.URL)
	require.Equal(t, classifier.StatusUpdated, refreshTor(t, e, false).Status)
	sr := refreshTor(t, e, true)
	assert.Equal(t, classifier.StatusNotModified, sr.Status)
	assert.Equal(t, []string{"", `"v1"`}, srv.ifNone)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "185.220.0.5").Type)
	assert.False(t, fixture.Classify(t, e, "185.220.0.5").Stale)
}

func TestRefreshSkipsSourcesNotDueUnlessForced(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10)})
	e := torEngine(t, srv.URL)
	refreshTor(t, e, false)
	assert.Equal(t, classifier.StatusSkipped, refreshTor(t, e, false).Status)
	assert.Equal(t, 1, srv.count())
	assert.Equal(t, classifier.StatusUpdated, refreshTor(t, e, true).Status)
	assert.Equal(t, 2, srv.count())
}

func TestRefreshRetriesTransientFailures(t *testing.T) {
	tests := []struct {
		name     string
		script   []reply
		status   string
		requests int
	}{
		{"500 then success", []reply{{status: 500}, {status: 200, body: torList(5)}}, classifier.StatusUpdated, 2},
		{"429 with Retry-After then success", []reply{{status: 429, retryAfter: "0"}, {status: 200, body: torList(5)}}, classifier.StatusUpdated, 2},
		{"503 three times gives up", []reply{{status: 503}}, classifier.StatusFailed, 3},
		{"404 is not retried", []reply{{status: 404}}, classifier.StatusFailed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTorServer(t, tt.script...)
			e := torEngine(t, srv.URL)
			sr := refreshTor(t, e, false)
			assert.Equal(t, tt.status, sr.Status, sr.Error)
			assert.Equal(t, tt.requests, srv.count())
		})
	}
}

func TestBadDownloadKeepsPreviousDataAndFlagsItStale(t *testing.T) {
	tests := []struct {
		name  string
		bad   reply
		force bool
		err   string
	}{
		{"HTML error page with 200", reply{status: 200, body: "<!DOCTYPE html><html><body>Rate limited</body></html>"}, false, "HTML"},
		{"empty body", reply{status: 200, body: "\n"}, false, "empty"},
		{"mostly garbage", reply{status: 200, body: "185.220.0.1\nx\ny\nz\n"}, false, "mostly unparseable"},
		{"truncated transfer", reply{status: 200, body: torList(100), truncate: true}, false, "unexpected EOF"},
		{"list shrank by more than half", reply{status: 200, body: torList(40)}, false, "shrank from 100 to 40"},
		{"server error", reply{status: 500}, false, "HTTP 500"},
		{"HTML even when forced", reply{status: 200, body: "<html><head></head></html>"}, true, "HTML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTorServer(t, reply{status: 200, body: torList(100)}, tt.bad)
			e := torEngine(t, srv.URL, func(c *classifier.Config) { c.TorInterval = 0.001 }) // always due
			require.Equal(t, classifier.StatusUpdated, refreshTor(t, e, false).Status)
			time.Sleep(2 * time.Millisecond)
			sr := refreshTor(t, e, tt.force)
			assert.Equal(t, classifier.StatusFailed, sr.Status)
			assert.Contains(t, sr.Error, tt.err)
			r := fixture.Classify(t, e, "185.220.0.99")
			assert.Equal(t, classifier.TypeTor, r.Type, "previous data still answers")
			assert.True(t, r.Stale, "answers from a source whose refresh failed are stale")
			assert.Equal(t, 100, sourceStats(t, e, "tor").Prefixes)
			assert.NotEmpty(t, sourceStats(t, e, "tor").LastError)
		})
	}
}

func TestForcedRefreshAcceptsAShrunkenList(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(100)}, reply{status: 200, body: torList(10)})
	e := torEngine(t, srv.URL)
	refreshTor(t, e, false)
	sr := refreshTor(t, e, true)
	assert.Equal(t, classifier.StatusUpdated, sr.Status)
	assert.Equal(t, 10, sr.Entries)
	assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, e, "185.220.0.99").Type)
}

func TestSnapshotsPersistSoARestartClassifiesOffline(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10), etag: `"v1"`})
	dataDir := t.TempDir()
	e1 := torEngine(t, srv.URL, func(c *classifier.Config) { c.DataDir = dataDir })
	refreshTor(t, e1, false)
	before := fixture.Classify(t, e1, "185.220.0.3")
	require.NoError(t, e1.Close())
	srv.Close() // the network is gone

	e2 := torEngine(t, srv.URL, func(c *classifier.Config) { c.DataDir = dataDir })
	after := fixture.Classify(t, e2, "185.220.0.3")
	assert.Equal(t, classifier.TypeTor, after.Type)
	assert.Equal(t, before.SnapshotAt.UTC(), after.SnapshotAt.UTC())
	assert.False(t, after.Stale)
	assert.Equal(t, 10, sourceStats(t, e2, "tor").Prefixes)

	sr := refreshTor(t, e2, true)
	assert.Equal(t, classifier.StatusFailed, sr.Status)
	assert.True(t, fixture.Classify(t, e2, "185.220.0.3").Stale)

	e3 := torEngine(t, srv.URL, func(c *classifier.Config) { c.DataDir = dataDir })
	assert.True(t, fixture.Classify(t, e3, "185.220.0.3").Stale, "the failed attempt is remembered across restarts")
}

func TestSnapshotOlderThanThreeIntervalsIsStale(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: torList(10)})
	var now atomic.Pointer[time.Time]
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now.Store(&start)
	e := torEngine(t, srv.URL, func(c *classifier.Config) { c.Now = func() time.Time { return *now.Load() } })
	refreshTor(t, e, false)
	later := start.Add(2 * time.Hour)
	now.Store(&later)
	r := fixture.Classify(t, e, "185.220.0.3")
	assert.False(t, r.Stale)
	assert.Equal(t, 2*time.Hour, r.DataAge(later))
	muchLater := start.Add(4 * time.Hour)
	now.Store(&muchLater)
	assert.True(t, fixture.Classify(t, e, "185.220.0.3").Stale)
}

func TestFileURLsWorkForAirGappedSensors(t *testing.T) {
	e := torEngine(t, "file://"+testkit.WriteTemp(t, "185.220.0.1\n185.220.0.2\n"))
	sr := refreshTor(t, e, false)
	assert.Equal(t, classifier.StatusUpdated, sr.Status)
	assert.Equal(t, classifier.TypeTor, fixture.Classify(t, e, "185.220.0.2").Type)
}

func TestUnknownRefreshGroupIsAnError(t *testing.T) {
	e := torEngine(t, "file:///nonexistent")
	_, err := e.Refresh(context.Background(), "clouds", false)
	require.ErrorContains(t, err, `"clouds"`)
}

func TestEnvironmentOverridesDefaultURLs(t *testing.T) {
	t.Setenv("TOR_BULK_LIST_URL", "file:///tor")
	t.Setenv("CLOUD_RANGES_BASE_URL", "http://127.0.0.1:1/cloud")
	t.Setenv("DATACENTER_RANGES_URL", "http://127.0.0.1:1/dc.csv")
	t.Setenv("HOSTING_RANGES_BASE_URL", "http://127.0.0.1:1/hosting")
	c := classifier.Config{}.WithDefaults()
	assert.Equal(t, "file:///tor", c.TorURL)
	assert.Equal(t, "http://127.0.0.1:1/cloud", c.CloudBaseURL)
	assert.Equal(t, "http://127.0.0.1:1/dc.csv", c.DatacenterURL)
	assert.Equal(t, "http://127.0.0.1:1/hosting", c.HostingBaseURL)
	explicit := classifier.Config{TorURL: "http://explicit/tor"}.WithDefaults()
	assert.Equal(t, "http://explicit/tor", explicit.TorURL, "an explicit option beats the environment")
	t.Setenv("TOR_BULK_LIST_URL", "")
	assert.Equal(t, "https://check.torproject.org/torbulkexitlist", classifier.Config{}.WithDefaults().TorURL)
}

func TestClassifyDuringRefreshNeverSeesAHalfBuiltIndex(t *testing.T) {
	// Two lists that both hold 185.220.0.1: every answer must be tor, from
	// whichever index is current, while refreshes swap them under readers.
	srv := newTorServer(t, reply{status: 200, body: torList(300)}, reply{status: 200, body: torList(200)})
	e := torEngine(t, srv.URL)
	refreshTor(t, e, false)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var lookups atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				r, err := e.Classify(ctx, "185.220.0.1", 0, "")
				if !assert.NoError(t, err) || !assert.Equal(t, classifier.TypeTor, r.Type) {
					return
				}
				lookups.Add(1)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		refreshTor(t, e, true)
	}
	cancel()
	wg.Wait()
	assert.Greater(t, lookups.Load(), int64(20))
}

func sourceStats(t *testing.T, e *classifier.Engine, name string) classifier.SourceStats {
	t.Helper()
	for _, s := range e.Stats().Sources {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no source %q", name)
	return classifier.SourceStats{}
}

func TestDisabledSourcesAreNeitherLoadedNorDownloaded(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.DisabledSources = []string{"tor/onionoo", "cloud/linode"}
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	for _, s := range rep.Sources {
		assert.NotContains(t, []string{"tor/onionoo", "cloud/linode"}, s.Source)
	}
	assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, e, "2600:3c00::42").Type, "the linode range is not loaded")

	t.Setenv("IPCLASSIFIER_DISABLED_SOURCES", "tor/onionoo, asn/ip2asn-v4")
	assert.Equal(t, []string{"tor/onionoo", "asn/ip2asn-v4"}, classifier.Config{}.WithDefaults().DisabledSources)
}
