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
)

// TestLabelsRealIPv6AddressesOfTaggedASNs draws one random address from
// every range of the real ip2asn-v6 table whose ASN bgp.tools tags
// residential-only (or hosting-only) — validate's asn_tags sampler —
// classifies it with NO caller ASN (the engine finds the ASN and AS name in
// the table) with every real source loaded, and reports the share labelled
// residential (or datacenter/cloud).
func TestLabelsRealIPv6AddressesOfTaggedASNs(t *testing.T) {
	e := realEngine(t)
	v6 := filepath.Join(sharedData(t), "asn", "ip2asn-v6.tsv.gz")
	require.Len(t, labelsReadIP2ASN(t, v6), 113209, "SOURCES.md: 113,209 routed ranges")
	spec := labelsBGPTools(t, "", validate.SplitAll)
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
	assert.GreaterOrEqual(t, res.Share, labelsFloorResidentialV6)
	assert.GreaterOrEqual(t, host.Share, labelsFloorHostingV6)
	assert.LessOrEqual(t, float64(res.Got[classifier.TypeDatacenter]+res.Got[classifier.TypeCloud])/float64(res.N), 0.10,
		"residential ranges called datacenter or cloud")
	assert.LessOrEqual(t, float64(host.Got[classifier.TypeResidential])/float64(host.N), 0.08,
		"hosting ranges called residential")
}

// Floors a little below the measured figures at seed 0, with the real IPv4
// ip2asn table loaded beside the IPv6 one: 88.1% residential and 81.1%
// datacenter or cloud (80.5% on the even ASNs, 81.5% on the odd ones); the
// targets are 80% and 80%. With the IPv6 table alone they were 88.0% and
// 87.0%: the AS profile learns from both tables, and an ASN that a prefix
// list names through one of its IPv4 ranges becomes a "known" hosting network
// that the profile no longer labels, so its IPv6 ranges that no list holds
// fall to unknown (2.8 of the 5.9 points; the rest is the profile's features
// moving once every ASN has an IPv4 size). docs/validation.md has the
// figures; issue 10 owns raising them. Without the AS profile they were
// 85.4% and 73.2%.
const (
	labelsFloorResidentialV6 = 0.85
	labelsFloorHostingV6     = 0.80
)

// labelsReadIP2ASN reads the routed rows of an iptoasn table as published
// (nested ranges and all).
func labelsReadIP2ASN(t testing.TB, path string) []classifier.ASNRange {
	t.Helper()
	rows, err := validate.ReadIP2ASNRows(path)
	require.NoError(t, err)
	return rows
}

// labelsTop formats misses.
func labelsTop(misses []validate.Miss) string {
	var parts []string
	for _, m := range misses {
		parts = append(parts, fmt.Sprintf("%s → %s ×%d", m.Label, m.Got, m.Count))
	}
	return strings.Join(parts, "; ")
}
