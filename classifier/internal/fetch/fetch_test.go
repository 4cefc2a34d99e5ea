package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real local HTTP server plays the source; each case says what it
// answers and what Get makes of it.
func TestGetFollowsHTTPAsDocumented(t *testing.T) {
	for _, tc := range []struct {
		name     string
		handler  func(n int32, w http.ResponseWriter, r *http.Request)
		attempts int
		etag     string
		want     Result
		err      string
		calls    int32
	}{
		{name: "200 gives the body and its validators", attempts: 3, calls: 1,
			handler: func(_ int32, w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "ipclassifier-test", r.UserAgent())
				w.Header().Set("ETag", `"v1"`)
				w.Header().Set("Last-Modified", "Wed, 02 Dec 2026 10:00:00 GMT")
				_, _ = w.Write([]byte("1.2.3.4\n"))
			},
			want: Result{Body: []byte("1.2.3.4\n"), ETag: `"v1"`, LastModified: "Wed, 02 Dec 2026 10:00:00 GMT"}},
		{name: "a conditional request answered 304 is not modified", attempts: 3, calls: 1, etag: `"v1"`,
			handler: func(_ int32, w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, `"v1"`, r.Header.Get("If-None-Match"))
				w.WriteHeader(http.StatusNotModified)
			},
			want: Result{NotModified: true, ETag: `"v1"`}},
		{name: "5xx and 429 are retried", attempts: 3, calls: 3,
			handler: func(n int32, w http.ResponseWriter, _ *http.Request) {
				switch n {
				case 1:
					w.WriteHeader(http.StatusServiceUnavailable)
				case 2:
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusTooManyRequests)
				default:
					_, _ = w.Write([]byte("ok"))
				}
			},
			want: Result{Body: []byte("ok")}},
		{name: "other 4xx are not", attempts: 3, calls: 1, err: "HTTP 404 Not Found",
			handler: func(_ int32, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }},
		{name: "attempts run out", attempts: 2, calls: 2, err: "HTTP 502 Bad Gateway (after 2 attempts)",
			handler: func(_ int32, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }},
		{name: "a body over the limit is refused", attempts: 1, calls: 1, err: "body larger than the limit of 64 bytes (65 announced)",
			handler: func(_ int32, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 65))) }},
		{name: "a body of exactly the limit is taken", attempts: 1, calls: 1,
			handler: func(_ int32, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 64))) },
			want:    Result{Body: []byte(strings.Repeat("x", 64))}},
		{name: "an endless body without a length is cut at the limit", attempts: 1, calls: 1, err: "body larger than the limit of 64 bytes",
			handler: func(_ int32, w http.ResponseWriter, r *http.Request) {
				for r.Context().Err() == nil {
					if _, err := w.Write([]byte(strings.Repeat("1.2.3.4\n", 512))); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.handler(calls.Add(1), w, r)
			}))
			defer srv.Close()
			f := New(5*time.Second, tc.attempts, time.Millisecond, "ipclassifier-test")
			got, err := f.Get(context.Background(), srv.URL+"/list", tc.etag, "", 64)
			assert.Equal(t, tc.calls, calls.Load())
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// An HTTP error says its status (errors.As finds it).
func TestHTTPErrorIsTyped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer srv.Close()
	_, err := New(time.Second, 1, 0, "t").Get(context.Background(), srv.URL, "", "", 0)
	var he *HTTPError
	require.True(t, errors.As(err, &he), "%v", err)
	assert.Equal(t, http.StatusForbidden, he.Status)
}

// file:// URLs read local copies, bounded like downloads; other schemes
// are refused.
func TestGetReadsFileURLsAndRefusesOtherSchemes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "list")
	require.NoError(t, os.WriteFile(p, []byte("10.0.0.0/8\n"), 0o644))
	f := New(time.Second, 1, 0, "t")
	got, err := f.Get(context.Background(), "file://"+p, "", "", 0)
	require.NoError(t, err)
	assert.Equal(t, []byte("10.0.0.0/8\n"), got.Body)
	_, err = f.Get(context.Background(), "file://"+p, "", "", 4)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "larger than the limit of 4 bytes (11 announced)")
	// A device has no size: it is read up to the limit, not forever.
	_, err = f.Get(context.Background(), "file:///dev/zero", "", "", 1<<20)
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = f.Get(context.Background(), "file:///nonexistent/list", "", "", 0)
	assert.ErrorContains(t, err, "no such file")
	_, err = f.Get(context.Background(), "ftp://example.org/list", "", "", 0)
	assert.ErrorContains(t, err, `unsupported URL scheme "ftp"`)
}

// A cancelled context stops the wait between attempts.
func TestGetStopsRetryingWhenTheContextEnds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := New(time.Second, 10, time.Hour, "t").Get(ctx, srv.URL, "", "", 0)
	assert.ErrorContains(t, err, "gave up waiting to retry")
}
