package parse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

func TestProviderAndScannerListsReadTheRealFormats(t *testing.T) {
	tests := []struct {
		name               string
		file               string
		parse              Parser
		want               []entryRow
		records, malformed int
		bogons             int
	}{
		{
			name: "ipranges merged list: one CIDR per line", file: "ipranges/linode/ipv4_merged.txt", parse: ProviderList,
			want:    []entryRow{{"23.92.16.0/20", "", "", ""}, {"45.33.0.0/17", "", "", ""}, {"172.104.0.0/15", "", "", ""}},
			records: 3,
		},
		{
			name: "ipranges list of bare addresses: host prefixes", file: "ipranges/protonvpn/ipv4.txt", parse: ProviderList,
			want:    []entryRow{{"2.58.241.66/32", "", "", ""}, {"5.157.13.2/32", "", "", ""}, {"185.159.157.0/24", "", "", ""}},
			records: 3,
		},
		{
			name: "RFC 8805 geofeed: the region, else the country", file: "ipranges/linode/geofeed.csv", parse: ProviderList,
			want: []entryRow{
				{"23.92.16.0/24", "", "US-NJ", ""}, {"45.33.0.0/17", "", "US-CA", ""},
				{"172.104.0.0/15", "", "DE", ""}, {"2600:3c00::/32", "", "US-TX", ""},
			},
			records: 4,
		},
		{
			name: "maltrail mass scanners: the name of each, documentation space dropped",
			file: "maltrail/mass_scanner.txt", parse: MassScanners,
			want: []entryRow{
				{"129.82.138.12/32", "colostate", "", ""}, {"162.142.125.10/32", "censys", "", ""},
				{"167.94.138.35/32", "censys-scanner", "", ""}, {"165.227.55.4/32", "shodan", "", ""},
				{"104.131.209.10/32", "binaryedge", "", ""}, {"185.50.66.1/32", "anssi", "", ""},
				{"62.224.10.20/32", "example-uni", "", ""}, {"88.198.7.7/32", "stretchoid", "", ""},
				{"5.188.210.227/32", "", "", ""}, {"141.212.121.10/32", "umich", "", ""},
				{"2001:550:2:1::27:2/128", "openportstats", "", ""},
			},
			records: 13, malformed: 1, bogons: 1,
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
			checkParsed(t, p)
		})
	}
}

func TestScannerNameIsTheRegisteredNameOrTheOrganisation(t *testing.T) {
	for in, want := range map[string]string{
		" censys.io":                    "censys",
		"kiwi.census.shodan.io.":        "shodan",
		"pinger-e1.ant.isi.edu":         "isi",
		"scanner.example.co.uk":         "example",
		"research.cs.example.ac.jp":     "example",
		"ANSSI":                         "anssi",
		"Palo Alto Networks (Cortex X)": "palo-alto-networks-cortex-x",
		"openportstats.com\t":           "openportstats",
		"73.218.1.2":                    "",
		"2001:db8::1":                   "",
		"10.0.0.0/8":                    "",
		"":                              "",
		"...":                           "",
		"ünïcode-scanner.net":           "n-code-scanner",
		"a-very-long-organisation-name-that-goes-on-and-on-forever": "a-very-long-organisation-name-that-goes-on-and-o",
	} {
		got := ScannerName(in)
		assert.Equal(t, want, got, "ScannerName(%q)", in)
		assert.Regexp(t, `^[a-z0-9-]*$`, got)
		assert.LessOrEqual(t, len(got), maxScannerName)
	}
}

func TestDetectNamesTheNewListFormats(t *testing.T) {
	for file, want := range map[string]string{
		"maltrail/mass_scanner.txt":   FormatScanners,
		"ipranges/linode/geofeed.csv": FormatProviders,
		"ipranges/protonvpn/ipv4.txt": FormatTorList, // bare addresses read as an address list, the same entries
	} {
		assert.Equal(t, want, Detect(testkit.ReadTestdata(t, file)), file)
	}
}
