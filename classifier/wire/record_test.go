package wire_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/wire"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// TestRecordTimesAndConfidenceReadBackExactly checks the text forms
// AppendRecord uses for times (RFC 3339 UTC, microseconds) and the
// confidence (any float64 in [0, 1] reads back as itself).
func TestRecordTimesAndConfidenceReadBackExactly(t *testing.T) {
	field := func(rec []byte, name string) string {
		for i, f := range wire.Fields() {
			if f == name {
				return strings.Split(string(rec), "\t")[i]
			}
		}
		t.Fatalf("no record field %s", name)
		return ""
	}
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -7*3600)}
	for i, at := range []time.Time{
		time.Date(2026, 11, 22, 9, 4, 20, 842811671, time.UTC),
		time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
	} {
		for _, z := range zones {
			r := classifier.Result{IP: "192.0.2.1", Type: classifier.TypeCloud, ClassifiedAt: at.In(z), SnapshotAt: at.In(z).Add(-time.Hour)}
			rec := wire.AppendRecord(nil, r, at)
			for name, want := range map[string]time.Time{"classified_at": r.ClassifiedAt, "snapshot_at": r.SnapshotAt} {
				text := field(rec, name)
				require.True(t, strings.HasSuffix(text, "+00:00") && len(text) == 32, "%d %s %q", i, name, text)
				got, err := time.Parse(time.RFC3339Nano, text)
				require.NoError(t, err)
				require.True(t, want.Truncate(time.Microsecond).Equal(got), "%d %s: %q for %s", i, name, text, want)
			}
			require.Equal(t, "3600", field(rec, "data_age_seconds"))
		}
	}
	none := wire.AppendRecord(nil, classifier.Result{IP: "192.0.2.1", Type: classifier.TypeUnknown}, time.Now())
	require.Equal(t, "", field(none, "snapshot_at"))
	require.Equal(t, "0", field(none, "data_age_seconds"))
	require.Equal(t, "0", field(none, "confidence"))

	confs := []float64{0.123456789, 1e-9, 0.999999, 0.285, 0.0050000001, 0.3 - 1e-17, 0.1 + 0.2}

	for i := range 101 { // every hundredth, and some others
		confs = append(confs, float64(i)/100)
	}
	for _, c := range confs {
		rec := wire.AppendRecord(nil, classifier.Result{IP: "192.0.2.1", Type: classifier.TypeCloud, Confidence: c}, time.Now())
		require.Equal(t, strconv.FormatFloat(c, 'g', -1, 64), field(rec, "confidence"))
	}
}

func TestASNRecordAppendsCountryAndASNSource(t *testing.T) {
	n := len(wire.Fields())
	require.GreaterOrEqual(t, n, 18)
	assert.Equal(t, []string{"cache_tier", "country", "asn_source"}, wire.Fields()[15:18])
	e := fixture.Loaded(t)
	r, err := e.Classify(context.Background(), "24.0.0.1", 0, "")
	require.NoError(t, err)
	now := time.Now()
	rec := strings.Split(string(wire.AppendRecord(nil, r, now)), "\t")
	require.Len(t, rec, n)
	fields := map[string]string{}
	for i, f := range wire.Fields() {
		fields[f] = rec[i]
	}
	assert.Equal(t, "residential", fields["ip_type"])
	assert.Equal(t, "7922", fields["asn"])
	assert.Equal(t, "COMCAST-7922", fields["as_name"])
	assert.Equal(t, "US", fields["country"])
	assert.Equal(t, "ip2asn", fields["asn_source"])
	assert.Equal(t, "", fields["cache_tier"])
	r, err = e.Classify(context.Background(), "9.9.9.9", 0, "")
	require.NoError(t, err)
	none := strings.Split(string(wire.AppendRecord(nil, r, now)), "\t")
	require.Len(t, none, n)
	assert.Equal(t, []string{"", "", ""}, none[15:18])
}

// A Tor exit on a hosting ASN: the record's tags and evidence fields say
// both, in the documented separators.
func TestRecordCarriesTagsAndEvidence(t *testing.T) {
	e := fixture.Loaded(t)
	r, err := e.Classify(context.Background(), "185.220.101.1", 0, "")
	require.NoError(t, err)
	rec := strings.Split(string(wire.AppendRecord(nil, r, time.Now())), "\t")
	n := len(rec) - 2 // before as_of and history_short
	assert.Equal(t, "tor_exit", rec[n-2])
	assert.Equal(t, "tor_bulk_list\x1ftor\x1ftor\x1f\x1f185.220.101.1/32\x1ftor_exit"+
		"\x1ehosting_asn_list\x1fdatacenter/x4bnet-asn\x1fdatacenter\x1fF3NETZE-AS F3 Netze e.V.\x1fAS205100\x1f", rec[n-1])
}

func TestRecordAppendsAsOfAndHistoryShortLast(t *testing.T) {
	fields := wire.Fields()
	field := func(rec []byte, name string) string {
		for i, f := range fields {
			if f == name {
				return strings.Split(string(rec), "\t")[i]
			}
		}
		t.Fatalf("no record field %s", name)
		return ""
	}
	assert.Equal(t, []string{"as_of", "history_short"}, fields[len(fields)-2:])
	at := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	snap := at.Add(24 * time.Hour)
	r := classifier.Result{IP: "192.0.2.1", Type: classifier.TypeTor, Confidence: 0.95, ClassifiedAt: time.Now().UTC(),
		SnapshotAt: snap, AsOf: at, HistoryShort: true}
	rec := wire.AppendRecord(nil, r, time.Now())
	assert.Equal(t, "2026-03-15T12:00:00.000000+00:00", field(rec, "as_of"))
	assert.Equal(t, "1", field(rec, "history_short"))
	assert.Equal(t, "-86400", field(rec, "data_age_seconds"), "measured at as_of: the snapshot is a day younger")
	back, err := wire.ParseRecord(string(rec))
	require.NoError(t, err)
	assert.Equal(t, at, back.AsOf)
	assert.True(t, back.HistoryShort)
	now := wire.AppendRecord(nil, classifier.Result{IP: "192.0.2.1", Type: classifier.TypeUnknown}, time.Now())
	assert.Equal(t, "", field(now, "as_of"))
	assert.Equal(t, "0", field(now, "history_short"))
}

// TestHeadCarriesWhatChangesBetweenAnswersOfOneKey checks AppendHead's
// layout: the key, classified_at as in the record, snapshot_at in
// microseconds, the data age, the flags, the address when it differs from
// the input, and the record when asked for or when there is no key.
func TestHeadCarriesWhatChangesBetweenAnswersOfOneKey(t *testing.T) {
	e := fixture.Loaded(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 15, 13, 17, 9, 123456789, time.UTC)
	kept, err := e.Classify(ctx, "3.5.141.7", 0, "") // an answer kept on its interval: it has a key
	require.NoError(t, err)
	require.NotZero(t, kept.Key())
	kept.ClassifiedAt, kept.Stale = at, true
	var noKey classifier.Result // an answer read back from a cache tier has no key
	js, err := json.Marshal(kept)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &noKey))
	require.Zero(t, noKey.Key())
	noKey.Stale = false

	tests := []struct {
		name        string
		r           classifier.Result
		input       string
		asked       bool
		flags       uint32
		ip          string
		withRecord  bool
		wantKeyZero bool
	}{
		{"a key's first head: the record rides along", kept, "3.5.141.7", false, wire.HeadStale | wire.HeadRecord, "", true, false},
		{"a key sent before: the head alone", kept, "3.5.141.7", false, wire.HeadStale, "", false, false},
		{"the record when asked for", kept, "3.5.141.7", true, wire.HeadStale | wire.HeadRecord, "", true, false},
		{"the address when not the input as given", kept, "::ffff:3.5.141.7", false, wire.HeadStale | wire.HeadIP, "3.5.141.7", false, false},
		{"no key: always the record", noKey, "3.5.141.7", false, wire.HeadRecord, "", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := wire.AppendHead([]byte("prefix"), &tc.r, tc.input, at.Add(90*time.Minute), tc.asked)
			require.Equal(t, "prefix", string(out[:6]), "appends")
			h := out[6:]
			require.GreaterOrEqual(t, len(h), wire.HeadSize)
			le := binary.LittleEndian
			require.Equal(t, tc.r.Key(), le.Uint64(h[0:]))
			require.Equal(t, tc.wantKeyZero, le.Uint64(h[0:]) == 0)
			require.Equal(t, "2026-03-15T13:17:09.123456+00:00", string(h[8:40]))
			require.Equal(t, tc.r.SnapshotAt.UnixMicro(), int64(le.Uint64(h[40:])))
			require.Equal(t, float64(int64(at.Add(90*time.Minute).Sub(tc.r.SnapshotAt).Round(time.Second)/time.Second)), math.Float64frombits(le.Uint64(h[48:])))
			require.Equal(t, tc.flags, le.Uint32(h[56:]))
			require.Equal(t, uint32(len(tc.ip)), le.Uint32(h[60:]))
			rest := h[wire.HeadSize:]
			require.Equal(t, tc.ip, string(rest[:len(tc.ip)]))
			rest = rest[len(tc.ip):]
			if tc.withRecord {
				require.Equal(t, string(wire.AppendRecord(nil, tc.r, at.Add(90*time.Minute))), string(rest))
			} else {
				require.Empty(t, rest)
			}
		})
	}
	// Keys are numbered as they are made: one made before the last key a
	// head went out with gets the head alone (the host asks again if it
	// does not hold it).
	older, err := e.Classify(ctx, "185.220.101.34", 0, "")
	require.NoError(t, err)
	newer, err := e.Classify(ctx, "198.51.100.7", 0, "")
	require.NoError(t, err)
	require.Less(t, older.Key(), newer.Key())
	flags := func(r classifier.Result) uint32 {
		return binary.LittleEndian.Uint32(wire.AppendHead(nil, &r, r.IP, at, false)[56:])
	}
	require.Equal(t, uint32(wire.HeadRecord), flags(newer)&wire.HeadRecord, "a new key")
	require.Zero(t, flags(older)&wire.HeadRecord, "an older key first sent after a newer one")
	require.Zero(t, flags(newer)&wire.HeadRecord, "sent before")

	none := classifier.Result{IP: "192.0.2.1", Type: classifier.TypeUnknown, ClassifiedAt: at}
	h := wire.AppendHead(nil, &none, "192.0.2.1", at, false)
	require.Zero(t, binary.LittleEndian.Uint64(h[40:]), "no snapshot: snapshot_at 0")
	require.True(t, math.IsNaN(math.Float64frombits(binary.LittleEndian.Uint64(h[48:]))), "no snapshot: the age is NaN")
}
