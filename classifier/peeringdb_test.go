package classifier_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// peeringDBEngine loads the fixture sources with X4BNet ranges and a
// PeeringDB network list of its own: X4BNet's ranges hold 64.0.0.0/24
// (AS4323 TWTC, also on X4BNet's ASN list) and Hetzner's 5.9.0.0/16;
// PeeringDB declares TWTC an access network in the older info_type form,
// F3 Netze (whose range the Tor bulk list holds an exit of) one in the newer
// info_types form, Hetzner and Andrews & Arnold content networks.
func peeringDBEngine(t *testing.T) *classifier.Engine {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/hosting/ipv4.txt", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("64.0.0.0/24\n5.9.0.0/16\n"))
	})
	mux.HandleFunc("/hosting/ipv6.txt", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("2a01:4f8::/32\n"))
	})
	mux.HandleFunc("/api/net", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data": [
			{"id": 1, "org_id": 1, "name": "TW Telecom", "asn": 4323, "info_type": "Cable/DSL/ISP", "status": "ok"},
			{"id": 2, "org_id": 2, "name": "F3 Netze e.V.", "asn": 205100, "info_type": "", "info_types": ["Cable/DSL/ISP", "Non-Profit"], "status": "ok"},
			{"id": 3, "org_id": 3, "name": "Hetzner Online", "asn": 24940, "info_type": "Content", "info_types": ["Content"], "status": "ok"},
			{"id": 4, "org_id": 4, "name": "Andrews & Arnold", "asn": 20712, "info_type": "Content", "info_types": ["Content"], "status": "ok"}
		], "meta": {}}`))
	})
	own := httptest.NewServer(mux)
	t.Cleanup(own.Close)
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.HostingBaseURL = own.URL + "/hosting"
	cfg.PeeringDBURL = own.URL + "/api/net"
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	return e
}

func TestAccessNetworkDeclarationOverrulesListsOfWholeASNs(t *testing.T) {
	e := peeringDBEngine(t)
	tests := []struct {
		name, ip   string
		typ        classifier.IPType
		source     string
		snapshot   string
		confidence float64
		matched    string
	}{
		{"X4BNet's range of an access network: residential", "64.0.0.7", classifier.TypeResidential,
			classifier.SourceAccessASN, "asn/peeringdb", classifier.ConfidenceAccessASN, "AS4323"},
		{"a hoster's range in the same list stays datacenter", "5.9.1.1", classifier.TypeDatacenter,
			classifier.SourceDatacenter, "datacenter/x4bnet-ipv4", classifier.ConfidenceDatacenter, "5.9.0.0/16"},
		{"a Tor exit on an access network stays tor", "185.220.101.1", classifier.TypeTor,
			classifier.SourceTor, "tor", classifier.ConfidenceTor, "185.220.101.1/32"},
		{"an access network's address no list holds: residential", "185.220.100.9", classifier.TypeResidential,
			classifier.SourceAccessASN, "asn/peeringdb", classifier.ConfidenceAccessASN, "AS205100"},
		{"a content network whose name says nothing: datacenter", "81.2.69.142", classifier.TypeDatacenter,
			classifier.SourceHostingASN, "asn/peeringdb", classifier.ConfidenceHostingASN, "AS20712"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture.Classify(t, e, tt.ip)
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.source, r.Source)
			assert.Equal(t, tt.snapshot, r.Snapshot)
			assert.InDelta(t, tt.confidence, r.Confidence, 1e-9)
			assert.Equal(t, tt.matched, r.MatchedPrefix)
		})
	}
	s := e.Stats()
	assert.Equal(t, 2, s.AccessASNs)
	assert.EqualValues(t, 2, s.BySource[classifier.SourceAccessASN])
}

func TestAccessNetworkDeclarationOverrulesTheHostingASNListForTheCallersASN(t *testing.T) {
	e := peeringDBEngine(t)
	// 203.0.113.9 is in no list and no table: only the caller's ASN speaks.
	// X4BNet's ASN list names AS4323; PeeringDB's declaration wins.
	r, err := e.Classify(context.Background(), "203.0.113.9", 4323, "")
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeResidential, r.Type)
	assert.Equal(t, classifier.SourceAccessASN, r.Source)
	// AS24940 (Hetzner) is on both hosting lists: X4BNet's comes first.
	r, err = e.Classify(context.Background(), "203.0.113.9", 24940, "")
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeDatacenter, r.Type)
	assert.Equal(t, "datacenter/x4bnet-asn", r.Snapshot)
}

func TestPeeringDBDownloadsGoThroughTheValidationGate(t *testing.T) {
	srv := newTorServer(t,
		reply{status: 200, body: string(testkit.ReadTestdata(t, "peeringdb/net.json"))},
		reply{status: 200, body: "<!DOCTYPE html><html><body>Rate limited</body></html>"},
		reply{status: 200, body: `{"data": [{"asn": 1, "info_type": "Content"}]}`},
	)
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.PeeringDBURL = srv.URL
	cfg.PeeringDBInterval = 0.001
	e := fixture.Open(t, cfg)
	ctx := context.Background()
	pdb := func(force bool) classifier.SourceReport {
		rep, err := e.Refresh(ctx, classifier.GroupASN, force)
		require.NoError(t, err)
		for _, s := range rep.Sources {
			if s.Source == "asn/peeringdb" {
				return s
			}
		}
		t.Fatal("no asn/peeringdb in the report")
		return classifier.SourceReport{}
	}
	first := pdb(false)
	require.Equal(t, classifier.StatusUpdated, first.Status, first.Error)
	assert.Equal(t, 3, first.Entries, "two access networks, one content network")
	assert.Equal(t, 2, first.Malformed)
	html := pdb(false)
	assert.Equal(t, classifier.StatusFailed, html.Status)
	assert.Contains(t, html.Error, "rejected download")
	assert.Contains(t, html.Error, "an HTML page, not a list", "named as a page before the JSON parser sees it")
	shrunk := pdb(false)
	assert.Equal(t, classifier.StatusFailed, shrunk.Status)
	assert.Contains(t, shrunk.Error, "shrank from 3 to 1")
	s := e.Stats()
	assert.Equal(t, 2, s.AccessASNs, "the previous list stays loaded")
	assert.Equal(t, 1, s.HostingASNs, "only the ASN group was refreshed: PeeringDB's content network")
	for _, src := range s.Sources {
		if src.Name == "asn/peeringdb" {
			assert.True(t, src.Stale, "its answers are flagged stale")
			assert.Contains(t, src.LastError, "shrank")
		}
	}
}
