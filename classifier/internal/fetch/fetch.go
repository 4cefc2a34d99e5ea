// Package fetch downloads the engine's sources: http(s) with conditional
// requests (ETag, Last-Modified), file:// for local copies, transient
// failures retried with exponential backoff (and Retry-After), every body
// bounded in size.
package fetch

import (
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

	"github.com/ipclassifier/ipclassifier/classifier/internal/bounded"
)

// MaxDownload is the hard cap on one download, the limit Get applies when
// given none: the largest real list, the ip2asn-v4 table, is about 25 MB
// unzipped (6.4 MB as served).
const MaxDownload = 64 << 20

// ErrTooLarge is wrapped by the error of a download refused for exceeding
// its size limit (see Get).
var ErrTooLarge = bounded.ErrTooLarge

// Result is the outcome of one conditional download: the body with the
// validators to send next time, or NotModified (and no body).
type Result struct {
	Body         []byte
	ETag         string
	LastModified string
	NotModified  bool
}

// HTTPError is a download that got an HTTP status other than 200 or 304.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Fetcher downloads sources over http(s) or reads file:// URLs, retrying
// transient failures with exponential backoff. Make one with New; it is
// safe for concurrent use.
type Fetcher struct {
	client    *http.Client
	attempts  int
	backoff   time.Duration
	userAgent string
}

// New returns a Fetcher making up to attempts tries per download (at least
// one), waiting backoff, then twice that, … between them, each request
// bounded by timeout and sent with userAgent.
func New(timeout time.Duration, attempts int, backoff time.Duration, userAgent string) *Fetcher {
	return &Fetcher{
		client:    &http.Client{Timeout: timeout},
		attempts:  attempts,
		backoff:   backoff,
		userAgent: userAgent,
	}
}

// Get downloads rawURL. etag and lastModified, when set, make the request
// conditional: an unchanged list answers 304 and costs one small request.
// A body longer than limit bytes (MaxDownload when limit <= 0) is refused
// with an error wrapping ErrTooLarge: at once when its announced length
// says so, else as soon as it has read one byte more (see bounded.Read).
func (f *Fetcher) Get(ctx context.Context, rawURL, etag, lastModified string, limit int64) (Result, error) {
	if limit <= 0 {
		limit = MaxDownload
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, fmt.Errorf("parse URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		fh, err := os.Open(u.Path)
		if err != nil {
			return Result{}, fmt.Errorf("read %s: %w", rawURL, err)
		}
		defer fh.Close()
		size := int64(-1) // a device or a pipe: unknown
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		b, err := bounded.Read(fh, size, limit)
		if err != nil {
			return Result{}, fmt.Errorf("read %s: %w", rawURL, err)
		}
		return Result{Body: b}, nil
	case "http", "https":
	default:
		return Result{}, fmt.Errorf("unsupported URL scheme %q in %q", u.Scheme, rawURL)
	}
	wait := f.backoff
	for attempt := 1; ; attempt++ {
		res, retryAfter, err := f.once(ctx, rawURL, etag, lastModified, limit)
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
			return Result{}, fmt.Errorf("%w (gave up waiting to retry: %v)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// once makes one request; retryAfter is the server's Retry-After hint.
func (f *Fetcher) once(ctx context.Context, rawURL, etag, lastModified string, limit int64) (Result, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Result{}, 0, fmt.Errorf("build request for %s: %w", rawURL, err)
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
		return Result{}, 0, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return Result{NotModified: true, ETag: etag, LastModified: lastModified}, 0, nil
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return Result{}, parseRetryAfter(resp.Header.Get("Retry-After")), &HTTPError{URL: rawURL, Status: resp.StatusCode}
	}
	body, err := bounded.Read(resp.Body, resp.ContentLength, limit)
	if errors.Is(err, ErrTooLarge) {
		return Result{}, 0, fmt.Errorf("GET %s: body %w", rawURL, err)
	}
	if err != nil {
		return Result{}, 0, fmt.Errorf("read body of %s: %w", rawURL, err)
	}
	if n := int64(len(body)); resp.ContentLength >= 0 && n != resp.ContentLength {
		return Result{}, 0, fmt.Errorf("GET %s: truncated body (%d of %d bytes)", rawURL, n, resp.ContentLength)
	}
	return Result{
		Body: body, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
	}, 0, nil
}

// retryable tells transient failures (5xx, 429, timeouts, resets, temporary
// DNS) from permanent ones (other 4xx, unknown host, bad scheme).
func retryable(err error) bool {
	var he *HTTPError
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
