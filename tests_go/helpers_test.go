package tests_go

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// configFor points every source at base, laid out like testdata/ (and like
// the real upstream paths under their base URLs).
func configFor(t testing.TB, base string) classifier.Config {
	t.Helper()
	return classifier.Config{
		DataDir:        t.TempDir(),
		TorURL:         base + "/torbulkexitlist",
		CloudBaseURL:   base + "/cloud",
		DatacenterURL:  base + "/datacenters.csv",
		HostingBaseURL: base + "/hosting",
		OnionooURL:     base + "/onionoo/details.json",
		HostingASNURL:  base + "/hosting/ASN.txt",
		ASNV4URL:       base + "/asn/ip2asn-v4.tsv.gz",
		ASNV6URL:       base + "/asn/ip2asn-v6.tsv",
		Backoff:        0.01,
		HTTPTimeout:    5,
	}
}

// fixtureServer serves tests_go/testdata over HTTP.
func fixtureServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(srv.Close)
	return srv
}

// openEngine opens an engine with cfg and closes it at the end of the test.
func openEngine(t testing.TB, cfg classifier.Config) *classifier.Engine {
	t.Helper()
	e, err := classifier.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// loadedFixtureEngine is an engine refreshed from the fixture server.
func loadedFixtureEngine(t testing.TB) *classifier.Engine {
	t.Helper()
	e := openEngine(t, configFor(t, fixtureServer(t).URL))
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "fixture refresh failed: %+v", rep)
	return e
}

// sharedData returns ../shared/data beside the repository (the real
// snapshots of every source), or skips when it is absent.
func sharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IPCLASSIFIER_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Skipf("real data not found at %s (set IPCLASSIFIER_SHARED_DATA): %v", dir, err)
	}
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	return abs
}

// realDataConfig points every source at an HTTP server over the real data.
// Onionoo has no real snapshot: its document is built from the real exit
// relay list (tor/alireza-rezaee-tor-nodes/latest.exits.csv) and served from
// a temporary directory. There is no real IPv4 ip2asn table: the IPv4 table
// is the hand-written fixture (benchmarks swap in a synthetic one of real
// size, see benchASNv4URL).
func realDataConfig(t testing.TB) classifier.Config {
	t.Helper()
	dir := sharedData(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	gen := t.TempDir()
	onionooWriteFromExitsCSV(t, filepath.Join(dir, "tor", "alireza-rezaee-tor-nodes", "latest.exits.csv"), filepath.Join(gen, "details.json"))
	genSrv := httptest.NewServer(http.FileServer(http.Dir(gen)))
	t.Cleanup(genSrv.Close)
	return classifier.Config{
		DataDir:        t.TempDir(),
		TorURL:         srv.URL + "/tor/torbulkexitlist",
		OnionooURL:     genSrv.URL + "/details.json",
		CloudBaseURL:   srv.URL + "/cloud-provider-ip-addresses",
		DatacenterURL:  srv.URL + "/server-ip-addresses/data/datacenters.csv",
		HostingBaseURL: srv.URL + "/lists_vpn/output/datacenter",
		HostingASNURL:  srv.URL + "/lists_vpn/input/datacenter/ASN.txt",
		ASNV4URL:       srv.URL + "/asn/ip2asn-v4.tsv.gz",
		ASNV6URL:       srv.URL + "/asn/ip2asn-v6.tsv.gz",
		// The real-data folder has no azure, oracle or linode CSV.
		CloudProviders: []string{"aws", "gcp", "cloudflare", "digitalocean", "vultr"},
		Backoff:        0.01,
	}
}

// realDataFirstPartyConfig is realDataConfig with the providers' own files
// as the AWS, GCP, Oracle and Azure cloud sources.
func realDataFirstPartyConfig(t testing.TB) classifier.Config {
	t.Helper()
	cfg := realDataConfig(t)
	base := strings.TrimSuffix(cfg.TorURL, "/tor/torbulkexitlist")
	cfg.CloudProviders = append(cfg.CloudProviders, "oracle", "azure")
	cfg.AWSIPRangesURL = base + "/aws-official/ip-ranges.json"
	cfg.GCPIPRangesURL = base + "/gcp-official/cloud.json"
	cfg.OracleIPRangesURL = base + "/oracle-official/public_ip_ranges.json"
	cfg.AzureServiceTagsURL = base + "/azure-official/ServiceTags_Public.2026-05-06.json.gz"
	return cfg
}

// classify is Classify with a background context and no ASN data.
func classify(t testing.TB, e *classifier.Engine, ip string) classifier.Result {
	t.Helper()
	r, err := e.Classify(context.Background(), ip, 0, "")
	require.NoError(t, err, ip)
	return r
}

// writeTemp writes content to a new file in a test directory and returns
// its path.
func writeTemp(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "list")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}
