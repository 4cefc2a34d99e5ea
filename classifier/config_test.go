package classifier_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// env is a LookupEnv over a fixed set of variables.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestWithDefaultsReadsEveryOverrideThroughLookupEnv(t *testing.T) {
	t.Setenv("TOR_BULK_LIST_URL", "http://process-environment/tor") // must not be read
	c := classifier.Config{LookupEnv: env(map[string]string{
		"IPCLASSIFIER_DATA_DIR":         "/srv/ipc",
		"TOR_BULK_LIST_URL":             "http://host/tor",
		"ONIONOO_URL":                   "http://host/onionoo",
		"CLOUD_RANGES_BASE_URL":         "http://host/cloud",
		"DATACENTER_RANGES_URL":         "http://host/dc.csv",
		"HOSTING_RANGES_BASE_URL":       "http://host/hosting",
		"HOSTING_ASN_URL":               "http://host/ASN.txt",
		"ASN_V4_URL":                    "http://host/v4.tsv.gz",
		"ASN_V6_URL":                    "http://host/v6.tsv.gz",
		"AWS_IP_RANGES_URL":             "http://host/ip-ranges.json",
		"IPCLASSIFIER_DISABLED_SOURCES": "tor/onionoo, asn/ip2asn-v6",
		"IPCLASSIFIER_NO_ASN_PROFILE":   "yes",
		"IPCLASSIFIER_ASN_PROFILE":      "1",
		"IPCLASSIFIER_USER_AGENT":       "sensor-7",
	})}.WithDefaults()
	assert.Equal(t, "/srv/ipc", c.DataDir)
	assert.Equal(t, "http://host/tor", c.TorURL)
	assert.Equal(t, "http://host/onionoo", c.OnionooURL)
	assert.Equal(t, "http://host/cloud", c.CloudBaseURL)
	assert.Equal(t, "http://host/dc.csv", c.DatacenterURL)
	assert.Equal(t, "http://host/hosting", c.HostingBaseURL)
	assert.Equal(t, "http://host/ASN.txt", c.HostingASNURL)
	assert.Equal(t, "http://host/v4.tsv.gz", c.ASNV4URL)
	assert.Equal(t, "http://host/v6.tsv.gz", c.ASNV6URL)
	assert.Equal(t, "http://host/ip-ranges.json", c.AWSIPRangesURL)
	assert.Equal(t, []string{"aws"}, c.FirstParty, "a first-party URL in the environment selects its provider")
	assert.Equal(t, []string{"tor/onionoo", "asn/ip2asn-v6"}, c.DisabledSources)
	assert.True(t, c.NoASNProfile)
	assert.True(t, c.ASNProfile)
	assert.Equal(t, "sensor-7", c.UserAgent)
}

func TestDefaultDataDirFollowsTheLookedUpHomeAndXDG(t *testing.T) {
	tests := []struct {
		name     string
		explicit string
		vars     map[string]string
		want     string
	}{
		{"XDG_CACHE_HOME first", "", map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/home/h"}, filepath.Join("/x", "ipclassifier")},
		{"then HOME", "", map[string]string{"HOME": "/home/h"}, filepath.Join("/home/h", ".cache", "ipclassifier")},
		{"IPCLASSIFIER_DATA_DIR beats both", "", map[string]string{"IPCLASSIFIER_DATA_DIR": "/d", "XDG_CACHE_HOME": "/x"}, "/d"},
		{"an explicit DataDir beats the environment", "/explicit", map[string]string{"IPCLASSIFIER_DATA_DIR": "/d"}, "/explicit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := classifier.Config{DataDir: tt.explicit, LookupEnv: env(tt.vars)}
			assert.Equal(t, tt.want, c.WithDefaults().DataDir)
		})
	}
}

func TestNilLookupEnvIsTheProcessEnvironment(t *testing.T) {
	t.Setenv("TOR_BULK_LIST_URL", "http://process-environment/tor")
	assert.Equal(t, "http://process-environment/tor", classifier.Config{}.WithDefaults().TorURL)
}
