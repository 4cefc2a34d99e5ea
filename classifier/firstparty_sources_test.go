package classifier_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func sourceNames(e *classifier.Engine) map[string]string {
	out := map[string]string{}
	for _, s := range e.Stats().Sources {
		out[s.Name] = s.URL
	}
	return out
}

func TestFirstPartyFilesReplaceTheProvidersCSV(t *testing.T) {
	e := fixture.Open(t, fixture.FirstPartyConfig(t))
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
			r := fixture.Classify(t, e, tt.ip)
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
		for _, env := range []string{"AWS_IP_RANGES_URL", "GCP_IP_RANGES_URL", "ORACLE_IP_RANGES_URL", "AZURE_SERVICE_TAGS_URL"} {
			t.Setenv(env, "")
		}
	}
	t.Run("first_party with the default URLs", func(t *testing.T) {
		clearEnv(t)
		c := classifier.Config{FirstParty: []string{"AWS", " gcp", "aws"}}.WithDefaults()
		assert.Equal(t, []string{"aws", "gcp"}, c.FirstParty)
		assert.Equal(t, "https://ip-ranges.amazonaws.com/ip-ranges.json", c.AWSIPRangesURL)
		assert.Equal(t, "https://www.gstatic.com/ipranges/cloud.json", c.GCPIPRangesURL)
		assert.Empty(t, c.OracleIPRangesURL, "not selected: no URL")
		c.DataDir = t.TempDir()
		e := fixture.Open(t, c)
		names := sourceNames(e)
		assert.Equal(t, "https://ip-ranges.amazonaws.com/ip-ranges.json", names["cloud/aws-official"])
		assert.Equal(t, "https://www.gstatic.com/ipranges/cloud.json", names["cloud/gcp-official"])
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
		assert.Equal(t, "https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json", c.OracleIPRangesURL)
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
	assert.Equal(t, "https://iptoasn.com/data/ip2asn-v4.tsv.gz", d.ASNV4URL)
	assert.Equal(t, "https://iptoasn.com/data/ip2asn-v6.tsv.gz", d.ASNV6URL)
	assert.Equal(t, "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/input/datacenter/ASN.txt", d.HostingASNURL)
	assert.Equal(t, 24*3600.0, float64(d.ASNInterval))
}

func firstPartyGunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}
