package classifier

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// The cloud and datacenter URLs take upstream's forms (a repository base)
// and ours (a file), with its default values; an unusable URL is an error
// naming the parameter.
func TestSourceURLsResolveUpstreamForms(t *testing.T) {
	gcp := parse.Folder{Folder: "googlecloud", Provider: "gcp"}
	tests := []struct {
		name, cloud, datacenter string
		wantGCP, wantDatacenter string
		wantErr                 string
	}{
		{name: "upstream defaults",
			cloud: "https://raw.githubusercontent.com/rezmoss/cloud-provider-ip-addresses/main", datacenter: "https://raw.githubusercontent.com/jhassine/server-ip-addresses/main",
			wantGCP:        "https://raw.githubusercontent.com/rezmoss/cloud-provider-ip-addresses/main/googlecloud/googlecloud_ips.csv",
			wantDatacenter: "https://raw.githubusercontent.com/jhassine/server-ip-addresses/master/data/datacenters.csv"},
		{name: "a base with a trailing slash",
			cloud: "http://mirror.lan/rezmoss/", datacenter: "http://mirror.lan/jhassine/",
			wantGCP: "http://mirror.lan/rezmoss/googlecloud/googlecloud_ips.csv", wantDatacenter: "http://mirror.lan/jhassine/data/datacenters.csv"},
		{name: "files",
			cloud: "file:///srv/rezmoss/aws/aws_ips.csv", datacenter: "file:///srv/jhassine/data/datacenters.csv",
			wantGCP: "file:///srv/rezmoss/googlecloud/googlecloud_ips.csv", wantDatacenter: "file:///srv/jhassine/data/datacenters.csv"},
		{name: "a template in upstream's layout",
			cloud: "http://mirror.lan/clouds/{provider}/ipv4.csv", datacenter: "http://mirror.lan/dc.csv",
			wantGCP: "http://mirror.lan/clouds/gcp/ipv4.csv", wantDatacenter: "http://mirror.lan/dc.csv"},
		{name: "a cloud file that is not a rezmoss file",
			cloud: "http://mirror.lan/clouds/aws/ipv4.csv", datacenter: "http://mirror.lan/dc.csv",
			wantErr: `cloud_base_url "http://mirror.lan/clouds/aws/ipv4.csv": names a file, not the base`},
		{name: "no scheme",
			cloud: "raw.githubusercontent.com/rezmoss", datacenter: "http://mirror.lan/dc.csv",
			wantErr: `cloud_base_url "raw.githubusercontent.com/rezmoss": no scheme`},
		{name: "unsupported scheme",
			cloud: "http://mirror.lan/r", datacenter: "ftp://mirror.lan/dc.csv",
			wantErr: `datacenter_url "ftp://mirror.lan/dc.csv": scheme "ftp" is not supported`},
		{name: "no host",
			cloud: "https:///rezmoss", datacenter: "http://mirror.lan/dc.csv",
			wantErr: `cloud_base_url "https:///rezmoss": no host`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{CloudBaseURL: tt.cloud, DatacenterURL: tt.datacenter, DataDir: t.TempDir()}.WithDefaults()
			urls, err := c.resolveURLs()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				_, err = Open(c)
				require.ErrorContains(t, err, tt.wantErr, "Open refuses it")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantGCP, urls.cloud(gcp))
			assert.Equal(t, tt.wantDatacenter, urls.datacenter)
			var got []string
			for _, s := range c.sources() {
				got = append(got, s.URL)
			}
			assert.Contains(t, got, tt.wantGCP)
			assert.Contains(t, got, tt.wantDatacenter)
		})
	}
}

// cloud_label_providers names the providers answered cloud; the other
// cloud lists are answered as datacenter ranges.
func TestCloudLabelPolicy(t *testing.T) {
	c := Config{CloudLabelProviders: []string{"AWS", "googlecloud", "azure", "cloudflare"}}.WithDefaults()
	assert.Equal(t, []string{"aws", "gcp", "azure", "cloudflare"}, c.CloudLabelProviders)
	require.NoError(t, c.validate())
	types := map[string]IPType{}
	for _, s := range c.sources() {
		types[s.Name] = s.Type
	}
	assert.Equal(t, TypeCloud, types["cloud/aws"])
	assert.Equal(t, TypeCloud, types["cloud/gcp"])
	assert.Equal(t, TypeDatacenter, types["cloud/digitalocean"])
	assert.Equal(t, TypeDatacenter, types["cloud/vultr"])

	bad := Config{CloudLabelProviders: []string{"aws", "hetzner"}}.WithDefaults()
	require.ErrorContains(t, bad.validate(), `cloud_label_providers: unknown provider "hetzner"`)
}
