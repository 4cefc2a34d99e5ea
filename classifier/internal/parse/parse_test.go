package parse

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// entryRow is an Entry in comparable text form.
type entryRow struct{ Prefix, Provider, Region, Service string }

func rows(p Parsed) []entryRow {
	out := make([]entryRow, 0, len(p.Entries))
	for _, e := range p.Entries {
		out = append(out, entryRow{e.Prefix.String(), e.Provider, e.Region, e.Service})
	}
	return out
}

func TestParsersReadTheRealFormats(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		parse     Parser
		want      []entryRow
		records   int
		malformed int
		bogons    int
	}{
		{
			name: "tor bulk list: one IPv4 per line", file: "torbulkexitlist", parse: TorList,
			want: []entryRow{
				{"102.130.113.9/32", "", "", ""}, {"104.244.73.43/32", "", "", ""},
				{"185.220.101.1/32", "", "", ""}, {"2.58.56.35/32", "", "", ""},
			},
			records: 4,
		},
		{
			name: "aws CSV: CRLF, one row per service, the specific service wins over AMAZON",
			file: "cloud/aws/aws_ips.csv", parse: RezmossCSV("aws"),
			want: []entryRow{
				{"3.4.12.4/32", "aws", "eu-west-1", "AMAZON"},
				{"3.5.140.0/22", "aws", "ap-northeast-2", "S3"},
				{"13.34.0.0/16", "aws", "us-east-1", "AMAZON"},
				{"13.34.5.0/24", "aws", "us-east-1", "EC2"},
				{"2600:1f14::/35", "aws", "us-west-2", "EC2"},
			},
			records: 8, malformed: 1,
		},
		{
			name: "azure CSV: empty region of the catch-all tag is filled by the regional tag",
			file: "cloud/azure/azure_ips.csv", parse: RezmossCSV("azure"),
			want: []entryRow{
				{"4.144.0.0/17", "azure", "eastasia", "AzureCloud.eastasia"},
				{"20.38.98.0/24", "azure", "eastus", "AzureStorage.eastus"},
				{"2603:1000::/40", "azure", "australiaeast", "AzureCloud.australiaeast"},
			},
			records: 4,
		},
		{
			name: "cloudflare CSV: no service or region columns",
			file: "cloud/cloudflare/cloudflare_ips.csv", parse: RezmossCSV("cloudflare"),
			want: []entryRow{
				{"103.21.244.0/22", "cloudflare", "", ""}, {"104.16.0.0/13", "cloudflare", "", ""},
				{"2606:4700::/32", "cloudflare", "", ""},
			},
			records: 3,
		},
		{
			name: "oracle CSV: quoted multi-value service",
			file: "cloud/oracle/oracle_ips.csv", parse: RezmossCSV("oracle"),
			want: []entryRow{
				{"40.233.0.0/19", "oracle", "mx-monterrey-1", "OCI"},
				{"134.70.8.0/21", "oracle", "us-ashburn-1", "OSN,OBJECT_STORAGE"},
			},
			records: 2,
		},
		{
			name: "linode CSV: non-canonical IPv6 is canonicalised",
			file: "cloud/linode/linode_ips.csv", parse: RezmossCSV("linode"),
			want: []entryRow{
				{"45.33.0.0/17", "linode", "US-CA", ""}, {"2600:3c00::/32", "linode", "US-TX", ""},
			},
			records: 2,
		},
		{
			name: "vultr CSV: documentation and 6to4 prefixes are dropped as bogons",
			file: "cloud/vultr/vultr_ips.csv", parse: RezmossCSV("vultr"),
			want: []entryRow{
				{"45.32.32.0/19", "vultr", "JP-13", ""}, {"2001:19f0::/32", "vultr", "US-NJ", ""},
			},
			records: 7, bogons: 5,
		},
		{
			name: "jhassine datacenters.csv: every field quoted, vendor becomes provider",
			file: "datacenters.csv", parse: DatacenterCSV,
			want: []entryRow{
				{"1.178.1.0/24", "aws", "", ""}, {"13.64.0.0/11", "azure", "", ""},
				{"34.1.208.0/20", "gcp", "", ""}, {"173.245.48.0/20", "cloudflare", "", ""},
			},
			records: 5, malformed: 1,
		},
		{
			name: "X4BNet CIDR list: blank lines ignored",
			file: "hosting/ipv4.txt", parse: CIDRList,
			want: []entryRow{
				{"1.12.0.0/14", "", "", ""}, {"5.9.0.0/16", "", "", ""}, {"13.34.0.0/16", "", "", ""},
				{"88.198.0.0/16", "", "", ""},
			},
			records: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.parse(testkit.ReadTestdata(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rows(p))
			assert.Equal(t, tt.records, p.Records, "records")
			assert.Equal(t, tt.malformed, p.Malformed, "malformed")
			assert.Equal(t, tt.bogons, p.Bogons, "bogons")
		})
	}
}

func TestParsersCountBadRecordsInsteadOfFailing(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		parse     Parser
		entries   int
		malformed int
	}{
		{"tor list with garbage, CIDR and leading zeros", "1.2.3.4\ngarbage\n10.0.0.0/8\n01.2.3.4\n# comment\n", TorList, 1, 3},
		{"tor list with IPv6 exit", "2a0b:f4c2::1\n", TorList, 1, 0},
		{"CSV with a broken quote", "ip_address,ip_type\r\n\"5.6.7.0/24,IPv4\r\n9.9.9.0/24,IPv4\r\n", RezmossCSV("x"), 0, 1},
		{"CSV row with too few fields", "ip_address,ip_type,service,region\r\n9.9.9.0/24\r\n", RezmossCSV("x"), 1, 0},
		{"CIDR list with host bits set is masked", "9.9.9.9/24\n", CIDRList, 1, 0},
		{"CIDR list rejects a /4 as too broad", "0.0.0.0/0\n16.0.0.0/4\n", CIDRList, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.parse([]byte(tt.data))
			require.NoError(t, err)
			assert.Len(t, p.Entries, tt.entries)
			assert.Equal(t, tt.malformed, p.Malformed)
		})
	}
}

func TestCSVWithoutRequiredHeaderIsAnError(t *testing.T) {
	_, err := RezmossCSV("aws")([]byte("cidr,region\r\n1.2.3.0/24,x\r\n"))
	require.ErrorContains(t, err, `"ip_address"`)
	_, err = DatacenterCSV([]byte("<html><body>404</body></html>"))
	require.Error(t, err)
}

func TestFirstPartyParsersReadTheProvidersOwnFiles(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		parse     Parser
		want      []entryRow
		records   int
		malformed int
		bogons    int
	}{
		{
			name: "AWS ip-ranges.json: one prefix per service, the specific service wins over AMAZON",
			file: "firstparty/ip-ranges.json", parse: AWSIPRanges,
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
			file: "firstparty/cloud.json", parse: GCPCloudJSON,
			want: []entryRow{
				{"34.1.208.0/20", "gcp", "africa-south1", "Google Cloud"},
				{"8.34.208.0/23", "gcp", "europe-west1", "Google Cloud"},
				{"2600:1900:8000::/44", "gcp", "africa-south1", "Google Cloud"},
			},
			records: 4, malformed: 1,
		},
		{
			name: "GCP cloud.json gzipped on disk",
			file: "firstparty/cloud.json.gz", parse: GCPCloudJSON,
			want: []entryRow{
				{"34.1.208.0/20", "gcp", "africa-south1", "Google Cloud"},
				{"8.34.208.0/23", "gcp", "europe-west1", "Google Cloud"},
				{"2600:1900:8000::/44", "gcp", "africa-south1", "Google Cloud"},
			},
			records: 4, malformed: 1,
		},
		{
			name: "Oracle public_ip_ranges.json: regions of CIDRs, tags joined as the service",
			file: "firstparty/public_ip_ranges.json", parse: OracleIPRanges,
			want: []entryRow{
				{"40.233.0.0/19", "oracle", "mx-monterrey-1", "OCI"},
				{"40.233.32.0/19", "oracle", "mx-monterrey-1", ""},
				{"134.70.8.0/21", "oracle", "us-ashburn-1", "OSN,OBJECT_STORAGE"},
			},
			records: 4, malformed: 1,
		},
		{
			name: "Azure Service Tags: the regional service tag wins over AzureCloud",
			file: "firstparty/ServiceTags_Public.json.gz", parse: AzureServiceTags,
			want: []entryRow{
				{"4.144.0.0/17", "azure", "eastasia", "AzureCloud.eastasia"},
				{"20.38.98.0/24", "azure", "eastus", "AzureStorage.eastus"},
				{"2603:1000::/40", "azure", "australiaeast", "AzureCloud.australiaeast"},
			},
			records: 8, malformed: 1,
		},
	}
	for _, tt := range tests {
		data := testkit.ReadTestdata(t, tt.file)
		other, otherName := testkit.Gzip(t, data), "gzipped"
		if strings.HasSuffix(tt.file, ".gz") {
			plain, err := Gunzip(data)
			require.NoError(t, err)
			other, otherName = plain, "plain"
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
	for name, parse := range map[string]Parser{
		"aws": AWSIPRanges, "gcp": GCPCloudJSON,
		"oracle": OracleIPRanges, "azure": AzureServiceTags,
	} {
		for _, body := range []string{`{"something":"else"}`, `<html><body>404</body></html>`, `ip_address,ip_type`} {
			_, err := parse([]byte(body))
			assert.Error(t, err, "%s: %s", name, body)
		}
	}
}

func TestOnionooParsesORAndExitAddresses(t *testing.T) {
	want := []entryRow{
		{"185.220.101.1/32", "", "", ""}, {"2a0b:f4c2:2::1/128", "", "", ""},
		{"198.98.51.189/32", "", "", ""}, {"198.98.60.20/32", "", "", ""},
		{"104.244.73.43/32", "", "", ""}, {"2605:6400:30:f174::42/128", "", "", ""},
		{"2a02:8109:fa7f::9/128", "", "", ""}, {"2a02:8109:fa7f::10/128", "", "", ""},
	}
	plain := testkit.ReadTestdata(t, "onionoo/details.json")
	for name, data := range map[string][]byte{"plain": plain, "gzip": testkit.Gzip(t, plain)} {
		t.Run(name, func(t *testing.T) {
			p, err := Onionoo(data)
			require.NoError(t, err)
			assert.Equal(t, want, rows(p))
			assert.Equal(t, 11, p.Records, "every address listed, the repeated exit address too")
			assert.Equal(t, 1, p.Malformed, "not-an-address:1")
			assert.Equal(t, 1, p.Bogons, "2001:db8::1 is documentation space")
		})
	}
}

func TestOnionooRejectsOtherDocuments(t *testing.T) {
	for _, body := range []string{`{"version":"8.0"}`, `[1,2]`, `<html></html>`, ``} {
		_, err := Onionoo([]byte(body))
		assert.Error(t, err, body)
	}
	p, err := Onionoo([]byte(`{"relays":[]}`))
	require.NoError(t, err, "an empty relay list parses; the validation gate refuses it")
	assert.Zero(t, p.Len())
}
