package tests_go

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// entryRow is an Entry in comparable text form.
type entryRow struct{ Prefix, Provider, Region, Service string }

func rows(p classifier.Parsed) []entryRow {
	out := make([]entryRow, 0, len(p.Entries))
	for _, e := range p.Entries {
		out = append(out, entryRow{e.Prefix.String(), e.Provider, e.Region, e.Service})
	}
	return out
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestParsersReadTheRealFormats(t *testing.T) {
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
			name: "tor bulk list: one IPv4 per line", file: "torbulkexitlist", parse: classifier.ParseTorList,
			want: []entryRow{
				{"102.130.113.9/32", "", "", ""}, {"104.244.73.43/32", "", "", ""},
				{"185.220.101.1/32", "", "", ""}, {"2.58.56.35/32", "", "", ""},
			},
			records: 4,
		},
		{
			name: "aws CSV: CRLF, one row per service, the specific service wins over AMAZON",
			file: "cloud/aws/aws_ips.csv", parse: classifier.CloudCSVParser("aws"),
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
			file: "cloud/azure/azure_ips.csv", parse: classifier.CloudCSVParser("azure"),
			want: []entryRow{
				{"4.144.0.0/17", "azure", "eastasia", "AzureCloud.eastasia"},
				{"20.38.98.0/24", "azure", "eastus", "AzureStorage.eastus"},
				{"2603:1000::/40", "azure", "australiaeast", "AzureCloud.australiaeast"},
			},
			records: 4,
		},
		{
			name: "cloudflare CSV: no service or region columns",
			file: "cloud/cloudflare/cloudflare_ips.csv", parse: classifier.CloudCSVParser("cloudflare"),
			want: []entryRow{
				{"103.21.244.0/22", "cloudflare", "", ""}, {"104.16.0.0/13", "cloudflare", "", ""},
				{"2606:4700::/32", "cloudflare", "", ""},
			},
			records: 3,
		},
		{
			name: "oracle CSV: quoted multi-value service",
			file: "cloud/oracle/oracle_ips.csv", parse: classifier.CloudCSVParser("oracle"),
			want: []entryRow{
				{"40.233.0.0/19", "oracle", "mx-monterrey-1", "OCI"},
				{"134.70.8.0/21", "oracle", "us-ashburn-1", "OSN,OBJECT_STORAGE"},
			},
			records: 2,
		},
		{
			name: "linode CSV: non-canonical IPv6 is canonicalised",
			file: "cloud/linode/linode_ips.csv", parse: classifier.CloudCSVParser("linode"),
			want: []entryRow{
				{"45.33.0.0/17", "linode", "US-CA", ""}, {"2600:3c00::/32", "linode", "US-TX", ""},
			},
			records: 2,
		},
		{
			name: "vultr CSV: documentation and 6to4 prefixes are dropped as bogons",
			file: "cloud/vultr/vultr_ips.csv", parse: classifier.CloudCSVParser("vultr"),
			want: []entryRow{
				{"45.32.32.0/19", "vultr", "JP-13", ""}, {"2001:19f0::/32", "vultr", "US-NJ", ""},
			},
			records: 7, bogons: 5,
		},
		{
			name: "jhassine datacenters.csv: every field quoted, vendor becomes provider",
			file: "datacenters.csv", parse: classifier.ParseDatacenterCSV,
			want: []entryRow{
				{"1.178.1.0/24", "aws", "", ""}, {"13.64.0.0/11", "azure", "", ""},
				{"34.1.208.0/20", "gcp", "", ""}, {"173.245.48.0/20", "cloudflare", "", ""},
			},
			records: 5, malformed: 1,
		},
		{
			name: "X4BNet CIDR list: blank lines ignored",
			file: "hosting/ipv4.txt", parse: classifier.ParseCIDRList,
			want: []entryRow{
				{"1.12.0.0/14", "", "", ""}, {"5.9.0.0/16", "", "", ""}, {"13.34.0.0/16", "", "", ""},
				{"88.198.0.0/16", "", "", ""},
			},
			records: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.parse(readFixture(t, tt.file))
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
		parse     classifier.Parser
		entries   int
		malformed int
	}{
		{"tor list with garbage, CIDR and leading zeros", "1.2.3.4\ngarbage\n10.0.0.0/8\n01.2.3.4\n# comment\n", classifier.ParseTorList, 1, 3},
		{"tor list with IPv6 exit", "2a0b:f4c2::1\n", classifier.ParseTorList, 1, 0},
		{"CSV with a broken quote", "ip_address,ip_type\r\n\"5.6.7.0/24,IPv4\r\n9.9.9.0/24,IPv4\r\n", classifier.CloudCSVParser("x"), 0, 1},
		{"CSV row with too few fields", "ip_address,ip_type,service,region\r\n9.9.9.0/24\r\n", classifier.CloudCSVParser("x"), 1, 0},
		{"CIDR list with host bits set is masked", "9.9.9.9/24\n", classifier.ParseCIDRList, 1, 0},
		{"CIDR list rejects a /4 as too broad", "0.0.0.0/0\n16.0.0.0/4\n", classifier.ParseCIDRList, 0, 0},
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
	_, err := classifier.CloudCSVParser("aws")([]byte("cidr,region\r\n1.2.3.0/24,x\r\n"))
	require.ErrorContains(t, err, `"ip_address"`)
	_, err = classifier.ParseDatacenterCSV([]byte("<html><body>404</body></html>"))
	require.Error(t, err)
}
