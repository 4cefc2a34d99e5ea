package tests_go

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// TestLabelsRealIPv6AddressesOfTaggedASNs draws one random address from
// every range of the real ip2asn-v6 table whose ASN bgp.tools tags
// residential-only (or hosting-only) — validate's asn_tags sampler —
// classifies it with NO caller ASN (the engine finds the ASN and AS name in
// the table) with every real source loaded, and reports the share labelled
// residential (or datacenter/cloud).
func TestLabelsRealIPv6AddressesOfTaggedASNs(t *testing.T) {
	e := fixture.RealEngine(t)
	v6 := filepath.Join(testkit.SharedData(t), "asn", "ip2asn-v6.tsv.gz")
	rows, err := validate.ReadIP2ASNRows(v6)
	require.NoError(t, err)
	require.Len(t, rows, 113209, "SOURCES.md: 113,209 routed ranges")
	spec := fixture.BGPToolsASNames(t, "", validate.SplitAll)
	var truths []validate.Truth
	for _, s := range []validate.SamplerSpec{
		{Kind: validate.KindASNTags, Name: "residential", IP2ASN: v6, Tags: spec.Positive, ExcludeTags: spec.Negative, Type: classifier.TypeResidential, Family: "v6"},
		{Kind: validate.KindASNTags, Name: "hosting", IP2ASN: v6, Tags: spec.Negative, ExcludeTags: spec.Positive, Type: classifier.TypeDatacenter, Family: "v6"},
	} {
		tr, _, err := validate.Sample(s, 3)
		require.NoError(t, err)
		truths = append(truths, tr...)
	}
	rep, err := validate.Score(context.Background(), e, truths)
	require.NoError(t, err)
	res, ok := rep.Origin("residential v6")
	require.True(t, ok)
	host, ok := rep.Origin("hosting v6")
	require.True(t, ok)
	t.Logf("residential-only ASNs, one address per range: %.1f%% residential (%d addresses: %v)", 100*res.Share, res.N, res.Got)
	t.Logf("hosting-only ASNs, one address per range: %.1f%% datacenter or cloud (%d addresses: %v)", 100*host.Share, host.N, host.Got)
	t.Logf("largest residential misses (ranges): %s", labelsTop(res.TopMisses))
	t.Logf("largest hosting misses (ranges): %s", labelsTop(host.TopMisses))
	assert.GreaterOrEqual(t, res.Share, testkit.FloorResidentialV6)
	assert.GreaterOrEqual(t, host.Share, testkit.FloorHostingV6)
	assert.LessOrEqual(t, float64(res.Got[classifier.TypeDatacenter]+res.Got[classifier.TypeCloud])/float64(res.N), 0.10,
		"residential ranges called datacenter or cloud")
	assert.LessOrEqual(t, float64(host.Got[classifier.TypeResidential])/float64(host.N), 0.08,
		"hosting ranges called residential")
}

// labelsTop formats misses.
func labelsTop(misses []validate.Miss) string {
	var parts []string
	for _, m := range misses {
		parts = append(parts, fmt.Sprintf("%s → %s ×%d", m.Label, m.Got, m.Count))
	}
	return strings.Join(parts, "; ")
}
