package wire

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// One name per field: the JSON keys of classifier.Result are the record's
// fields, in the same order, except data_age_seconds, which the record
// computes from snapshot_at.
func TestResultJSONKeysAreTheRecordFields(t *testing.T) {
	var keys []string
	rt := reflect.TypeOf(classifier.Result{})
	for i := range rt.NumField() {
		if !rt.Field(i).IsExported() {
			continue // Result.Key: not a field of the answer
		}
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		require.NotEmpty(t, tag, rt.Field(i).Name)
		keys = append(keys, tag)
	}
	var want []string
	for _, f := range Fields() {
		if f != "data_age_seconds" {
			want = append(want, f)
		}
	}
	assert.Equal(t, want, keys)
	got := Fields()
	got[0] = "changed"
	assert.Equal(t, "ip", Fields()[0], "Fields hands out a copy")
}

// randomResult is an answer with every field set to something a record
// must carry exactly.
func randomResult(r *rand.Rand) classifier.Result {
	types := []classifier.IPType{classifier.TypeTor, classifier.TypeCloud, classifier.TypeDatacenter, classifier.TypeResidential, classifier.TypeUnknown}
	text := func(prefix string) string {
		if r.IntN(4) == 0 {
			return ""
		}
		return prefix + strings.Repeat("é", r.IntN(3))
	}
	at := time.Unix(1_600_000_000+r.Int64N(300_000_000), r.Int64N(1e9)).UTC().Truncate(time.Microsecond)
	res := classifier.Result{
		IP: "192.0.2.1", Type: types[r.IntN(len(types))], Provider: text("aws"), Region: text("us-east-1"),
		Service: text("EC2"), Confidence: r.Float64(), Source: text("cloud_ranges_aws"), ClassifiedAt: at,
		MatchedPrefix: text("192.0.2.0/24"), Snapshot: text("cloud/aws"), Stale: r.IntN(2) == 0,
		ASN: r.Uint32(), ASName: text("AMAZON-02"), CacheTier: text("l2"), Country: text("US"), ASNSource: text("ip2asn"),
	}
	if r.IntN(2) == 0 {
		res.SnapshotAt = at.Add(-time.Duration(r.Int64N(1e6)) * time.Second)
	}
	for range r.IntN(3) {
		res.Tags = append(res.Tags, []string{"tor_exit", "vpn", "scanner:censys", "crawler:googlebot"}[r.IntN(4)])
	}
	for range r.IntN(4) {
		res.Evidence = append(res.Evidence, classifier.Evidence{
			Source: text("datacenter_community_lists"), Snapshot: text("ipranges/github-ipv4"), Type: types[r.IntN(len(types))],
			Provider: text("Hetzner, Online; GmbH"), MatchedPrefix: text("AS24940"), Tag: text("scanner:censys"),
		})
	}
	return res
}

// One name per evidence field: the JSON keys of classifier.Evidence, in
// order.
func TestEvidenceJSONKeysAreTheEvidenceFields(t *testing.T) {
	var keys []string
	rt := reflect.TypeOf(classifier.Evidence{})
	for i := range rt.NumField() {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		keys = append(keys, tag)
	}
	assert.Equal(t, EvidenceFields(), keys)
}

// No value can break the record: separators inside tags and evidence
// become spaces, so the record keeps its fields and entries.
func TestSeparatorsInTagsAndEvidenceBecomeSpaces(t *testing.T) {
	res := classifier.Result{
		IP: "192.0.2.1", Type: classifier.TypeDatacenter, ClassifiedAt: time.Now(), Tags: []string{"a,b", "c\td"},
		Evidence: []classifier.Evidence{{Source: "x\x1ey", Provider: "p\x1fq\nr", Tag: "t,u"}},
	}
	got, err := ParseRecord(string(AppendRecord(nil, res, time.Now())))
	require.NoError(t, err)
	assert.Equal(t, []string{"a b", "c d"}, got.Tags)
	assert.Equal(t, []classifier.Evidence{{Source: "x y", Provider: "p q r", Tag: "t,u"}}, got.Evidence)
}

// What AppendRecord writes, ParseRecord reads back as the same answer.
func TestRecordRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		want := randomResult(r)
		rec := string(AppendRecord(nil, want, want.ClassifiedAt))
		require.Len(t, strings.Split(rec, "\t"), len(fields))
		got, err := ParseRecord(rec)
		require.NoError(t, err, rec)
		require.Equal(t, want, got, rec)
	}
}

// A reader takes the fields it knows: a record from a newer engine, with
// fields appended, still reads; a short or damaged one is an error naming
// the field.
func TestParseRecordRefusesWhatIsNoRecord(t *testing.T) {
	rec := string(AppendRecord(nil, classifier.Result{IP: "192.0.2.1", Type: classifier.TypeUnknown, ClassifiedAt: time.Now()}, time.Now()))
	_, err := ParseRecord(rec + "\tnew-field")
	require.NoError(t, err)
	for _, tc := range []struct{ rec, want string }{
		{"1.2.3.4\t!error\tinvalid IP address", `error record for "1.2.3.4"`},
		{"192.0.2.1\tunknown", "record of 2 fields"},
		{strings.Replace(rec, "\t0\t", "\tzero\t", 1), "record field confidence"},
	} {
		_, err := ParseRecord(tc.rec)
		require.Error(t, err, tc.rec)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// The batch input: lines "ip[\tasn[\tas_name[\tat]]]"; the last terminator is
// optional; a line with a bad ASN is no query but keeps its IP for the
// error record.
func TestReadBatchSplitsLinesAsDocumented(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		inputs     []string
		queries    []classifier.Query
		bad        []int
	}{
		{"empty text is no line", "", []string{}, []classifier.Query{}, nil},
		{"one terminator is one empty line", "\n", []string{""}, []classifier.Query{{}}, nil},
		{"an empty line in the middle counts", "a\n\n", []string{"a", ""}, []classifier.Query{{IP: "a"}, {}}, nil},
		{"the last terminator is optional", "a\nb", []string{"a", "b"}, []classifier.Query{{IP: "a"}, {IP: "b"}}, nil},
		{"asn and name", "1.1.1.1\t13335\tCLOUDFLARENET\n", []string{"1.1.1.1"},
			[]classifier.Query{{IP: "1.1.1.1", ASN: 13335, ASName: "CLOUDFLARENET"}}, nil},
		{"empty asn is unknown", "1.1.1.1\t\tNAME", []string{"1.1.1.1"}, []classifier.Query{{IP: "1.1.1.1", ASName: "NAME"}}, nil},
		{"a time after the name", "1.1.1.1\t1\ta\t2026-03-15T13:17:09Z", []string{"1.1.1.1"},
			[]classifier.Query{{IP: "1.1.1.1", ASN: 1, ASName: "a", At: time.Date(2026, 3, 15, 13, 17, 9, 0, time.UTC)}}, nil},
		{"an empty time is now", "1.1.1.1\t\t\t", []string{"1.1.1.1"}, []classifier.Query{{IP: "1.1.1.1"}}, nil},
		{"bad asn", "1.1.1.1\tAS1\n2.2.2.2\t4294967296\n3.3.3.3\t-1", []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"}, []classifier.Query{}, []int{0, 1, 2}},
		{"bad time", "1.1.1.1\t\t\t2026-03-15\n2.2.2.2\t\ta\tyesterday", []string{"1.1.1.1", "2.2.2.2"}, []classifier.Query{}, []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := readBatch(tc.text)
			assert.Equal(t, tc.inputs, b.inputs)
			assert.Equal(t, tc.queries, b.queries)
			var bad []int
			for i, err := range b.lineErr {
				if err != nil {
					bad = append(bad, i)
					assert.Regexp(t, "invalid (asn|time)", err.Error())
				}
			}
			assert.Equal(t, tc.bad, bad)
		})
	}
}

// readBatch never panics, accounts for every line exactly once, and reads
// back what a writer of queries wrote; its cutByte cuts as strings.Cut.
func FuzzReadBatch(f *testing.F) {
	for _, s := range []string{"", "\n", "a\n\n", "1.1.1.1\t13335\tCLOUDFLARENET\n::1\t\t\n", "x\t99999999999", "\t\t\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, sep := range []byte{'\n', '\t'} { // cutByte is strings.Cut
			b, a, found := cutByte(text, sep)
			wb, wa, wfound := strings.Cut(text, string(sep))
			require.Equal(t, []any{wb, wa, wfound}, []any{b, a, found})
		}
		b := readBatch(text)
		want := 0
		if text != "" {
			want = strings.Count(strings.TrimSuffix(text, "\n"), "\n") + 1
		}
		require.Len(t, b.inputs, want)
		require.Len(t, b.lineErr, want)
		require.Len(t, b.queries, len(b.line))
		ok := 0
		for _, err := range b.lineErr {
			if err == nil {
				ok++
			}
		}
		require.Equal(t, ok, len(b.queries))
		for k, q := range b.queries {
			require.Equal(t, b.inputs[b.line[k]], q.IP)
			require.NotContains(t, q.IP, "\n")
			require.NotContains(t, q.IP, "\t")
		}
	})
}

// splitText cuts any batch into pieces that are its lines, each once, in
// order (the fuzzer's text repeated to reach the sizes that are split).
func FuzzSplitText(f *testing.F) {
	for _, s := range []string{"", "\n", "a\n\n", "1.1.1.1\t13335\tCLOUDFLARENET\n::1\t\t\n", "no newline", "\n\n\n"} {
		f.Add(s, uint16(3*minRun), uint8(2))
	}
	f.Fuzz(func(t *testing.T, unit string, reps uint16, workers uint8) {
		if len(unit)*int(reps%(9*minRun)) > 1<<22 {
			t.Skip("over 4 MiB")
		}
		text := strings.Repeat(unit, int(reps%(9*minRun)))
		pieces := splitText(text, int(workers%16))
		require.NotEmpty(t, pieces)
		require.LessOrEqual(t, len(pieces), max(1, int(workers%16)))
		require.Equal(t, text, strings.Join(pieces, ""))
		inputs := []string{}
		for i, p := range pieces {
			if i < len(pieces)-1 {
				require.True(t, strings.HasSuffix(p, "\n"), "piece %d ends its last line", i)
			}
			inputs = append(inputs, readBatch(p).inputs...)
		}
		require.Equal(t, readBatch(text).inputs, inputs)
	})
}

// ParseRecord never panics on any text, and what it accepts it writes
// back to a record it accepts as the same answer.
func FuzzParseRecord(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		res := randomResult(r)
		f.Add(string(AppendRecord(nil, res, res.ClassifiedAt)))
	}
	f.Add("1.2.3.4\t!error\tmessage")
	f.Fuzz(func(t *testing.T, rec string) {
		res, err := ParseRecord(rec)
		if err != nil {
			return
		}
		if strings.ContainsAny(res.IP+string(res.Type)+res.Provider+res.Region+res.Service+res.Source+res.MatchedPrefix+
			res.Snapshot+res.ASName+res.CacheTier+res.Country+res.ASNSource, "\t\n") {
			return // text fields of real answers hold neither (the engine cleans them)
		}
		again, err := ParseRecord(string(AppendRecord(nil, res, res.ClassifiedAt)))
		require.NoError(t, err)
		require.True(t, res.ClassifiedAt.Truncate(time.Microsecond).Equal(again.ClassifiedAt), "%v %v", res.ClassifiedAt, again.ClassifiedAt)
		require.Equal(t, res.Confidence == again.Confidence || res.Confidence != res.Confidence, true)
	})
}

// AppendBatch answers every line in order, error records for the lines
// that are no address, and reports ErrClosed for a closed engine.
func TestAppendBatchAnswersEveryLineInOrder(t *testing.T) {
	// No snapshot: every address is unknown, which is all this needs.
	e, err := classifier.Open(classifier.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	now := time.Now()
	out, partial, err := AppendBatch(context.Background(), nil, e, "192.0.2.1\nnot-an-ip\n2001:db8::1\t64496\n10.0.0.1\tAS1\n", now)
	require.NoError(t, err)
	assert.True(t, partial)
	lines := strings.Split(string(out), "\n")
	require.Len(t, lines, 4)
	r, err := ParseRecord(lines[0])
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.1", r.IP)
	assert.Equal(t, classifier.TypeUnknown, r.Type)
	assert.True(t, strings.HasPrefix(lines[1], "not-an-ip\t!error\tinvalid IP address"), lines[1])
	r, err = ParseRecord(lines[2])
	require.NoError(t, err)
	assert.Equal(t, uint32(64496), r.ASN)
	assert.Equal(t, "10.0.0.1\t!error\tinvalid asn \"AS1\"", lines[3])

	out, partial, err = AppendBatch(context.Background(), nil, e, "", now)
	require.NoError(t, err)
	assert.False(t, partial)
	assert.Empty(t, out)

	require.NoError(t, e.Close())
	_, _, err = AppendBatch(context.Background(), nil, e, "192.0.2.1", now)
	assert.True(t, errors.Is(err, classifier.ErrClosed), "%v", err)
}
