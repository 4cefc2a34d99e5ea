package tests_go

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

func TestFirstPartyParsersReadTheProvidersOwnFiles(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		parse     classifier.Parser
		want      []entryRow
		records   int
		malformed int
		bogons    int
	}{
		{
			name: "AWS ip-ranges.json: one prefix per service, the specific service wins over AMAZON",
			file: "firstparty/ip-ranges.json", parse: classifier.ParseAWSIPRanges,
			want: []entryRow{
				{"3.4.12.4/32", "aws", "eu-west-1", "AMAZON"},
				{"3.5.140.0/22", "aws", "ap-northeast-2", "S3"},
				{"13.34.0.0/16", "aws", "us-east-1", "AMAZON"},
				{"13.34.5.0/24", "aws", "us-east-1", "EC2"},
				{"52.95.110.0/24", "aws", "GLOBAL", "ROUTE53"},
				{"2600:1f14::/35", "aws", "us-west-2", "EC2"},
			},
			records: 11, malformed: 1, bogons: 1,
		},
		{
			name: "GCP cloud.json: ipv4Prefix or ipv6Prefix, scope is the region",
			file: "firstparty/cloud.json", parse: classifier.ParseGCPCloudJSON,
			want: []entryRow{
				{"34.1.208.0/20", "gcp", "africa-south1", "Google Cloud"},
				{"8.34.208.0/23", "gcp", "europe-west1", "Google Cloud"},
				{"2600:1900:8000::/44", "gcp", "africa-south1", "Google Cloud"},
			},
			records: 4, malformed: 1,
		},
		{
			name: "GCP cloud.json gzipped on disk",
			file: "firstparty/cloud.json.gz", parse: classifier.ParseGCPCloudJSON,
			want: []entryRow{
				{"34.1.208.0/20", "gcp", "africa-south1", "Google Cloud"},
				{"8.34.208.0/23", "gcp", "europe-west1", "Google Cloud"},
				{"2600:1900:8000::/44", "gcp", "africa-south1", "Google Cloud"},
			},
			records: 4, malformed: 1,
		},
		{
			name: "Oracle public_ip_ranges.json: regions of CIDRs, tags joined as the service",
			file: "firstparty/public_ip_ranges.json", parse: classifier.ParseOracleIPRanges,
			want: []entryRow{
				{"40.233.0.0/19", "oracle", "mx-monterrey-1", "OCI"},
				{"40.233.32.0/19", "oracle", "mx-monterrey-1", ""},
				{"134.70.8.0/21", "oracle", "us-ashburn-1", "OSN,OBJECT_STORAGE"},
			},
			records: 4, malformed: 1,
		},
		{
			name: "Azure Service Tags: the regional service tag wins over AzureCloud",
			file: "firstparty/ServiceTags_Public.json.gz", parse: classifier.ParseAzureServiceTags,
			want: []entryRow{
				{"4.144.0.0/17", "azure", "eastasia", "AzureCloud.eastasia"},
				{"20.38.98.0/24", "azure", "eastus", "AzureStorage.eastus"},
				{"2603:1000::/40", "azure", "australiaeast", "AzureCloud.australiaeast"},
			},
			records: 8, malformed: 1,
		},
	}
	for _, tt := range tests {
		data := readFixture(t, tt.file)
		other, otherName := asnGzip(t, data), "gzipped"
		if strings.HasSuffix(tt.file, ".gz") {
			other, otherName = firstPartyGunzip(t, data), "plain"
		}
		for form, b := range map[string][]byte{"as stored": data, otherName: other} {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				p, err := tt.parse(b)
				require.NoError(t, err)
				assert.Equal(t, tt.want, rows(p))
				assert.Equal(t, tt.records, p.Records, "records")
				assert.Equal(t, tt.malformed, p.Malformed, "malformed")
				assert.Equal(t, tt.bogons, p.Bogons, "bogons")
			})
		}
	}
}

func TestFirstPartyParsersRejectOtherDocuments(t *testing.T) {
	for name, parse := range map[string]classifier.Parser{
		"aws": classifier.ParseAWSIPRanges, "gcp": classifier.ParseGCPCloudJSON,
		"oracle": classifier.ParseOracleIPRanges, "azure": classifier.ParseAzureServiceTags,
	} {
		for _, body := range []string{`{"something":"else"}`, `<html><body>404</body></html>`, `ip_address,ip_type`} {
			_, err := parse([]byte(body))
			assert.Error(t, err, "%s: %s", name, body)
		}
	}
}

// firstPartyFixtureConfig selects every first-party file from testdata.
func firstPartyFixtureConfig(t *testing.T) classifier.Config {
	srv := fixtureServer(t)
	cfg := configFor(t, srv.URL)
	cfg.AWSIPRangesURL = srv.URL + "/firstparty/ip-ranges.json"
	cfg.GCPIPRangesURL = srv.URL + "/firstparty/cloud.json.gz"
	cfg.OracleIPRangesURL = srv.URL + "/firstparty/public_ip_ranges.json"
	cfg.AzureServiceTagsURL = srv.URL + "/firstparty/ServiceTags_Public.json.gz"
	return cfg
}

func sourceNames(e *classifier.Engine) map[string]string {
	out := map[string]string{}
	for _, s := range e.Stats().Sources {
		out[s.Name] = s.URL
	}
	return out
}

func TestFirstPartyFilesReplaceTheProvidersCSV(t *testing.T) {
	e := openEngine(t, firstPartyFixtureConfig(t))
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	names := sourceNames(e)
	for _, p := range []string{"aws", "gcp", "oracle", "azure"} {
		assert.Contains(t, names, "cloud/"+p+"-official")
		assert.NotContains(t, names, "cloud/"+p, "the rezmoss CSV of %s is not loaded", p)
	}
	for _, p := range []string{"cloudflare", "digitalocean", "linode", "vultr"} {
		assert.Contains(t, names, "cloud/"+p, "providers without a first-party file keep their CSV")
	}
	tests := []struct {
		ip, provider, region, service, snapshot string
	}{
		{"13.34.5.9", "aws", "us-east-1", "EC2", "cloud/aws-official"},
		{"52.95.110.1", "aws", "GLOBAL", "ROUTE53", "cloud/aws-official"},
		{"2600:1f14::5", "aws", "us-west-2", "EC2", "cloud/aws-official"},
		{"34.1.208.77", "gcp", "africa-south1", "Google Cloud", "cloud/gcp-official"},
		{"2600:1900:8000::1", "gcp", "africa-south1", "Google Cloud", "cloud/gcp-official"},
		{"134.70.8.1", "oracle", "us-ashburn-1", "OSN,OBJECT_STORAGE", "cloud/oracle-official"},
		{"20.38.98.7", "azure", "eastus", "AzureStorage.eastus", "cloud/azure-official"},
		{"2603:1000::1", "azure", "australiaeast", "AzureCloud.australiaeast", "cloud/azure-official"},
		{"2606:4700::1111", "cloudflare", "", "", "cloud/cloudflare"},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			r := classify(t, e, tt.ip)
			assert.Equal(t, classifier.TypeCloud, r.Type)
			assert.Equal(t, tt.provider, r.Provider)
			assert.Equal(t, tt.region, r.Region)
			assert.Equal(t, tt.service, r.Service)
			assert.Equal(t, "cloud_ranges_"+tt.provider, r.Source, "answers keep the contract's source name")
			assert.Equal(t, tt.snapshot, r.Snapshot)
		})
	}
}

func TestFirstPartySelection(t *testing.T) {
	clearEnv := func(t *testing.T) {
		for _, f := range classifier.FirstPartyClouds {
			t.Setenv(f.Env, "")
		}
	}
	t.Run("first_party with the default URLs", func(t *testing.T) {
		clearEnv(t)
		c := classifier.Config{FirstParty: []string{"AWS", " gcp", "aws"}}.WithDefaults()
		assert.Equal(t, []string{"aws", "gcp"}, c.FirstParty)
		assert.Equal(t, classifier.DefaultAWSIPRangesURL, c.AWSIPRangesURL)
		assert.Equal(t, classifier.DefaultGCPIPRangesURL, c.GCPIPRangesURL)
		assert.Empty(t, c.OracleIPRangesURL, "not selected: no URL")
		c.DataDir = t.TempDir()
		e := openEngine(t, c)
		names := sourceNames(e)
		assert.Equal(t, classifier.DefaultAWSIPRangesURL, names["cloud/aws-official"])
		assert.Equal(t, classifier.DefaultGCPIPRangesURL, names["cloud/gcp-official"])
		assert.Contains(t, names, "cloud/oracle")
	})
	t.Run("an environment URL selects the file", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("ORACLE_IP_RANGES_URL", "file:///oracle.json")
		t.Setenv("AZURE_SERVICE_TAGS_URL", "file:///tags.json")
		c := classifier.Config{}.WithDefaults()
		assert.ElementsMatch(t, []string{"oracle", "azure"}, c.FirstParty)
		assert.Equal(t, "file:///oracle.json", c.OracleIPRangesURL)
		assert.Equal(t, "file:///tags.json", c.AzureServiceTagsURL)
		explicit := classifier.Config{OracleIPRangesURL: "http://explicit/oracle.json"}.WithDefaults()
		assert.Equal(t, "http://explicit/oracle.json", explicit.OracleIPRangesURL, "an explicit option beats the environment")
	})
	t.Run("a JSON configuration", func(t *testing.T) {
		clearEnv(t)
		c, err := classifier.ParseConfig([]byte(`{"first_party":["oracle"],"azure_service_tags_url":"file:///tags.json"}`))
		require.NoError(t, err)
		c = c.WithDefaults()
		assert.Equal(t, []string{"oracle", "azure"}, c.FirstParty)
		assert.Equal(t, classifier.DefaultOracleIPRangesURL, c.OracleIPRangesURL)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		for _, key := range []string{"first_party", "aws_ip_ranges_url", "gcp_ip_ranges_url", "oracle_ip_ranges_url",
			"azure_service_tags_url", "asn_v4_url", "asn_v6_url", "hosting_asn_url", "onionoo_url", "asn_interval"} {
			if key == "aws_ip_ranges_url" || key == "gcp_ip_ranges_url" {
				continue // not selected, so empty and omitted
			}
			assert.Contains(t, string(b), `"`+key+`"`)
		}
	})
	t.Run("azure needs its URL", func(t *testing.T) {
		clearEnv(t)
		_, err := classifier.Open(classifier.Config{DataDir: t.TempDir(), FirstParty: []string{"azure"}})
		require.ErrorContains(t, err, "azure_service_tags_url")
	})
	t.Run("an unknown provider is an error", func(t *testing.T) {
		clearEnv(t)
		_, err := classifier.Open(classifier.Config{DataDir: t.TempDir(), FirstParty: []string{"linode"}})
		require.ErrorContains(t, err, `"linode"`)
	})
}

func TestEnvironmentOverridesTheNewSourceURLs(t *testing.T) {
	envs := []string{"ASN_V4_URL", "ASN_V6_URL", "HOSTING_ASN_URL", "ONIONOO_URL", "AWS_IP_RANGES_URL",
		"GCP_IP_RANGES_URL", "ORACLE_IP_RANGES_URL", "AZURE_SERVICE_TAGS_URL"}
	for _, name := range envs {
		t.Setenv(name, "http://127.0.0.1:1/"+name)
	}
	c := classifier.Config{}.WithDefaults()
	for name, field := range map[string]string{
		"ASN_V4_URL": c.ASNV4URL, "ASN_V6_URL": c.ASNV6URL, "HOSTING_ASN_URL": c.HostingASNURL,
		"ONIONOO_URL": c.OnionooURL, "AWS_IP_RANGES_URL": c.AWSIPRangesURL, "GCP_IP_RANGES_URL": c.GCPIPRangesURL,
		"ORACLE_IP_RANGES_URL": c.OracleIPRangesURL, "AZURE_SERVICE_TAGS_URL": c.AzureServiceTagsURL,
	} {
		assert.Equal(t, "http://127.0.0.1:1/"+name, field, name)
	}
	for _, name := range []string{"ASN_V4_URL", "ASN_V6_URL", "HOSTING_ASN_URL"} {
		t.Setenv(name, "")
	}
	d := classifier.Config{}.WithDefaults()
	assert.Equal(t, classifier.DefaultASNV4URL, d.ASNV4URL)
	assert.Equal(t, classifier.DefaultASNV6URL, d.ASNV6URL)
	assert.Equal(t, classifier.DefaultHostingASNURL, d.HostingASNURL)
	assert.Equal(t, 24*3600.0, float64(d.ASNInterval))
}

// TestFirstPartyRealFilesClassifyAsTheirProvider loads the real AWS, GCP,
// Oracle and Azure publications as the cloud sources and classifies
// addresses drawn from them: the first, the last and a random address of
// every prefix (v4 and v6). An address may legitimately be a Tor exit or in
// another provider's range (a few prefixes are listed by two providers);
// the rest must be cloud with the right provider.
func TestFirstPartyRealFilesClassifyAsTheirProvider(t *testing.T) {
	cfg := realDataFirstPartyConfig(t)
	e := openEngine(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	dir := sharedData(t)
	files := map[string]struct {
		path  string
		parse classifier.Parser
	}{
		"aws":    {"aws-official/ip-ranges.json", classifier.ParseAWSIPRanges},
		"gcp":    {"gcp-official/cloud.json", classifier.ParseGCPCloudJSON},
		"oracle": {"oracle-official/public_ip_ranges.json", classifier.ParseOracleIPRanges},
		"azure":  {"azure-official/ServiceTags_Public.2026-05-06.json.gz", classifier.ParseAzureServiceTags},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for provider, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.path))
		require.NoError(t, err)
		p, err := f.parse(b)
		require.NoError(t, err)
		for _, family := range []string{"v4", "v6"} {
			var n, ok, tor int
			var misses []string
			for _, entry := range p.Entries {
				if entry.Prefix.Addr().Is4() != (family == "v4") {
					continue
				}
				for _, a := range firstPartySample(entry.Prefix, rng) {
					n++
					r := classify(t, e, a.String())
					switch {
					case r.Type == classifier.TypeTor:
						tor++
					case r.Type == classifier.TypeCloud && r.Provider == provider:
						ok++
					default:
						if len(misses) < 5 {
							misses = append(misses, a.String()+" → "+string(r.Type)+"/"+r.Provider)
						}
					}
				}
			}
			if n == 0 {
				continue // Oracle publishes no IPv6
			}
			share := float64(ok+tor) / float64(n)
			t.Logf("%s %s: %d addresses, %.3f%% cloud/%s (%d tor), misses e.g. %v", provider, family, n, 100*share, provider, tor, misses)
			assert.GreaterOrEqual(t, share, 0.995, "%s %s", provider, family)
		}
	}
}

// firstPartySample returns the first, last and a random address of pfx.
func firstPartySample(pfx netip.Prefix, rng *rand.Rand) []netip.Addr {
	first := pfx.Masked().Addr()
	b := first.AsSlice()
	last := make([]byte, len(b))
	mid := make([]byte, len(b))
	for i := range b {
		hostBits := max(0, min(8, (i+1)*8-pfx.Bits()))
		mask := byte(1<<hostBits - 1)
		last[i] = b[i] | mask
		mid[i] = b[i] | byte(rng.IntN(256))&mask
	}
	l, _ := netip.AddrFromSlice(last)
	m, _ := netip.AddrFromSlice(mid)
	return []netip.Addr{first, l, m}
}

func firstPartyGunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}
