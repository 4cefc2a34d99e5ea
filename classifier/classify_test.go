package classifier_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func TestClassifyFollowsPriorityTorCloudDatacenter(t *testing.T) {
	e := fixture.Loaded(t)
	tests := []struct {
		name, ip string
		typ      classifier.IPType
		provider string
		region   string
		service  string
		conf     float64
		source   string
		matched  string
		snapshot string
	}{
		{"tor exit", "102.130.113.9", classifier.TypeTor, "tor", "", "", 0.95, "tor_bulk_list", "102.130.113.9/32", "tor"},
		{"aws: most specific prefix wins", "13.34.5.9", classifier.TypeCloud, "aws", "us-east-1", "EC2", 0.99, "cloud_ranges_aws", "13.34.5.0/24", "cloud/aws"},
		{"aws wider prefix", "13.34.200.1", classifier.TypeCloud, "aws", "us-east-1", "AMAZON", 0.99, "cloud_ranges_aws", "13.34.0.0/16", "cloud/aws"},
		{"cloud wins over a hosting list holding the same range", "13.34.1.1", classifier.TypeCloud, "aws", "us-east-1", "AMAZON", 0.99, "cloud_ranges_aws", "13.34.0.0/16", "cloud/aws"},
		{"gcp folder becomes provider gcp", "34.1.208.77", classifier.TypeCloud, "gcp", "africa-south1", "Google Cloud", 0.99, "cloud_ranges_gcp", "34.1.208.0/20", "cloud/gcp"},
		{"gcp IPv6", "2600:1900:8000::1", classifier.TypeCloud, "gcp", "africa-south1", "Google Cloud", 0.99, "cloud_ranges_gcp", "2600:1900:8000::/44", "cloud/gcp"},
		{"IPv4-mapped IPv6 is the IPv4 address", "::ffff:8.34.208.1", classifier.TypeCloud, "gcp", "europe-west1", "Google Cloud", 0.99, "cloud_ranges_gcp", "8.34.208.0/23", "cloud/gcp"},
		{"linode non-canonical IPv6 range", "2600:3c00::42", classifier.TypeCloud, "linode", "US-TX", "", 0.99, "cloud_ranges_linode", "2600:3c00::/32", "cloud/linode"},
		{"jhassine datacenter", "13.64.1.1", classifier.TypeDatacenter, "azure", "", "", 0.75, "datacenter_community_lists", "13.64.0.0/11", "datacenter/jhassine"},
		{"X4BNet hosting IPv4", "88.198.1.1", classifier.TypeDatacenter, "", "", "", 0.75, "datacenter_community_lists", "88.198.0.0/16", "datacenter/x4bnet-ipv4"},
		{"X4BNet hosting IPv6", "2a01:4f8::1", classifier.TypeDatacenter, "", "", "", 0.75, "datacenter_community_lists", "2a01:4f8::/32", "datacenter/x4bnet-ipv6"},
		{"vultr documentation prefix is not cloud", "192.0.2.10", classifier.TypeUnknown, "", "", "", 0, "none", "", ""},
		{"nothing matches", "9.9.9.9", classifier.TypeUnknown, "", "", "", 0, "none", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture.Classify(t, e, tt.ip)
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.provider, r.Provider)
			assert.Equal(t, tt.region, r.Region)
			assert.Equal(t, tt.service, r.Service)
			assert.Equal(t, tt.conf, r.Confidence)
			assert.Equal(t, tt.source, r.Source)
			assert.Equal(t, tt.matched, r.MatchedPrefix)
			assert.Equal(t, tt.snapshot, r.Snapshot)
			assert.Equal(t, r.Snapshot != "", !r.SnapshotAt.IsZero(), "snapshot time present iff a list answered")
			assert.False(t, r.Stale)
			assert.False(t, r.ClassifiedAt.IsZero())
		})
	}
}

func TestTorWinsOverCloudForTheSameAddress(t *testing.T) {
	srv := fixture.Server(t)
	cfg := fixture.Config(t, srv.URL)
	// An exit inside an AWS range (exits do run on EC2).
	cfg.TorURL = "file://" + testkit.WriteTemp(t, "3.4.12.4\n")
	e := fixture.Open(t, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	r := fixture.Classify(t, e, "3.4.12.4")
	assert.Equal(t, classifier.TypeTor, r.Type)
	assert.Equal(t, "tor_bulk_list", r.Source)
}

func TestResidentialFromASName(t *testing.T) {
	e := fixture.Loaded(t)
	tests := []struct {
		name   string
		asn    uint32
		asName string
		typ    classifier.IPType
		conf   float64
	}{
		{"two independent strong patterns", 7922, "Comcast Cable Communications, LLC", classifier.TypeResidential, 0.8},
		{"a brand containing a stem is one signal", 3320, "Deutsche Telekom AG", classifier.TypeResidential, 0.7},
		{"US cable ISP", 7922, "COMCAST-7922", classifier.TypeResidential, 0.7},
		{"Chinese backbone: one brand, one signal", 4134, "CHINANET-BACKBONE No.31,Jin-rong Street", classifier.TypeResidential, 0.7},
		{"China Telecom", 4812, "CHINANET-SH-AP China Telecom (Group)", classifier.TypeResidential, 0.8},
		{"China Unicom", 4837, "CHINA169-BACKBONE CHINA UNICOM China169 Backbone", classifier.TypeResidential, 0.7},
		{"Indian mobile", 45609, "BHARTI-MOBILITY-AS-AP Bharti Airtel Ltd. AS for GPRS Service", classifier.TypeResidential, 0.8},
		{"Spanish, accented", 3352, "TELEFÓNICA DE ESPAÑA", classifier.TypeResidential, 0.7},
		{"Russian", 12389, "ROSTELECOM-AS", classifier.TypeResidential, 0.7},
		{"Turkish", 9121, "TTNET Turk Telekom", classifier.TypeResidential, 0.8},
		{"Vodafone", 3209, "VODANET Vodafone GmbH", classifier.TypeResidential, 0.7},
		{"Orange", 3215, "Orange S.A.", classifier.TypeResidential, 0.7},
		{"Reliance Jio", 55836, "RELIANCEJIO-IN Reliance Jio Infocomm Limited", classifier.TypeResidential, 0.7},
		{"weak pattern only", 64500, "Example Internet Service Co", classifier.TypeResidential, 0.5},
		// Hosting words veto a residential answer and make a low-confidence
		// datacenter one.
		{"hosting word vetoes ISP word", 64503, "Hetzner Online GmbH hosting telecom", classifier.TypeDatacenter, 0.5},
		{"cloud never residential", 13335, "CLOUDFLARENET", classifier.TypeDatacenter, 0.5},
		{"CDN never residential", 20940, "Akamai CDN broadband", classifier.TypeDatacenter, 0.5},
		{"VPS provider never residential", 64501, "Cheap VPS Fiber Ltd", classifier.TypeDatacenter, 0.5},
		{"datacenter never residential", 64502, "Telecom Data Center SRL", classifier.TypeDatacenter, 0.5},
		{"no AS name: no residential match, no error", 3320, "", classifier.TypeUnknown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Classify(context.Background(), "9.9.9.9", tt.asn, tt.asName)
			require.NoError(t, err)
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.conf, r.Confidence)
			assert.Equal(t, tt.asn, r.ASN)
			assert.Equal(t, "caller", r.ASNSource)
			if tt.typ != classifier.TypeUnknown {
				assert.Equal(t, "asn_name_heuristic", r.Source)
				assert.Contains(t, r.MatchedPrefix, "as_name:")
				assert.Equal(t, tt.asName, r.Provider)
			}
		})
	}
}

func TestListsWinOverTheASNameHeuristic(t *testing.T) {
	e := fixture.Loaded(t)
	r, err := e.Classify(context.Background(), "88.198.1.1", 3320, "Deutsche Telekom AG")
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeDatacenter, r.Type)
}

func TestClassifyRejectsInvalidInputNamingIt(t *testing.T) {
	e := fixture.Loaded(t)
	_, err := e.Classify(context.Background(), "1.2.3.4/24", 0, "")
	require.ErrorIs(t, err, classifier.ErrInvalidIP)
	assert.Contains(t, err.Error(), `"1.2.3.4/24"`)
	assert.EqualValues(t, 1, e.Stats().Invalid)
}

func TestClassifyBatchKeepsInputOrderAndFlagsBadItems(t *testing.T) {
	e := fixture.Loaded(t)
	qs := []classifier.Query{
		{IP: "102.130.113.9"}, {IP: "not an ip"}, {IP: "2600:1900:8000::1"},
		{IP: "9.9.9.9", ASN: 7922, ASName: "COMCAST-7922"}, {IP: "9.9.9.9"},
	}
	res, errs := e.ClassifyBatch(context.Background(), qs)
	require.Len(t, res, 5)
	require.Len(t, errs, 5)
	assert.Equal(t, classifier.TypeTor, res[0].Type)
	assert.ErrorContains(t, errs[1], `"not an ip"`)
	assert.Equal(t, classifier.IPType(""), res[1].Type)
	assert.Equal(t, classifier.TypeCloud, res[2].Type)
	assert.Equal(t, classifier.TypeResidential, res[3].Type)
	assert.Equal(t, classifier.TypeUnknown, res[4].Type)
	for _, i := range []int{0, 2, 3, 4} {
		assert.NoError(t, errs[i])
		single, err := e.Classify(context.Background(), qs[i].IP, qs[i].ASN, qs[i].ASName)
		require.NoError(t, err)
		assert.Equal(t, single.Type, res[i].Type, "batch and single agree for %s", qs[i].IP)
	}
}

func TestStatsCountAnswersPerTypeAndSource(t *testing.T) {
	e := fixture.Loaded(t)
	for _, ip := range []string{"102.130.113.9", "13.34.5.9", "13.34.5.10", "9.9.9.9"} {
		fixture.Classify(t, e, ip)
	}
	s := e.Stats()
	assert.EqualValues(t, 4, s.Lookups)
	assert.EqualValues(t, 1, s.ByType["tor"])
	assert.EqualValues(t, 2, s.ByType["cloud"])
	assert.EqualValues(t, 1, s.ByType["unknown"])
	assert.EqualValues(t, 2, s.BySource["cloud_ranges_aws"])
	byName := map[string]classifier.SourceStats{}
	for _, src := range s.Sources {
		byName[src.Name] = src
	}
	assert.Equal(t, 4, byName["tor"].Prefixes)
	assert.Equal(t, 5, byName["cloud/aws"].Prefixes)
	assert.EqualValues(t, 1, byName["cloud/aws"].Updated)
	assert.GreaterOrEqual(t, byName["tor"].AgeSeconds, 0.0)
	ipranges := 4 + 3 + 3 + 2 + 3 + 2 + 3 + 2 + 2 + 2 + 1 + 3 + 1 + 3 + 3 // linode … apple-proxy, both families
	assert.Equal(t, 4+8+5+3+3+3+2+2+2+2+4+4+2+ipranges+3+11, s.Prefixes,
		"prefix lists, Onionoo's 8 addresses, the VPN ranges and the 11 scanners included")
	assert.Equal(t, 20+8, s.ASNRanges, "routed ranges of the ip2asn fixtures, more-specific ones split out")
	assert.Equal(t, 7+1, s.HostingASNs, "X4BNet's list and PeeringDB's content network")
	assert.Equal(t, 2, s.AccessASNs, "PeeringDB's access networks")
	assert.Equal(t, 3, byName["asn/peeringdb"].Prefixes)
	assert.EqualValues(t, 4, s.ByASNSource["ip2asn"]+s.ByASNSource["none"])
}

func TestClosedEngineRefusesCalls(t *testing.T) {
	e := fixture.Loaded(t)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")
	_, err := e.Classify(context.Background(), "1.2.3.4", 0, "")
	assert.ErrorIs(t, err, classifier.ErrClosed)
	_, err = e.Refresh(context.Background(), classifier.GroupAll, false)
	assert.ErrorIs(t, err, classifier.ErrClosed)
}

func TestCachedAnswerDoesNotHideTheCallersASData(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.Cache.Dir = t.TempDir() // L3 alone: real files, no server needed
	e := fixture.Open(t, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	ctx := context.Background()

	first, err := e.Classify(ctx, "9.9.9.9", 0, "")
	require.NoError(t, err)
	require.Equal(t, classifier.TypeUnknown, first.Type)
	require.NoError(t, e.FlushCache(ctx)) // the answer is in L3

	withAS, err := e.Classify(ctx, "9.9.9.9", 7922, "COMCAST-7922")
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeResidential, withAS.Type, "the cached unknown was computed without AS data")
	assert.Empty(t, withAS.CacheTier)
	require.NoError(t, e.FlushCache(ctx))

	again, err := e.Classify(ctx, "9.9.9.9", 7922, "COMCAST-7922")
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeResidential, again.Type)
	assert.Equal(t, "l3", again.CacheTier, "same AS data: the cache answers")

	res, errs := e.ClassifyBatch(ctx, []classifier.Query{{IP: "9.9.9.9", ASN: 64500, ASName: "Example Hosting GmbH"}})
	require.NoError(t, errs[0])
	assert.Equal(t, classifier.TypeDatacenter, res[0].Type, "other AS data: recomputed in a batch too")
	assert.Empty(t, res[0].CacheTier)
}

// Upstream's label policy: DigitalOcean (and the other hosting clouds) are
// datacenter ranges at 0.75; the default calls them cloud at 0.99. The
// provider, region and evidence stay either way.
func TestCloudLabelProvidersGiveUpstreamsMapping(t *testing.T) {
	base := fixture.Server(t).URL
	for _, tt := range []struct {
		name   string
		labels []string
		typ    classifier.IPType
		conf   float64
		source string
	}{
		{"default", nil, classifier.TypeCloud, classifier.ConfidenceCloud, "cloud_ranges_digitalocean"},
		{"upstream", []string{"aws", "azure", "gcp", "cloudflare"}, classifier.TypeDatacenter, classifier.ConfidenceDatacenter, classifier.SourceDatacenter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := fixture.Config(t, base)
			c.CloudLabelProviders = tt.labels
			e := fixture.Open(t, c)
			_, err := e.Refresh(context.Background(), classifier.GroupAll, true)
			require.NoError(t, err)
			r := fixture.Classify(t, e, "5.101.96.1")
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.conf, r.Confidence)
			assert.Equal(t, tt.source, r.Source)
			assert.Equal(t, "digitalocean", r.Provider)
			assert.Equal(t, "NL-NH", r.Region)
			assert.Equal(t, "cloud/digitalocean", r.Snapshot)
			aws := fixture.Classify(t, e, "3.5.140.1")
			assert.Equal(t, classifier.TypeCloud, aws.Type, "aws stays cloud")
		})
	}
}

// ClassifyRuns answers each run as ClassifyEach answers it, at one time
// for the whole call, and calls emit for each run's queries in order.
func TestClassifyRunsAnswersEachRunAsClassifyEach(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var calls atomic.Int64 // a new time each call
	cfg.Now = func() time.Time { return at.Add(time.Duration(calls.Add(1)) * time.Second) }
	e := fixture.Open(t, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	runs := [][]classifier.Query{
		{{IP: "102.130.113.9"}, {IP: "not an ip"}, {IP: "13.34.5.9"}},
		{},
		{{IP: "9.9.9.9", ASN: 7922, ASName: "COMCAST-7922"}, {IP: "2600:1900:8000::1"}, {IP: "13.34.5.9"}},
		{{IP: "192.0.2.1", At: at.Add(-time.Hour)}, {IP: "102.130.113.9"}}, // a time: answered from the history
	}
	got := make([][]classifier.Result, len(runs))
	gotErr := make([][]error, len(runs))
	var mu sync.Mutex
	e.ClassifyRuns(context.Background(), len(runs), func(run int) []classifier.Query { return runs[run] }, func(run, i int, r *classifier.Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		assert.Len(t, got[run], i, "run %d: queries in order", run)
		var res classifier.Result
		if r != nil {
			res = *r
		}
		got[run], gotErr[run] = append(got[run], res), append(gotErr[run], err)
	})
	var times []time.Time
	for run, qs := range runs {
		require.Len(t, got[run], len(qs))
		want, wantErr := e.ClassifyBatch(context.Background(), qs)
		for i := range qs {
			if wantErr[i] != nil {
				assert.EqualError(t, gotErr[run][i], wantErr[i].Error())
				continue
			}
			require.NoError(t, gotErr[run][i])
			g, w := got[run][i], want[i]
			times = append(times, g.ClassifiedAt)
			g.ClassifiedAt, w.ClassifiedAt = time.Time{}, time.Time{}
			assert.Equal(t, w.Type, g.Type, "%s", qs[i].IP)
			assert.Equal(t, w.Evidence, g.Evidence, "%s", qs[i].IP)
			assert.Equal(t, w.Key(), g.Key(), "%s", qs[i].IP)
		}
	}
	for _, tm := range times {
		assert.Equal(t, times[0], tm, "one time for every answer of the call")
	}
}

// A panic in a run, in its queries or in emit, does not escape on the
// run's goroutine (it would end the host process): ClassifyRuns raises it
// again in the caller, after every run returned.
func TestClassifyRunsRaisesARunsPanicInTheCaller(t *testing.T) {
	e := fixture.Loaded(t)
	runs := [][]classifier.Query{{{IP: "192.0.2.1"}}, {{IP: "192.0.2.2"}, {IP: "192.0.2.3"}}, {{IP: "192.0.2.4"}}}
	tests := []struct {
		name              string
		queriesOf, emitIn int // the run that panics there, -1 for none
		want              string
		answered          int32
	}{
		{"emit of a run on its own goroutine", -1, 1, "classify run 1 of 3: emit failed", 2},
		{"queries of a run on its own goroutine", 0, -1, "classify run 0 of 3: queries failed", 3},
		{"queries of the run on the caller's goroutine", 2, -1, "classify run 2 of 3: queries failed", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var answered atomic.Int32
			v := func() (v any) {
				defer func() { v = recover() }()
				e.ClassifyRuns(context.Background(), len(runs), func(run int) []classifier.Query {
					if run == tt.queriesOf {
						panic("queries failed")
					}
					return runs[run]
				}, func(run, i int, r *classifier.Result, err error) {
					if run == tt.emitIn && i == 0 {
						panic("emit failed")
					}
					answered.Add(1)
				})
				return nil
			}()
			require.NotNil(t, v)
			assert.Contains(t, v, tt.want)
			assert.Equal(t, tt.answered, answered.Load(), "the other runs answered before the panic was raised")
		})
	}
}

// A batch counts its answers in the stats as single calls count them
// (it adds them once at the end of each run).
func TestBatchCountsAnswersAsSingleCallsDo(t *testing.T) {
	qs := []classifier.Query{
		{IP: "102.130.113.9"}, {IP: "13.34.5.9"}, {IP: "13.34.5.10"}, {IP: "9.9.9.9"}, {IP: "not an ip"},
		{IP: "9.9.9.9", ASN: 7922, ASName: "COMCAST-7922"}, {IP: "2600:1900:8000::1"}, {IP: "192.0.2.1", ASName: "Hetzner Online GmbH"},
	}
	single, batch := fixture.Loaded(t), fixture.Loaded(t)
	for _, q := range qs {
		_, _ = single.Classify(context.Background(), q.IP, q.ASN, q.ASName)
	}
	runs := [][]classifier.Query{qs[:3], qs[3:]}
	batch.ClassifyRuns(context.Background(), 2, func(run int) []classifier.Query { return runs[run] }, func(int, int, *classifier.Result, error) {})
	s, b := single.Stats(), batch.Stats()
	assert.EqualValues(t, 7, b.Lookups)
	assert.EqualValues(t, 1, b.Invalid)
	assert.Equal(t, s.Lookups, b.Lookups)
	assert.Equal(t, s.Invalid, b.Invalid)
	assert.Equal(t, s.ByType, b.ByType)
	assert.Equal(t, s.BySource, b.BySource)
	assert.Equal(t, s.ByASNSource, b.ByASNSource)
}
