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
		ASN: 16509, ASName: "AMAZON-02", Country: "US", ASNSource: "ip2asn", Tags: []string{"scanner:censys", "vpn"},
		Evidence: []Evidence{{Source: "cloud_ranges_aws", Snapshot: "cloud/aws", Type: TypeCloud, Provider: "aws", MatchedPrefix: "198.51.100.0/24"},
			{Source: SourceScanners, Snapshot: "scanners/maltrail", MatchedPrefix: "198.51.100.1/32", Tag: "scanner:censys"}}}
	b, err := json.Marshal(r)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"ip":"1.2.3.4","ip_type":"tor","confidence":0.95,"stale":true,"asn":null}`))
	f.Add([]byte(`{"ip": "::1", "asn": 1e3, "confidence": -0.0}`))
	f.Add([]byte(`{"ip":"1.2.3.4","ip_type":"unknown","data_id":"0123456789abcdef","data_id":null}`))
	rec, err := encodeCached(&r, "0123456789abcdef")
	require.NoError(f, err)
	f.Add(rec)
	f.Fuzz(func(t *testing.T, val []byte) {
		var fast Result
		var fastID string
		if !decodeResultJSON(val, &fast, &fastID) {
			return
		}
		var slow Result
		rec := cachedRecord{Result: &slow}
		require.NoError(t, json.Unmarshal(val, &rec), "%s", val)
		require.Equal(t, rec.DataID, fastID, "%s", val)
		require.True(t, fast.ClassifiedAt.Equal(slow.ClassifiedAt), "%s", val)
		require.True(t, fast.SnapshotAt.Equal(slow.SnapshotAt), "%s", val)
		fast.ClassifiedAt, fast.SnapshotAt, slow.ClassifiedAt, slow.SnapshotAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		require.Equal(t, slow, fast, "%s", val)
	})
}

// A cache record is the answer's JSON plus the data identity, and reads
// back as both, tags and evidence included (by the fast decoder).
func TestCacheRecordRoundTrip(t *testing.T) {
	r := Result{IP: "2001:db8::1", Type: TypeTor, Provider: "tor", Confidence: 0.95, Source: SourceTor,
		ClassifiedAt: time.Date(2026, 12, 3, 1, 2, 3, 0, time.UTC), Tags: []string{TagTorExit},
		Evidence: []Evidence{{Source: SourceTor, Snapshot: "tor", Type: TypeTor, MatchedPrefix: "2001:db8::1/128", Tag: TagTorExit},
			{Source: SourceHostingASN, Snapshot: "datacenter/x4bnet-asn", Type: TypeDatacenter, Provider: "Hetzner Online GmbH", MatchedPrefix: "AS24940"}}}
	b, err := encodeCached(&r, "0123456789abcdef")
	require.NoError(t, err)
	require.True(t, json.Valid(b), "%s", b)
	var fast Result
	var fastID string
	require.True(t, decodeResultJSON(b, &fast, &fastID), "the fast decoder reads tags and evidence: %s", b)
	require.Equal(t, r, fast)
	got, id, err := decodeCached(b)
	require.NoError(t, err)
	require.Equal(t, "0123456789abcdef", id)
	require.Equal(t, r, got)

	plain, err := json.Marshal(r) // upstream's shape: no identity
	require.NoError(t, err)
	_, id, err = decodeCached(plain)
	require.NoError(t, err)
	require.Empty(t, id)
}

// ParseConfig never panics on any bytes (the C ABI passes the host's JSON
// through), and what it accepts takes its defaults without failing.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"data_dir":"/tmp/x","tor_interval":3600,"cache":{"redis_url":"redis://127.0.0.1:1/0"}}`))
	f.Add([]byte(`{"cloud_providers":["aws"],"first_party":["gcp"],"disabled_sources":["tor"]}`))
	f.Add([]byte(`{"tor_interval":-1}`))
	f.Add([]byte(`{"cloud_base_url":"file:///m/aws/aws_ips.csv","datacenter_url":"http://h/","cloud_label_providers":["AWS"]}`))
	f.Add([]byte(`{"cloud_base_url":"http://h/{provider}/x.csv","datacenter_url":"ftp://h"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		c = c.WithDefaults()
		if c.validate() == nil { // the source URLs resolve: sources() builds from them
			_ = c.sources()
		}
	})
}
