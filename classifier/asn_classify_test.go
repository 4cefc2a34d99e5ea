package classifier_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func TestASNLookupAtRangeEdges(t *testing.T) {
	e := fixture.Loaded(t)
	tests := []struct {
		ip      string
		asn     uint32
		country string
	}{
		{"23.255.255.255", 0, ""}, // just before a range
		{"24.0.0.0", 7922, "US"},  // first address of a range (not CIDR-aligned at the end)
		{"24.0.2.199", 7922, "US"},
		{"24.0.2.200", 20115, "US"}, // first address of the next range
		{"24.0.5.17", 20115, "US"},
		{"24.0.5.18", 0, ""}, // an unrouted single address between two ranges
		{"24.0.5.19", 33588, "US"},
		{"24.0.0.255", 7922, "US"},     // just before a more-specific range inside Comcast's
		{"24.0.1.7", 64999, "US"},      // inside it: the more specific answers
		{"24.0.2.0", 7922, "US"},       // just after it: Comcast again
		{"24.0.10.0", 0, ""},           // just after
		{"1.0.1.5", 0, ""},             // unrouted
		{"1.0.0.0", 13335, "US"},       // the table's first address
		{"223.255.255.255", 64511, ""}, // its last, a range without a country
		{"200.0.0.127", 262996, "BR"},
		{"200.0.0.128", 64496, "XX"},
		{"::ffff:24.0.0.5", 7922, "US"}, // an IPv4-mapped address is looked up as IPv4
		{"2a02:8107:ffff:ffff:ffff:ffff:ffff:ffff", 0, ""},
		{"2a02:8108::", 3209, "DE"},
		{"2a02:8109:fa7f:ffff:ffff:ffff:ffff:ffff", 3209, "DE"},
		{"2a02:8109:fa80::", 0, ""},
		{"2c0f:f000::ffff", 36974, "GH"},
		{"2a0b:f4c0::1", 64999, "DE"}, // a more-specific range sharing its start with the covering one
		{"2a0b:f4c0::2", 210558, "DE"},
		{"2c0f:f000::1:0", 0, ""},
		{"::1", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			r := fixture.Classify(t, e, tt.ip)
			assert.Equal(t, tt.asn, r.ASN)
			assert.Equal(t, tt.country, r.Country)
			if tt.asn == 0 {
				assert.Equal(t, "", r.ASNSource)
				assert.Empty(t, r.ASName)
			} else {
				assert.Equal(t, "ip2asn", r.ASNSource)
				assert.NotEmpty(t, r.ASName+r.Country)
			}
		})
	}
}

func TestASNPriorityWithTheNewSources(t *testing.T) {
	e := fixture.Loaded(t)
	tests := []struct {
		name, ip string
		typ      classifier.IPType
		conf     float64
		source   string
		matched  string
		snapshot string
		asn      uint32
	}{
		{"tor exit on a hosting ASN: tor", "185.220.101.1", classifier.TypeTor, 0.95, "tor_bulk_list", "185.220.101.1/32", "tor", 205100},
		{"the next address of that ASN: hosting ASN", "185.220.101.2", classifier.TypeDatacenter, 0.6, "hosting_asn_list", "AS205100", "datacenter/x4bnet-asn", 205100},
		{"IPv6 Onionoo exit on a hosting ASN: tor", "2a0b:f4c2:2::1", classifier.TypeTor, 0.95, "tor_bulk_list", "2a0b:f4c2:2::1/128", "tor/onionoo", 210558},
		{"its neighbour: hosting ASN", "2a0b:f4c2:2::2", classifier.TypeDatacenter, 0.6, "hosting_asn_list", "AS210558", "datacenter/x4bnet-asn", 210558},
		{"IPv6 exit in a residential range: tor", "2a02:8109:fa7f::10", classifier.TypeTor, 0.95, "tor_bulk_list", "2a02:8109:fa7f::10/128", "tor/onionoo", 3209},
		{"cloud range on a hosting ASN: cloud", "13.34.5.9", classifier.TypeCloud, 0.99, "cloud_ranges_aws", "13.34.5.0/24", "cloud/aws", 16509},
		{"same ASN outside the cloud list: hosting ASN", "13.35.0.1", classifier.TypeDatacenter, 0.6, "hosting_asn_list", "AS16509", "datacenter/x4bnet-asn", 16509},
		{"hosting prefix list beats hosting ASN", "5.9.1.1", classifier.TypeDatacenter, 0.75, "datacenter_community_lists", "5.9.0.0/16", "datacenter/x4bnet-ipv4", 24940},
		{"hosting ASN beats a residential AS name", "64.0.0.1", classifier.TypeDatacenter, 0.6, "hosting_asn_list", "AS4323", "datacenter/x4bnet-asn", 4323},
		{"hosting ASN from the list's comment-less lines", "45.90.1.1", classifier.TypeDatacenter, 0.6, "hosting_asn_list", "AS45090", "datacenter/x4bnet-asn", 45090},
		{"hosting AS name: datacenter at 0.5", "46.249.40.1", classifier.TypeDatacenter, 0.5, "asn_name_heuristic", "as_name:server", "asn/ip2asn-v4", 50673},
		{"residential AS name from ip2asn", "24.0.0.1", classifier.TypeResidential, 0.7, "asn_name_heuristic", "as_name:comcast", "asn/ip2asn-v4", 7922},
		{"residential, Brazilian ISP", "200.0.0.1", classifier.TypeResidential, 0.7, "asn_name_heuristic", "as_name:telecom", "asn/ip2asn-v4", 262996},
		{"residential IPv6", "2a02:8108::1", classifier.TypeResidential, 0.7, "asn_name_heuristic", "as_name:vodafone", "asn/ip2asn-v6", 3209},
		{"a name that says nothing: unknown, ASN still reported", "81.2.69.1", classifier.TypeUnknown, 0, "none", "", "", 20712},
		{"no ASN data at all", "9.9.9.9", classifier.TypeUnknown, 0, "none", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture.Classify(t, e, tt.ip)
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.conf, r.Confidence)
			assert.Equal(t, tt.source, r.Source)
			assert.Equal(t, tt.matched, r.MatchedPrefix)
			assert.Equal(t, tt.snapshot, r.Snapshot)
			assert.Equal(t, r.Snapshot != "", !r.SnapshotAt.IsZero())
			assert.Equal(t, tt.asn, r.ASN)
			assert.NoError(t, r.Validate())
			if r.Source == "hosting_asn_list" || r.Source == "asn_name_heuristic" {
				assert.Equal(t, r.ASName, r.Provider, "ASN answers name the network as provider")
			}
		})
	}
}

func TestASNCallerDataWinsOverIP2ASN(t *testing.T) {
	e := fixture.Loaded(t)
	ctx := context.Background()
	tests := []struct {
		name       string
		ip         string
		asn        uint32
		asName     string
		wantASN    uint32
		wantName   string
		wantCC     string
		wantSource string
		typ        classifier.IPType
	}{
		{"caller ASN and name differ from ip2asn: the caller's, no country", "24.0.0.1", 64500, "Example Hosting GmbH",
			64500, "Example Hosting GmbH", "", "caller", classifier.TypeDatacenter},
		{"caller ASN agrees: ip2asn fills the name and country", "24.0.0.1", 7922, "",
			7922, "COMCAST-7922", "US", "caller", classifier.TypeResidential},
		{"caller ASN differs and no name: nothing mixed in", "24.0.0.1", 64501, "",
			64501, "", "", "caller", classifier.TypeUnknown},
		{"caller name only: ip2asn supplies the ASN and country", "24.0.0.1", 0, "Comcast Cable Communications, LLC",
			7922, "Comcast Cable Communications, LLC", "US", "caller", classifier.TypeResidential},
		{"caller ASN on the hosting list where ip2asn knows nothing", "9.9.9.9", 24940, "",
			24940, "", "", "caller", classifier.TypeDatacenter},
		{"nothing from the caller: ip2asn", "24.0.0.1", 0, "",
			7922, "COMCAST-7922", "US", "ip2asn", classifier.TypeResidential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Classify(ctx, tt.ip, tt.asn, tt.asName)
			require.NoError(t, err)
			assert.Equal(t, tt.wantASN, r.ASN)
			assert.Equal(t, tt.wantName, r.ASName)
			assert.Equal(t, tt.wantCC, r.Country)
			assert.Equal(t, tt.wantSource, r.ASNSource)
			assert.Equal(t, tt.typ, r.Type)
			res, errs := e.ClassifyBatch(ctx, []classifier.Query{{IP: tt.ip, ASN: tt.asn, ASName: tt.asName}})
			require.NoError(t, errs[0])
			assert.Equal(t, r.Type, res[0].Type, "batch agrees")
			assert.Equal(t, r.ASNSource, res[0].ASNSource, "batch agrees")
		})
	}
	s := e.Stats()
	assert.EqualValues(t, 5*2, s.ByASNSource["caller"])
	assert.EqualValues(t, 1*2, s.ByASNSource["ip2asn"])
	assert.EqualValues(t, 1*2, s.BySource["hosting_asn_list"])
	assert.EqualValues(t, 4*2, s.BySource["asn_name_heuristic"])
}

func TestASNTablesPersistAndRefreshAsTheirOwnGroup(t *testing.T) {
	srv := fixture.Server(t)
	cfg := fixture.Config(t, srv.URL)
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupASN, false)
	require.NoError(t, err)
	require.Len(t, rep.Sources, 3)
	assert.Equal(t, "asn/ip2asn-v4", rep.Sources[0].Source)
	assert.Equal(t, "asn/ip2asn-v6", rep.Sources[1].Source)
	assert.Equal(t, "asn/peeringdb", rep.Sources[2].Source)
	for _, s := range rep.Sources {
		assert.Equal(t, classifier.StatusUpdated, s.Status, s.Error)
		assert.Equal(t, "asn", s.Group)
	}
	assert.Equal(t, 20, rep.Sources[0].Entries)
	assert.Equal(t, 4, rep.Sources[0].Malformed)
	// Only the ASN group was refreshed: the name heuristic still answers.
	assert.Equal(t, classifier.TypeResidential, fixture.Classify(t, e, "24.0.0.1").Type)
	r0 := fixture.Classify(t, e, "45.90.1.1")
	assert.Equal(t, "asn_name_heuristic", r0.Source, "no hosting-ASN list loaded yet: only the name (Tencent cloud) speaks")
	assert.Equal(t, 0.5, r0.Confidence)
	require.NoError(t, e.Close())

	srv.Close() // offline restart: the tables come back from the snapshots
	e2 := fixture.Open(t, cfg)
	r := fixture.Classify(t, e2, "24.0.0.1")
	assert.EqualValues(t, 7922, r.ASN)
	assert.Equal(t, "ip2asn", r.ASNSource)
	assert.Equal(t, "asn/ip2asn-v4", r.Snapshot)
	assert.Equal(t, 20+8, e2.Stats().ASNRanges)
}

func TestASNDownloadsGoThroughTheValidationGate(t *testing.T) {
	table := testkit.ReadTestdata(t, "asn/ip2asn-v4.tsv")
	srv := newTorServer(t,
		reply{status: 200, body: string(table)},
		reply{status: 200, body: "<!DOCTYPE html><html><body>Service unavailable</body></html>"},
		reply{status: 200, body: "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"},
	)
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.ASNV4URL = srv.URL
	cfg.ASNInterval = 0.001
	e := fixture.Open(t, cfg)
	refreshV4 := func(force bool) classifier.SourceReport {
		rep, err := e.Refresh(context.Background(), classifier.GroupASN, force)
		require.NoError(t, err)
		return rep.Sources[0]
	}
	require.Equal(t, classifier.StatusUpdated, refreshV4(false).Status)
	time.Sleep(2 * time.Millisecond)
	sr := refreshV4(false)
	assert.Equal(t, classifier.StatusFailed, sr.Status)
	assert.Contains(t, sr.Error, "HTML")
	time.Sleep(2 * time.Millisecond)
	sr = refreshV4(false)
	assert.Equal(t, classifier.StatusFailed, sr.Status)
	assert.Contains(t, sr.Error, "shrank from 20 to 1")
	r := fixture.Classify(t, e, "24.0.0.1")
	assert.EqualValues(t, 7922, r.ASN, "the previous table still answers")
	assert.True(t, r.Stale, "an answer from a table whose refresh failed is stale")
	assert.Equal(t, classifier.StatusUpdated, refreshV4(true).Status, "force accepts the shrunken table")
	assert.EqualValues(t, 0, fixture.Classify(t, e, "24.0.0.1").ASN)
}
