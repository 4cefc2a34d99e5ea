package classifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

// maxDownload bounds one source download (the largest real list, Azure's,
// is about 5.4 MB).
const maxDownload = 256 << 20

// fetched is the outcome of one conditional download.
type fetched struct {
	body         []byte
	etag         string
	lastModified string
	notModified  bool
}

// httpError is a download that got an HTTP status other than 200 or 304.
type httpError struct {
	URL    string
	Status int
}

func (e *httpError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// fetcher downloads sources over http(s) or reads file:// URLs, retrying
// transient failures with exponential backoff.
type fetcher struct {
	client    *http.Client
	attempts  int
	backoff   time.Duration
	userAgent string
}

func newFetcher(c Config) *fetcher {
	return &fetcher{
		client:    &http.Client{Timeout: c.HTTPTimeout.D()},
		attempts:  c.Attempts,
		backoff:   c.Backoff.D(),
		userAgent: c.UserAgent,
	}
}

// get downloads rawURL. etag and lastModified, when set, make the request
// conditional: an unchanged list answers 304 and costs one small request.
func (f *fetcher) get(ctx context.Context, rawURL, etag, lastModified string) (fetched, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fetched{}, fmt.Errorf("parse URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		b, err := os.ReadFile(u.Path)
		if err != nil {
			return fetched{}, fmt.Errorf("read %s: %w", rawURL, err)
		}
		return fetched{body: b}, nil
	case "http", "https":
	default:
		return fetched{}, fmt.Errorf("unsupported URL scheme %q in %q", u.Scheme, rawURL)
	}
	wait := f.backoff
	for attempt := 1; ; attempt++ {
		res, retryAfter, err := f.once(ctx, rawURL, etag, lastModified)
		if err == nil || attempt >= f.attempts || !retryable(err) {
			if err != nil && attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return res, err
		}
		if retryAfter > wait {
			wait = min(retryAfter, 60*time.Second)
		}
		select {
		case <-ctx.Done():
			return fetched{}, fmt.Errorf("%w (gave up waiting to retry: %v)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// once makes one request; retryAfter is the server's Retry-After hint.
func (f *fetcher) once(ctx context.Context, rawURL, etag, lastModified string) (fetched, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fetched{}, 0, fmt.Errorf("build request for %s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", f.userAgent)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return fetched{}, 0, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return fetched{notModified: true, etag: etag, lastModified: lastModified}, 0, nil
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fetched{}, parseRetryAfter(resp.Header.Get("Retry-After")), &httpError{URL: rawURL, Status: resp.StatusCode}
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return fetched{}, 0, fmt.Errorf("read body of %s: %w", rawURL, err)
	}
	if n > maxDownload {
		return fetched{}, 0, fmt.Errorf("GET %s: body larger than %d bytes", rawURL, maxDownload)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fetched{}, 0, fmt.Errorf("GET %s: truncated body (%d of %d bytes)", rawURL, n, resp.ContentLength)
	}
	return fetched{
		body: buf.Bytes(), etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"),
	}, 0, nil
}

// retryable tells transient failures (5xx, 429, timeouts, resets, temporary
// DNS) from permanent ones (other 4xx, unknown host, bad scheme).
func retryable(err error) bool {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status == http.StatusTooManyRequests || he.Status >= 500
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isConnError(err)
}

func isConnError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
