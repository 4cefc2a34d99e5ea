package classifier

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fast decoder of cached answers agrees with encoding/json on every
// value it accepts (it may decline, and encoding/json then decides): a
// differential fuzz against the slow reference. A cache tier's values are
// untrusted bytes (a shared table, files on disk).
func FuzzDecodeResultJSON(f *testing.F) {
	r := Result{IP: "198.51.100.1", Type: TypeCloud, Provider: "aws", Region: "us-east-1", Confidence: 0.99,
		Source: "cloud_ranges_aws", ClassifiedAt: time.Date(2026, 12, 3, 1, 2, 3, 4000, time.UTC),
		MatchedPrefix: "198.51.100.0/24", Snapshot: "cloud/aws", SnapshotAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		ASN: 16509, ASName: "AMAZON-02", Country: "US", ASNSource: "ip2asn"}
	b, err := json.Marshal(r)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"ip":"1.2.3.4","ip_type":"tor","confidence":0.95,"stale":true,"asn":null}`))
	f.Add([]byte(`{"ip": "::1", "asn": 1e3, "confidence": -0.0}`))
	f.Fuzz(func(t *testing.T, val []byte) {
		var fast Result
		if !decodeResultJSON(val, &fast) {
			return
		}
		var slow Result
		require.NoError(t, json.Unmarshal(val, &slow), "%s", val)
		require.True(t, fast.ClassifiedAt.Equal(slow.ClassifiedAt), "%s", val)
		require.True(t, fast.SnapshotAt.Equal(slow.SnapshotAt), "%s", val)
		fast.ClassifiedAt, fast.SnapshotAt, slow.ClassifiedAt, slow.SnapshotAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		require.Equal(t, slow, fast, "%s", val)
	})
}

// ParseConfig never panics on any bytes (the C ABI passes the host's JSON
// through), and what it accepts takes its defaults without failing.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"data_dir":"/tmp/x","tor_interval":3600,"cache":{"redis_url":"redis://127.0.0.1:1/0"}}`))
	f.Add([]byte(`{"cloud_providers":["aws"],"first_party":["gcp"],"disabled_sources":["tor"]}`))
	f.Add([]byte(`{"tor_interval":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		_ = c.WithDefaults()
	})
}
