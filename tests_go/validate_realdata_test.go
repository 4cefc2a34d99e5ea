package tests_go

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// TestValidateRealDataSuite runs the standard suite (validate.RealDataSpec)
// on ../shared/data: the figures docs/validation.md reports. The cloud and
// Tor targets must be met; the others must stay at or above what they
// were when written (the AS-name residential recall target and issue 10's
// per-address targets are not all reached: see docs/validation.md).
func TestValidateRealDataSuite(t *testing.T) {
	dir := testkit.SharedData(t)
	out, err := validate.Run(context.Background(), nil, validate.Spec{RealData: dir})
	require.NoError(t, err)
	t.Logf("\n%s", out.Markdown)
	floors := map[string]float64{
		"AS-name residential precision (held-out)":   0.95,
		"AS-name residential recall (held-out)":      testkit.FloorASNameResidentialRecall,
		"AS-name hosting recall (held-out)":          testkit.FloorASNameHostingRecall,
		"AS-name hosting precision (held-out)":       0.95,
		"IPv6 of residential ASNs → residential":     testkit.FloorResidentialV6,
		"IPv6 of hosting ASNs → datacenter or cloud": testkit.FloorHostingV6,
		// The same on each half of the ASNs (the AS profile, off by default
		// now, was tuned on the even ones): 86.5% and 74.2% on the even,
		// 87.1% and 73.8% on the odd ones with both ip2asn tables loaded.
		"the same, tuning even ASNs: residential":          testkit.FloorResidentialV6,
		"the same, tuning even ASNs: datacenter or cloud":  testkit.FloorHostingV6,
		"the same, held-out odd ASNs: residential":         testkit.FloorResidentialV6,
		"the same, held-out odd ASNs: datacenter or cloud": testkit.FloorHostingV6,
		"IPv4 of residential ASNs → residential":           testkit.FloorResidentialV4,
		"IPv4 of hosting ASNs → datacenter or cloud":       testkit.FloorHostingV4,
		"IPv4 space of residential ASNs → residential":     testkit.FloorResidentialV4Space,
		"IPv4 space of hosting ASNs → datacenter or cloud": testkit.FloorHostingV4Space,
		"precision of the AS-name heuristic's answers":     testkit.FloorPrecisionASName,
		"precision of the hosting-ASN list's answers":      testkit.FloorPrecisionHostingASN,
	}
	for name, floor := range testkit.FloorsV4Space {
		floors[name] = floor
	}
	seen := 0
	for _, r := range out.Targets {
		if r.Name == realProfileTarget {
			assert.True(t, r.Missing, "the AS profile is off by default: it answers nothing")
			continue
		}
		assert.False(t, r.Missing, r.Name)
		if floor, ok := floors[r.Name]; ok {
			assert.GreaterOrEqual(t, r.Value, floor, r.Name)
			seen++
			continue
		}
		// cloud and Tor targets
		require.NotNil(t, r.Met, r.Name)
		assert.True(t, *r.Met, "%s: %.4f", r.Name, r.Value)
		assert.Positive(t, r.N, r.Name)
	}
	assert.Equal(t, len(floors), seen)
	assert.Len(t, out.Targets, 4+6+4+16+3+7+3, "AS-name, IPv6 (all, even and odd ASNs), IPv4 (by range and by size; by size: precision and coverage, and each half), rule precisions, cloud (aws, gcp, azure v4+v6, oracle v4), Tor")
	var failed []string
	for _, l := range out.Engine {
		if strings.Contains(l, "failed") {
			failed = append(failed, l)
		}
	}
	assert.Empty(t, failed, "every source of the folder loads, the IPv4 ip2asn table included")
	assert.Contains(t, out.Engine, "`asn/ip2asn-v4`: updated, 411961 entries from asn/ip2asn-v4.tsv.gz", "SOURCES.md §8: 411,961 routed IPv4 ranges")
}

// realProfileTarget is the standard suite's figure of the AS profile.
const realProfileTarget = "precision of the AS profile's answers"

// TestValidateRealDataASNProfilePrecision measures the AS profile turned on
// ($IPCLASSIFIER_ASN_PROFILE, as a user would): the precision of its
// answers over the tagged IPv4 and IPv6 ranges of the standard suite. It
// is far below the 95% that would earn it a place by default (issue 10),
// which is why it is off; the floor keeps it from getting worse unseen.
func TestValidateRealDataASNProfilePrecision(t *testing.T) {
	dir := testkit.SharedData(t)
	t.Setenv("IPCLASSIFIER_ASN_PROFILE", "1")
	out, err := validate.Run(context.Background(), nil, validate.Spec{RealData: dir})
	require.NoError(t, err)
	for _, r := range out.Targets {
		if r.Name == realProfileTarget {
			t.Logf("AS profile on: %.1f%% of %d answers right", 100*r.Value, r.N)
			require.False(t, r.Missing, "the profile answered")
			assert.Positive(t, r.N)
			assert.GreaterOrEqual(t, r.Value, testkit.FloorPrecisionASNProfile)
			assert.Less(t, r.Value, 0.95, "if the profile reaches 95%, it may be on by default again (Config.ASNProfile)")
			return
		}
	}
	t.Fatal("no AS-profile target in the standard suite")
}
