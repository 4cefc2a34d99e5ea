package classifier_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// endlessTorList answers an endless, valid-looking bulk exit list with no
// Content-Length (chunked), until the client hangs up.
func endlessTorList(w http.ResponseWriter, r *http.Request) {
	chunk := []byte(strings.Repeat("185.220.101.1\n", 4096))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// gzipBomb is a small gzip stream of n bytes of ip2asn rows.
func gzipBomb(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	row := []byte(strings.Repeat("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n", 1024))
	for written := 0; written < n; written += len(row) {
		_, err := zw.Write(row)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// A hostile answer after a good refresh — an endless body, one announcing
// a huge length, a gzip bomb — is refused at the source's limit (4 × its
// last accepted size, at least 8 MiB), with a message naming the source and
// the limit; the previous data stays, flagged stale.
func TestHostileDownloadIsRefusedAtTheSourceLimit(t *testing.T) {
	bomb := gzipBomb(t, 256<<20)
	require.Less(t, len(bomb), 2<<20, "a bomb: small on the wire")
	for _, tc := range []struct {
		name, source string
		handler      http.HandlerFunc
		want         []string
	}{
		{"endless body", "tor", endlessTorList, []string{
			"tor refused: GET ", "body larger than the limit of 8388608 bytes",
			"(limit of tor: 8.00 MiB: 4 × the last accepted ", " KiB, at least 8.00 MiB, at most 64.00 MiB)"}},
		{"announced length over the limit", "tor", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1073741824")
			endlessTorList(w, r)
		}, []string{"tor refused: GET ", "body larger than the limit of 8388608 bytes (1073741824 announced)"}},
		{"gzip bomb", "asn/ip2asn-v4", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(bomb) }, []string{
			"asn/ip2asn-v4 refused: gunzip: content larger than the limit of 8388608 bytes", "(limit of asn/ip2asn-v4: 8.00 MiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := fixture.Server(t)
			cfg := fixture.Config(t, good.URL)
			e := fixture.Open(t, cfg)
			_, err := e.Refresh(t.Context(), classifier.GroupAll, false)
			require.NoError(t, err)
			before := sourceStats(t, e, tc.source)
			require.Positive(t, before.Prefixes)
			require.NoError(t, e.Close())

			hostile := httptest.NewServer(tc.handler)
			t.Cleanup(hostile.Close)
			switch tc.source {
			case "tor":
				cfg.TorURL = hostile.URL + "/torbulkexitlist"
			default:
				cfg.ASNV4URL = hostile.URL + "/ip2asn-v4.tsv.gz"
			}
			allDue(&cfg)
			e = fixture.Open(t, cfg)
			rep, err := e.Refresh(t.Context(), classifier.GroupAll, false)
			require.NoError(t, err)
			var sr classifier.SourceReport
			for _, s := range rep.Sources {
				if s.Source == tc.source {
					sr = s
				}
			}
			require.Equal(t, classifier.StatusFailed, sr.Status)
			for _, w := range tc.want {
				assert.Contains(t, sr.Error, w)
			}
			after := sourceStats(t, e, tc.source)
			assert.Equal(t, before.Prefixes, after.Prefixes, "the previous data stays")
			assert.True(t, after.Stale)
			assert.Equal(t, sr.Error, after.LastError)
		})
	}
}

// allDue makes every source due at every refresh.
func allDue(cfg *classifier.Config) {
	for _, d := range []*classifier.Seconds{&cfg.TorInterval, &cfg.CloudInterval, &cfg.DatacenterInterval, &cfg.HostingInterval, &cfg.ASNInterval} {
		*d = 1e-6
	}
}

// A forced refresh lifts the limit to the hard cap: the way to take a list
// that really grew more than fourfold.
func TestForcedRefreshIsHeldToTheHardCap(t *testing.T) {
	hostile := httptest.NewServer(http.HandlerFunc(endlessTorList))
	t.Cleanup(hostile.Close)
	rep := refreshTor(t, torEngine(t, hostile.URL+"/torbulkexitlist"), true)
	require.Equal(t, classifier.StatusFailed, rep.Status)
	assert.Contains(t, rep.Error, "(limit of tor: 64.00 MiB, the hard cap (a forced refresh))")
}

// A source with no snapshot yet is held to the hard cap (64 MiB).
func TestFirstDownloadIsHeldToTheHardCap(t *testing.T) {
	hostile := httptest.NewServer(http.HandlerFunc(endlessTorList))
	t.Cleanup(hostile.Close)
	rep := refreshTor(t, torEngine(t, hostile.URL+"/torbulkexitlist"), false)
	require.Equal(t, classifier.StatusFailed, rep.Status)
	assert.Contains(t, rep.Error, "tor refused: GET ")
	assert.Contains(t, rep.Error, "body larger than the limit of 67108864 bytes")
	assert.Contains(t, rep.Error, "(limit of tor: 64.00 MiB, the hard cap (no snapshot accepted yet))")
}
