package classifier

import (
	"strconv"
	"time"
)

// RecordFields names, in order, the tab-separated fields of the text record
// that AppendRecord writes. The C ABI returns answers in this form (one
// record per line for a batch) because it costs the Python side one split
// instead of a JSON parse.
//
//	ip, ip_type, provider, region, service, confidence, source,
//	classified_at (Unix microseconds), matched, snapshot,
//	snapshot_at (Unix microseconds, 0 = none), data_age (seconds),
//	stale (0/1), asn (0 = unknown), as_name, cache ("" = computed),
//	country ("" = unknown), asn_source ("caller", "ip2asn" or "")
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
	dst = strconv.AppendFloat(dst, r.Confidence, 'g', -1, 64)
	dst = append(dst, '\t')
	tab(r.Source)
	dst = strconv.AppendInt(dst, r.ClassifiedAt.UnixMicro(), 10)
	dst = append(dst, '\t')
	tab(r.Matched)
	tab(r.Snapshot)
	if r.SnapshotAt.IsZero() {
		dst = append(dst, '0')
	} else {
		dst = strconv.AppendInt(dst, r.SnapshotAt.UnixMicro(), 10)
	}
	dst = append(dst, '\t')
	dst = strconv.AppendFloat(dst, r.DataAge(now).Seconds(), 'f', 0, 64)
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

// AppendErrorRecord appends the error record for an input that failed.
func AppendErrorRecord(dst []byte, input string, err error) []byte {
	dst = append(dst, clean(input)...)
	dst = append(dst, '\t')
	dst = append(dst, RecordError...)
	dst = append(dst, '\t')
	return append(dst, clean(err.Error())...)
}
