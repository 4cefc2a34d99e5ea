package wire

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// ParseRecord reads a record written by AppendRecord back into a Result
// (data_age_seconds, which Result computes from SnapshotAt, is checked but
// not kept); fields after the known ones are ignored. An error record, or
// one too short or with a malformed field, is an error naming it.
func ParseRecord(rec string) (classifier.Result, error) {
	var r classifier.Result
	f := strings.Split(rec, "\t")
	if len(f) >= 3 && f[1] == ErrorMark {
		return r, fmt.Errorf("error record for %q: %s", f[0], strings.Join(f[2:], "\t"))
	}
	if len(f) < len(fields) {
		return r, fmt.Errorf("record of %d fields, want %d: %q", len(f), len(fields), rec)
	}
	bad := func(name string, err error) (classifier.Result, error) {
		return classifier.Result{}, fmt.Errorf("record field %s: %w", name, err)
	}
	r.IP, r.Type, r.Provider, r.Region, r.Service = f[0], classifier.IPType(f[1]), f[2], f[3], f[4]
	var err error
	if r.Confidence, err = strconv.ParseFloat(f[5], 64); err != nil {
		return bad("confidence", err)
	}
	r.Source = f[6]
	if r.ClassifiedAt, err = time.Parse(time.RFC3339Nano, f[7]); err != nil {
		return bad("classified_at", err)
	}
	r.MatchedPrefix, r.Snapshot = f[8], f[9]
	if f[10] != "" {
		if r.SnapshotAt, err = time.Parse(time.RFC3339Nano, f[10]); err != nil {
			return bad("snapshot_at", err)
		}
	}
	if _, err = strconv.ParseInt(f[11], 10, 64); err != nil {
		return bad("data_age_seconds", err)
	}
	switch f[12] {
	case "0":
	case "1":
		r.Stale = true
	default:
		return bad("stale", fmt.Errorf("%q is not 0 or 1", f[12]))
	}
	asn, err := strconv.ParseUint(f[13], 10, 32)
	if err != nil {
		return bad("asn", err)
	}
	r.ASN = uint32(asn)
	r.ASName, r.CacheTier, r.Country, r.ASNSource = f[14], f[15], f[16], f[17]
	if f[18] != "" {
		r.Tags = strings.Split(f[18], ",")
	}
	if f[19] != "" {
		for _, entry := range strings.Split(f[19], string(EvidenceSep)) {
			v := strings.Split(entry, string(EvidenceFieldSep))
			if len(v) < len(evidenceFields) {
				return bad("evidence", fmt.Errorf("entry of %d fields, want %d: %q", len(v), len(evidenceFields), entry))
			}
			r.Evidence = append(r.Evidence, classifier.Evidence{
				Source: v[0], Snapshot: v[1], Type: classifier.IPType(v[2]), Provider: v[3], MatchedPrefix: v[4], Tag: v[5],
			})
		}
	}
	if f[20] != "" {
		if r.AsOf, err = time.Parse(time.RFC3339Nano, f[20]); err != nil {
			return bad("as_of", err)
		}
		r.AsOf = r.AsOf.UTC()
	}
	switch f[21] {
	case "0":
	case "1":
		r.HistoryShort = true
	default:
		return bad("history_short", fmt.Errorf("%q is not 0 or 1", f[21]))
	}
	r.ClassifiedAt, r.SnapshotAt = r.ClassifiedAt.UTC(), utcOrZero(r.SnapshotAt)
	return r, nil
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
