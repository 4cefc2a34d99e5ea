// Package wire is the one codec of answers as text: the tab-separated
// record the C ABI returns for every answer (one per line for a batch), the
// batch input it reads, and the list of field names every other form of an
// answer uses too (classifier.Result's JSON tags, the Python
// IPClassification attributes, the CLI's CSV columns). Its owner is the
// engine's boundary: capi calls it, the Python wrapper checks Fields at load
// (the AbiInfo export) and decodes the records.
//
// A record is the fields of Fields, in order, separated by '\t'. Text fields
// never hold a tab or newline (parsers and the engine clean them). Times are
// 2006-01-02T15:04:05.000000+00:00 (RFC 3339 UTC with microseconds, the form
// Python's datetime.fromisoformat reads fastest and exactly), "" for none;
// confidence is the shortest decimal that reads back as the same float64;
// stale is 0 or 1; asn is 0 when unknown; data_age_seconds is whole seconds.
// tags is Result.Tags joined by ','; evidence is Result.Evidence, entries
// separated by EvidenceSep (0x1e), the fields of one (EvidenceFields) by
// EvidenceFieldSep (0x1f); those separators (and ',' in a tag) never stand
// in a value: they become a space.
// New fields are only ever appended at the end, so a reader can take the
// fields it knows and ignore the rest.
//
// An input that fails becomes the error record "<input>\t!error\t<message>"
// (ErrorMark in the ip_type field).
package wire

import (
	"encoding/binary"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
)

// fields is the record layout; Fields hands out copies.
var fields = [...]string{
	"ip", "ip_type", "provider", "region", "service", "confidence", "source",
	"classified_at", "matched_prefix", "snapshot", "snapshot_at", "data_age_seconds",
	"stale", "asn", "as_name", "cache_tier", "country", "asn_source",
	"tags", "evidence", "as_of", "history_short",
}

// evidenceFields is the layout of one evidence entry; EvidenceFields hands
// out copies.
var evidenceFields = [...]string{"source", "snapshot", "ip_type", "provider", "matched_prefix", "tag"}

// EvidenceFields returns the names of the fields of one evidence entry, in
// order: the JSON keys of classifier.Evidence.
func EvidenceFields() []string { return append([]string(nil), evidenceFields[:]...) }

// The separators of the evidence field: between entries, and between the
// fields of one.
const (
	EvidenceSep      = '\x1e'
	EvidenceFieldSep = '\x1f'
)

// Fields returns the names of the record's fields, in order. They are the
// JSON keys of classifier.Result, with data_age_seconds computed (Result has
// SnapshotAt and the DataAge method instead). as_of is "" and
// history_short 0 for an answer as of now.
func Fields() []string { return append([]string(nil), fields[:]...) }

// ErrorMark stands in the ip_type field of an error record.
const ErrorMark = "!error"

// HeadSize is the length of the head AppendHead writes.
const HeadSize = 64

// The flags of a head.
const (
	HeadStale  = 1 << 0 // the answer is stale (Result.Stale)
	HeadIP     = 1 << 1 // the answer's address follows the head: it is not the input as given
	HeadRecord = 1 << 2 // the record follows (after the address, when there is one)
)

// AppendHead appends the head of r to dst, for a host that keeps what it
// made of an answer by its key (classifier.Result.Key) and needs only what
// changes from one answer of that key to the next: key uint64
// (little-endian, as every number here), classified_at as in the record
// (32 bytes of text: the form a host's date parser reads fastest),
// snapshot_at int64 microseconds since the Unix epoch (0 = none),
// data_age_seconds float64 (whole seconds as in the record; NaN when the
// answer came from no snapshot), flags uint32 (HeadStale, HeadIP,
// HeadRecord) and the length uint32 of the address that follows. Then r.IP
// when it differs from input, then r's record when record is true, when r
// has no key, or when its key is above every key a head went out with
// before: the host cannot know it (keys are numbered in the order they are
// made, so a new answer's record rides along with its first head; a key
// made by another call that went out later still needs the host to ask
// again). now is as for AppendRecord.
func AppendHead(dst []byte, r *classifier.Result, input string, now time.Time, record bool) []byte {
	var flags uint32
	if r.Stale {
		flags |= HeadStale
	}
	ip := ""
	if r.IP != input {
		ip = r.IP
		flags |= HeadIP
	}
	record = record || r.Key() == 0 || newKey(r.Key())
	if record {
		flags |= HeadRecord
	}
	snapshotAt, age := int64(0), math.NaN()
	if !r.SnapshotAt.IsZero() {
		snapshotAt = r.SnapshotAt.UnixMicro()
	}
	if r.Snapshot != "" {
		age = float64(r.DataAge(now).Round(time.Second) / time.Second)
	}
	dst = binary.LittleEndian.AppendUint64(dst, r.Key())
	dst = appendTime(dst, r.ClassifiedAt)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(snapshotAt))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(age))
	dst = binary.LittleEndian.AppendUint32(dst, flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ip)))
	dst = append(dst, ip...)
	if record {
		dst = AppendRecord(dst, *r, now)
	}
	return dst
}

// sentKeys is the highest key a head went out with (see AppendHead).
var sentKeys atomic.Uint64

// newKey reports whether k is above every key a head went out with, and
// makes it the highest.
func newKey(k uint64) bool {
	for {
		top := sentKeys.Load()
		if k <= top {
			return false
		}
		if sentKeys.CompareAndSwap(top, k) {
			return true
		}
	}
}

// AppendRecord appends the record of r to dst. now is the time
// data_age_seconds is measured at (r.AsOf instead when set: see
// classifier.Result.DataAge).
func AppendRecord(dst []byte, r classifier.Result, now time.Time) []byte {
	tab := func(s string) { dst = append(dst, s...); dst = append(dst, '\t') }
	tab(r.IP)
	tab(string(r.Type))
	tab(r.Provider)
	tab(r.Region)
	tab(r.Service)
	dst = appendConfidence(dst, r.Confidence)
	dst = append(dst, '\t')
	tab(r.Source)
	dst = appendTime(dst, r.ClassifiedAt)
	dst = append(dst, '\t')
	tab(r.MatchedPrefix)
	tab(r.Snapshot)
	if !r.SnapshotAt.IsZero() {
		dst = appendTime(dst, r.SnapshotAt)
	}
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(r.DataAge(now).Round(time.Second)/time.Second), 10)
	dst = append(dst, '\t')
	if r.Stale {
		tab("1")
	} else {
		tab("0")
	}
	dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
	dst = append(dst, '\t')
	tab(r.ASName)
	tab(r.CacheTier)
	tab(r.Country)
	tab(r.ASNSource)
	for i, t := range r.Tags {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendClean(dst, t, true)
	}
	dst = append(dst, '\t')
	dst = appendEvidence(dst, r.Evidence)
	dst = append(dst, '\t')
	if !r.AsOf.IsZero() {
		dst = appendTime(dst, r.AsOf)
	}
	if r.HistoryShort {
		return append(dst, "\t1"...)
	}
	return append(dst, "\t0"...)
}

// appendEvidence appends the evidence field of an answer: entries
// separated by EvidenceSep, the fields of one by EvidenceFieldSep.
func appendEvidence(dst []byte, evidence []classifier.Evidence) []byte {
	for i := range evidence {
		ev := &evidence[i]
		if i > 0 {
			dst = append(dst, EvidenceSep)
		}
		for j, s := range [...]string{ev.Source, ev.Snapshot, string(ev.Type), ev.Provider, ev.MatchedPrefix, ev.Tag} {
			if j > 0 {
				dst = append(dst, EvidenceFieldSep)
			}
			dst = appendClean(dst, s, false)
		}
	}
	return dst
}

// appendClean appends s with every separator of the record (tab, newline,
// the evidence separators, and ',' when comma) made a space. Text seldom
// holds one: it is appended whole unless a scan finds one.
func appendClean(dst []byte, s string, comma bool) []byte {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < ' ' || (comma && c == ',') {
			if c == '\t' || c == '\n' || c == '\r' || c == EvidenceSep || c == EvidenceFieldSep || c == ',' {
				break
			}
		}
	}
	dst = append(dst, s[:i]...)
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\n', '\r', EvidenceSep, EvidenceFieldSep:
			dst = append(dst, ' ')
		case ',':
			if comma {
				c = ' '
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendError appends the error record of an input that failed; input and
// the message are cleaned of tabs and newlines.
func AppendError(dst []byte, input string, err error) []byte {
	dst = append(dst, field.Clean(input)...)
	dst = append(dst, '\t')
	dst = append(dst, ErrorMark...)
	dst = append(dst, '\t')
	return append(dst, field.Clean(err.Error())...)
}

// appendTime appends t in UTC as 2006-01-02T15:04:05.000000+00:00
// (several times faster than time.AppendFormat with that layout).
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	dst = append2(dst, y/100%100)
	dst = append2(dst, y%100)
	dst = append(dst, '-')
	dst = append2(dst, int(mo))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	dst = append(dst, '.')
	dst = append2(dst, us/10000)
	dst = append2(dst, us/100%100)
	dst = append2(dst, us%100)
	return append(dst, "+00:00"...)
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// append2 appends 0 <= v < 100 as two digits.
func append2(dst []byte, v int) []byte {
	return append(dst, digitPairs[2*v], digitPairs[2*v+1])
}

// appendConfidence appends c as strconv.AppendFloat(dst, c, 'g', -1, 64)
// does. The confidences answers carry are hundredths (0.95, 0.5, 0): those
// are written directly, without strconv's shortest-float search.
func appendConfidence(dst []byte, c float64) []byte {
	n := int(math.Round(c * 100))
	if n < 0 || n > 100 || float64(n)/100 != c {
		return strconv.AppendFloat(dst, c, 'g', -1, 64)
	}
	switch {
	case n == 0:
		return append(dst, '0')
	case n == 100:
		return append(dst, '1')
	case n%10 == 0:
		return append(dst, '0', '.', byte('0'+n/10))
	default:
		return append(dst, '0', '.', byte('0'+n/10), byte('0'+n%10))
	}
}
