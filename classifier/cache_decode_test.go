package classifier_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// jsonbStyle rewrites a JSON object the way PostgreSQL's jsonb prints it:
// keys ordered by length then bytes, ", " and ": " separators.
func jsonbStyle(t *testing.T, val []byte) []byte {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(val, &m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteString(": ")
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// TestCachedAnswersDecodeExactlyAsEncodingJSONWould puts values in the L3
// tier behind the engine's back and checks that Classify returns what
// encoding/json makes of each (or computes the answer when encoding/json or
// Result.Validate refuses the value): the engine decodes cached answers with
// its own decoder and falls back to encoding/json for what it declines.
func TestCachedAnswersDecodeExactlyAsEncodingJSONWould(t *testing.T) {
	dir := t.TempDir()
	cfg := fixture.Config(t, fixture.Server(t).URL) // nothing is downloaded: computed answers are "unknown"
	cfg.Cache.Dir = dir
	e := fixture.Open(t, cfg)

	r := rand.New(rand.NewPCG(3, 4))
	texts := []string{"", "aws", "us-east-1", "Deutsche Telekom AG", "Türk Telekom", "quote\"in", `back\slash`, "tab\there", "ctl\x01", "日本", "bad\xffutf8", "null"}
	pick := func() string { return texts[r.IntN(len(texts))] }
	types := []classifier.IPType{classifier.TypeTor, classifier.TypeCloud, classifier.TypeDatacenter, classifier.TypeResidential, classifier.TypeUnknown}
	var values [][]byte
	for range 300 {
		res := classifier.Result{
			IP: "198.18.0.1", Type: types[r.IntN(len(types))], Provider: pick(), Region: pick(), Service: pick(),
			Confidence: []float64{0, 0.5, 0.75, 0.95, 0.99, 1, 0.123456789, 1e-7}[r.IntN(8)], Source: pick(),
			ClassifiedAt: time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC(), MatchedPrefix: pick(), Snapshot: pick(),
			Stale: r.IntN(2) == 0, ASN: r.Uint32(), ASName: pick(), CacheTier: []string{"", "l1"}[r.IntN(2)], Country: pick(), ASNSource: pick(),
		}
		if r.IntN(2) == 0 {
			res.SnapshotAt = time.Unix(r.Int64N(4e9), 0).In(time.FixedZone("x", 3600))
		}
		for range r.IntN(3) {
			res.Tags = append(res.Tags, pick())
		}
		for range r.IntN(4) {
			res.Evidence = append(res.Evidence, classifier.Evidence{
				Source: pick(), Snapshot: pick(), Type: types[r.IntN(len(types))], Provider: pick(), MatchedPrefix: pick(), Tag: pick(),
			})
		}
		v, err := json.Marshal(res)
		require.NoError(t, err)
		values = append(values, v, jsonbStyle(t, v))
	}
	good := `"ip":"198.18.0.1","ip_type":"cloud","confidence":0.99,"classified_at":"2026-01-02T03:04:05Z"`
	for _, v := range []string{
		`{` + good + `}`,
		"{\n  " + strings.ReplaceAll(good, ",", ",\n  ") + "\n}",
		`{` + good + `,"provider":null,"asn":null,"stale":null,"snapshot_at":null}`,
		`{` + good + `,"provider":"a","provider":"b"}`, // the last wins
		`{` + good + `,"extra":{"nested":[1,2]}}`,      // unknown keys are skipped
		`{` + good + `,"IP_TYPE":"tor"}`,               // encoding/json matches keys case-insensitively
		`{` + good + `,"tags":[],"evidence":[]}`,
		`{` + good + `,"tags":null,"evidence":null}`,
		`{` + good + `,"tags":["a"],"tags":["b","c"]}`,
		`{` + good + `,"tags":["a",]}`,
		`{` + good + `,"tags":[1]}`,
		`{` + good + `,"tags":"vpn"}`,
		`{` + good + `,"evidence":[{"source":"x","ip_type":"tor","tag":null},{}]}`,
		`{` + good + `,"evidence":[null]}`,
		`{` + good + `,"evidence":[{"source":"x","other":"y"}]}`,
		`{` + good + `,"evidence":[{"source":1}]}`,
		`{` + good + `,"evidence":[{"ip_type":"mainframe"}]}`,
		`{` + good + `,"evidence":{"source":"x"}}`,
		`{` + good + `,"provider":"\u00e9\n"}`,
		`{` + good + `,"confidence":NaN}`,
		`{` + good + `,"confidence":"0.5"}`,
		`{` + good + `,"confidence":1.5}`,
		`{` + good + `,"confidence":-0.0}`,
		`{` + good + `,"confidence":01}`,
		`{` + good + `,"confidence":1e-1}`,
		`{` + good + `,"asn":1.5}`,
		`{` + good + `,"asn":-1}`,
		`{` + good + `,"asn":4294967296}`,
		`{` + good + `,"asn":1e3}`,
		`{` + good + `,"stale":1}`,
		`{` + good + `,"stale":true}`,
		`{` + good + `,"classified_at":"2026-13-01T00:00:00Z"}`,
		`{` + good + `,"classified_at":"2026-01-02 03:04:05Z"}`,
		`{` + good + `,"ip":"not-an-ip"}`,
		`{` + good + `,"ip_type":"mainframe"}`,
		`{` + good + `}x}`,
		`{` + good + `,}`,
		`{` + good + ` "source":"x"}`,
		`{"ip_type":"cloud"}`,
		`{` + good,
	} {
		values = append(values, []byte(v))
	}

	// Every value carries the identity of the data the engine holds, so only
	// its decoding decides (a record from other data is never served).
	id := e.Stats().DataID
	require.Len(t, id, 16)
	for i, val := range values {
		if len(val) > 0 && val[0] == '{' {
			val = append([]byte(`{"data_id":"`+id+`",`), val[1:]...)
		}
		ip := fmt.Sprintf("198.18.%d.%d", i/256, i%256)
		path := filepath.Join(dir, "198", "18", fmt.Sprint(i/256), fmt.Sprintf("%d.json", i%256))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, val, 0o644))

		var want classifier.Result
		fromCache := json.Unmarshal(val, &want) == nil && want.Validate() == nil
		got := fixture.Classify(t, e, ip)
		if !fromCache {
			require.Empty(t, got.CacheTier, "value %d %s: encoding/json refuses it, so it must be recomputed", i, val)
			require.Equal(t, ip, got.IP)
			continue
		}
		want.CacheTier = "l3"
		require.True(t, want.ClassifiedAt.Equal(got.ClassifiedAt), "value %d %s", i, val)
		require.True(t, want.SnapshotAt.Equal(got.SnapshotAt), "value %d %s", i, val)
		want.ClassifiedAt, want.SnapshotAt, got.ClassifiedAt, got.SnapshotAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		require.Equal(t, want, got, "value %d %s", i, val)
	}
}
