package classifier

import (
	"math"
	"strconv"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
)

// RecordFields names, in order, the tab-separated fields of the text record
// that AppendRecord writes. The C ABI returns answers in this form (one
// record per line for a batch) because it costs the Python side one split
// instead of a JSON parse.
//
//	ip, ip_type, provider, region, service, confidence, source,
//	classified_at (ISO 8601 UTC), matched, snapshot,
//	snapshot_at (ISO 8601 UTC, "" = none), data_age (whole seconds),
//	stale (0/1), asn (0 = unknown), as_name, cache ("" = computed),
//	country ("" = unknown), asn_source ("caller", "ip2asn" or "")
//
// Times are written as 2006-01-02T15:04:05.000000+00:00 (RFC 3339 with
// microseconds), the form Python's datetime.fromisoformat reads fastest
// and exactly.
//
// New fields are only ever appended at the end.
//
// An input that is not an IP becomes the record "<input>\t!error\t<message>".
var RecordFields = []string{
	"ip", "ip_type", "provider", "region", "service", "confidence", "source",
	"classified_at", "matched", "snapshot", "snapshot_at", "data_age",
	"stale", "asn", "as_name", "cache", "country", "asn_source",
}

// RecordError marks an error record in the ip_type field.
const RecordError = "!error"

// AppendRecord appends the text record of r (see RecordFields) to dst.
// now is used for data_age. Text fields never hold a tab or newline: the
// parsers and Classify clean them.
func AppendRecord(dst []byte, r Result, now time.Time) []byte {
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
	tab(r.Matched)
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
	tab(r.Cache)
	tab(r.Country)
	dst = append(dst, r.ASNSource...)
	return dst
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

// AppendErrorRecord appends the error record for an input that failed.
func AppendErrorRecord(dst []byte, input string, err error) []byte {
	dst = append(dst, field.Clean(input)...)
	dst = append(dst, '\t')
	dst = append(dst, RecordError...)
	dst = append(dst, '\t')
	return append(dst, field.Clean(err.Error())...)
}
