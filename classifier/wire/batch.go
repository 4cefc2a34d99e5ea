package wire

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// A batch is text of lines "ip[\tasn[\tas_name[\tat]]]" separated by
// '\n'; asn and as_name are optional (empty or 0 = unknown), at too: the
// time to answer as of (RFC 3339, e.g. 2026-03-15T13:17:09Z; empty = now;
// see classifier.Engine.ClassifyAt). Every line may end with
// '\n' (the last one need not): "" is no line at all, "\n" one empty line
// (an error record), "a\n\n" two lines.

// batch is a batch input read into queries.
type batch struct {
	inputs  []string           // the IP text of every line
	lineErr []error            // the error of a line that is no query (bad ASN), by line
	queries []classifier.Query // the lines that are
	line    []int              // queries[k] is line line[k]
}

// minRun is the fewest lines a run of a split batch holds: on a smaller
// run the goroutine and the merge of its output cost more than they save.
const minRun = 2048

// maxRuns bounds the runs of one batch (each holds an output builder).
const maxRuns = 8

// splitText cuts a batch into at most n (and at most maxRuns) batches of
// whole lines, in order, of about equal size, each of about minRun lines
// or more: a smaller batch is one piece. Every piece but the last ends with
// the '\n' of its last line, so the pieces hold the lines of text, each
// once and in order.
func splitText(text string, n int) []string {
	n = max(1, min(n, maxRuns, (strings.Count(text, "\n")+1)/minRun))
	pieces := make([]string, 0, n)
	for p := n; p > 1; p-- {
		// the piece ends with the line holding its share's last byte
		last := len(text)/p - 1
		nl := strings.IndexByte(text[max(last, 0):], '\n')
		end := max(last, 0) + nl + 1
		if nl < 0 || end == len(text) {
			break // the rest is one line
		}
		pieces, text = append(pieces, text[:end]), text[end:]
	}
	return append(pieces, text)
}

// readBatch splits text into lines and reads each as a query. The IP of a
// line with a bad ASN is kept, so its error record can name the input.
func readBatch(text string) batch {
	n := 0
	if text != "" {
		text = strings.TrimSuffix(text, "\n") // the terminator of the last line
		n = strings.Count(text, "\n") + 1
	}
	b := batch{
		inputs: make([]string, n), lineErr: make([]error, n),
		queries: make([]classifier.Query, 0, n), line: make([]int, 0, n),
	}
	for i := 0; i < n; i++ {
		line, rest, _ := cutByte(text, '\n')
		text = rest
		q, err := readQuery(line)
		b.inputs[i] = q.IP
		if err != nil {
			b.lineErr[i] = err
			continue
		}
		b.queries = append(b.queries, q)
		b.line = append(b.line, i)
	}
	return b
}

// cutByte is strings.Cut for a one-byte separator, a call the compiler
// inlines (a batch cuts each of its lines two or more times).
func cutByte(s string, sep byte) (before, after string, found bool) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// readQuery reads "ip[\tasn[\tas_name[\tat]]]".
func readQuery(line string) (classifier.Query, error) {
	var q classifier.Query
	ip, rest, hasRest := cutByte(line, '\t')
	q.IP = ip
	if !hasRest {
		return q, nil
	}
	asnText, rest, _ := cutByte(rest, '\t')
	name, at, hasAt := cutByte(rest, '\t')
	q.ASName = name
	if hasAt && at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return q, errors.New("invalid time " + strconv.Quote(at) + " (want RFC 3339, e.g. 2026-03-15T13:17:09Z)")
		}
		q.At = t
	}
	if asnText != "" {
		n, err := strconv.ParseUint(asnText, 10, 32)
		if err != nil {
			return q, errors.New("invalid asn " + strconv.Quote(asnText))
		}
		q.ASN = uint32(n)
	}
	return q, nil
}

// AppendBatch classifies every line of a batch in one engine call and
// appends one record per line to dst, joined by '\n', in input order: the
// answer's record, or the error record of a line whose IP or ASN is
// invalid (partial is then true). now is the time data_age_seconds is
// measured at. It returns classifier.ErrClosed, with dst unspecified, when
// the engine was closed during the call.
//
// Records are appended to dst as it is: a caller with a buffer of fixed
// size passes it with length 0 and its capacity, and learns from the
// length returned whether the records fitted (no copy of a megabyte-sized
// output).
func AppendBatch(ctx context.Context, dst []byte, e *classifier.Engine, text string, now time.Time) (out []byte, partial bool, err error) {
	b := readBatch(text)
	closed := false
	next := 0 // the next line to write
	// failedLines writes the lines before upto that were no query.
	failedLines := func(upto int) {
		for ; next < upto; next++ {
			if next > 0 {
				dst = append(dst, '\n')
			}
			dst = AppendError(dst, b.inputs[next], b.lineErr[next])
			partial = true
		}
	}
	e.ClassifyEach(ctx, b.queries, func(k int, r *classifier.Result, err error) {
		i := b.line[k]
		failedLines(i)
		if i > 0 {
			dst = append(dst, '\n')
		}
		if err != nil {
			closed = closed || errors.Is(err, classifier.ErrClosed)
			dst = AppendError(dst, b.inputs[i], err)
			partial = true
		} else {
			dst = AppendRecord(dst, *r, now)
		}
		next = i + 1
	})
	failedLines(len(b.inputs))
	if closed {
		return dst, partial, classifier.ErrClosed
	}
	return dst, partial, nil
}
