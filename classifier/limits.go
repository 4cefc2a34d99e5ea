package classifier

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ipclassifier/ipclassifier/classifier/internal/fetch"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// The size limit of one source's download, in bytes: limitFactor times the
// size of its last accepted snapshot (uncompressed), at least limitFloor,
// at most limitCap; limitCap for a source with no snapshot yet and in a
// forced refresh (an operator's way to take a list that really grew). A gzip body
// is held to the same number before and after decompression. A list may so
// grow fourfold between two refreshes, while a hostile or broken answer (an
// endless body, a gzip bomb) is cut off after a few MB for most sources.
const (
	limitFloor  = 8 << 20
	limitFactor = 4
	limitCap    = fetch.MaxDownload // the largest real list, ip2asn-v4, is ~25 MB unzipped
)

// sizeLimit is the download limit of one source and what it derives from.
type sizeLimit struct {
	n      int64 // bytes
	last   int   // uncompressed bytes of the last accepted snapshot; 0 = none
	forced bool  // a forced refresh: the hard cap
}

// limitFor is the limit of a source whose last accepted snapshot was last
// bytes long (0: none).
func limitFor(last int) sizeLimit {
	if last <= 0 {
		return sizeLimit{n: limitCap}
	}
	return sizeLimit{n: min(limitCap, max(limitFloor, limitFactor*int64(last))), last: last}
}

// forcedLimit is the limit of a forced refresh: the hard cap, so a list
// that really grew more than fourfold can be taken after a check.
func forcedLimit() sizeLimit { return sizeLimit{n: limitCap, forced: true} }

func (l sizeLimit) String() string {
	if l.forced {
		return fmt.Sprintf("%s, the hard cap (a forced refresh)", mib(l.n))
	}
	if l.last <= 0 {
		return fmt.Sprintf("%s, the hard cap (no snapshot accepted yet)", mib(l.n))
	}
	return fmt.Sprintf("%s: %d × the last accepted %s, at least %s, at most %s",
		mib(l.n), limitFactor, mib(int64(l.last)), mib(limitFloor), mib(limitCap))
}

// mib formats a byte count in MiB (KiB below one MiB).
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// refused names the source and its limit in an error that is a size
// refusal (fetch.ErrTooLarge, parse.ErrTooLarge); other errors pass as
// they are.
func (l sizeLimit) refused(src source, err error) error {
	if errors.Is(err, fetch.ErrTooLarge) || errors.Is(err, parse.ErrTooLarge) {
		return fmt.Errorf("%s refused: %w (limit of %s: %s)", src.Name, err, src.Name, l)
	}
	return err
}

// parseBody decompresses b within the limit and parses it with src's
// parser; it also returns the uncompressed size.
func parseBody(src source, b []byte, l sizeLimit) (parse.Parsed, int, error) {
	dec, err := parse.GunzipLimit(b, l.n)
	if err != nil {
		return parse.Parsed{}, 0, l.refused(src, err)
	}
	// Before the parser: a JSON or CSV parser would fail on the page's
	// first byte and hide what it is (a portal, a rate-limit page).
	if looksHTML(bytes.TrimSpace(dec)) {
		return parse.Parsed{}, len(dec), errors.New("an HTML page, not a list")
	}
	p, err := src.Parse(dec)
	return p, len(dec), err
}
