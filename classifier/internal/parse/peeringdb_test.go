package parse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

func TestPeeringDBNetReadsAccessAndContentNetworks(t *testing.T) {
	tests := []struct {
		name               string
		file               string
		access, content    asn.Set
		records, malformed int
	}{
		{
			// Today's API: info_types (a list) beside the deprecated info_type.
			// Both access and content (AS65203) is neither; NSP, Not
			// Disclosed say nothing; a string ASN and ASN 0 are malformed.
			name: "info_types list", file: "peeringdb/net.json",
			access: asn.Set{65200, 4200000000}, content: asn.Set{65201}, records: 8, malformed: 2,
		},
		{
			name: "the older info_type string alone", file: "peeringdb/net-info-type.json",
			access: asn.Set{65200}, content: asn.Set{65201}, records: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := testkit.ReadTestdata(t, tt.file)
			for _, body := range [][]byte{data, testkit.Gzip(t, data)} {
				p, err := PeeringDBNet(body)
				require.NoError(t, err)
				assert.Equal(t, tt.access, p.Access)
				assert.Equal(t, tt.content, p.ASNs)
				assert.Equal(t, tt.records, p.Records)
				assert.Equal(t, tt.malformed, p.Malformed)
				assert.Equal(t, len(tt.access)+len(tt.content), p.Len())
			}
			assert.Equal(t, FormatPeeringDB, Detect(data))
		})
	}
}

func TestPeeringDBNetTypesAreReadCaseAndSpaceInsensitive(t *testing.T) {
	p, err := PeeringDBNet([]byte(`{"data":[
		{"asn": 1, "info_type": " cable/dsl/isp "},
		{"asn": 2, "info_types": ["CONTENT"]},
		{"asn": 3, "info_type": "NSP", "info_types": ["Content"]},
		{"asn": 3, "info_type": "Content"},
		{"asn": 5, "info_type": 7, "info_types": "Content"},
		{"asn": 7, "info_type": "Cable/DSL/ISP"},
		{"asn": 7, "info_types": ["Content"]},
		{"asn": 4294967296, "info_type": "Content"},
		{"asn": 6.5, "info_type": "Content"},
		"not an object"
	]}`))
	require.NoError(t, err)
	assert.Equal(t, asn.Set{1}, p.Access)
	assert.Equal(t, asn.Set{2, 3, 5}, p.ASNs, "a network listed twice is kept once; info_types as a bare string is one type; AS7 contradicts itself")
	assert.Equal(t, 10, p.Records)
	assert.Equal(t, 3, p.Malformed, "an ASN past 32 bits, a fraction, a record that is no object")
}

func TestPeeringDBNetRejectsOtherDocuments(t *testing.T) {
	for _, body := range []string{`{"prefixes": []}`, `[]`, `{"data": {"asn": 1}}`, `not json`} {
		_, err := PeeringDBNet([]byte(body))
		assert.Error(t, err, body)
	}
}
