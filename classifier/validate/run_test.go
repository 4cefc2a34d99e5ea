package validate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func validateMin(v float64) *float64 { return &v }

func validateTarget(t *testing.T, out validate.Outcome, name string) validate.TargetResult {
	t.Helper()
	for _, r := range out.Targets {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no target %q in %+v", name, out.Targets)
	return validate.TargetResult{}
}

// TestValidateRunASpecAgainstTheFixtureEngine runs a spec with every kind
// of item: a labelled file, two samplers, an AS-name run and targets met,
// missed, only reported and naming nothing measured.
func TestValidateRunASpecAgainstTheFixtureEngine(t *testing.T) {
	e := fixture.Loaded(t)
	spec := validate.Spec{
		Seed:  3,
		Truth: []string{testkit.Testdata("validate/labelled.csv")},
		Samplers: []validate.SamplerSpec{
			{Kind: validate.KindTor, Name: "bulk", File: testkit.Testdata("torbulkexitlist")},
			{Kind: validate.KindCloud, Name: "gcp", File: testkit.Testdata("cloud/googlecloud/googlecloud_ips.csv"), Provider: "googlecloud"},
		},
		Count: 20,
		ASNames: []validate.ASNamesSpec{{
			Label: "names", Names: testkit.Testdata("validate/asns.csv"),
			Positive: []string{testkit.Testdata("validate/tags-res.csv")}, Negative: []string{testkit.Testdata("validate/tags-host.csv")},
		}},
		Targets: []validate.TargetSpec{
			{Name: "bulk → tor", Origin: "bulk v4", Min: validateMin(1)},
			{Name: "gcp v4 → cloud/gcp", Origin: "gcp v4", Min: validateMin(0.995)},
			{Name: "residential recall", ASNames: "names", Metric: "residential_recall", Min: validateMin(0.9)},
			{Name: "hosting recall", ASNames: "names", Metric: "hosting_recall"},
			{Name: "nothing", Origin: "no such origin", Min: validateMin(0.5)},
		},
	}
	// The spec goes through its JSON form, as the C ABI passes it.
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	spec, err = validate.ParseSpec(b)
	require.NoError(t, err)
	out, err := validate.Run(context.Background(), e, spec)
	require.NoError(t, err)

	require.NotNil(t, out.Report)
	assert.Equal(t, 13+4+20+20, out.Report.Total, "labelled file, bulk list, 20 per family from the cloud file")
	require.Len(t, out.Samples, 2)
	assert.Equal(t, []string{"gcp v4", "gcp v6"}, out.Samples[1].Origins)
	assert.Equal(t, 40, out.Samples[1].Drawn)

	tor := validateTarget(t, out, "bulk → tor")
	assert.Equal(t, 1.0, tor.Value)
	assert.Equal(t, 4, tor.N)
	assert.True(t, *tor.Met)
	assert.True(t, *validateTarget(t, out, "gcp v4 → cloud/gcp").Met)
	rec := validateTarget(t, out, "residential recall")
	assert.Equal(t, 0.5, rec.Value)
	assert.False(t, *rec.Met)
	assert.Nil(t, validateTarget(t, out, "hosting recall").Met, "reported only")
	nothing := validateTarget(t, out, "nothing")
	assert.True(t, nothing.Missing)
	assert.False(t, *nothing.Met)
	assert.Equal(t, 2, out.TargetsMissed)

	for _, s := range []string{
		"### Targets", "| bulk → tor | 100.0% | 4 | ≥ 100.0% | yes |", "| residential recall | 50.0% | 4 | ≥ 90.0% | no |",
		"| hosting recall | 50.0% | 4 | reported |  |", "| nothing | not measured | 0 | ≥ 50.0% | no |",
		"### AS-name heuristic alone", "### Samples (seed 3)", "### Labels against truth (57 addresses, 1 invalid skipped)",
		"| gcp v6 | cloud | 20 | 20 | 100.0% |", "Confusion (rows expected, columns got)",
	} {
		assert.Contains(t, out.Markdown, s)
	}

	// The JSON outcome carries the markdown and the figures.
	b, err = json.Marshal(out)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"seed", "samples", "report", "asn_names", "targets", "targets_missed", "markdown"} {
		assert.Contains(t, m, k)
	}
	report := m["report"].(map[string]any)
	for _, k := range []string{"total", "invalid", "types", "providers", "origins", "confusion"} {
		assert.Contains(t, report, k)
	}

	// Same spec, same seed: the same outcome.
	again, err := validate.Run(context.Background(), e, spec)
	require.NoError(t, err)
	assert.Equal(t, out.Markdown, again.Markdown)
}

func TestValidateSpecErrors(t *testing.T) {
	_, err := validate.ParseSpec([]byte(`{"seed": 1, "truht": []}`))
	require.Error(t, err)
	assert.True(t, validate.IsSpecError(err))
	_, err = validate.ParseSpec([]byte(`{"seed": -1}`))
	assert.Error(t, err)

	e := fixture.Loaded(t)
	for name, spec := range map[string]validate.Spec{
		"missing truth file": {Truth: []string{filepath.Join(t.TempDir(), "nope.csv")}},
		"bad truth file":     {Truth: []string{testkit.WriteTemp(t, "1.2.3.4,vpn\n")}},
		"bad sampler":        {Samplers: []validate.SamplerSpec{{Kind: "dns"}}},
		"bad asn_names":      {ASNames: []validate.ASNamesSpec{{Names: "x"}}},
		"not a data folder":  {RealData: t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := validate.Run(context.Background(), e, spec)
			require.Error(t, err)
			assert.True(t, validate.IsSpecError(err), "%v", err)
		})
	}
	_, err = validate.Run(context.Background(), nil, validate.Spec{Truth: []string{testkit.Testdata("validate/labelled.csv")}})
	assert.True(t, validate.IsSpecError(err), "no engine: %v", err)
}

func TestValidateWriteOnionooFromExits(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "details.json")
	require.NoError(t, validate.WriteOnionooFromExits(testkit.Testdata("validate/latest.exits.csv"), dst))
	b, err := os.ReadFile(dst)
	require.NoError(t, err)
	p, err := parse.Onionoo(b)
	require.NoError(t, err)
	var got []string
	for _, e := range p.Entries {
		got = append(got, e.Prefix.String())
	}
	assert.ElementsMatch(t, []string{"204.8.96.141/32", "2620:7:6003::141/128", "185.220.101.1/32", "2a0b:f4c2:2::1/128"}, got)
}

// TestValidateSurveysAPlainAddressList classifies an address list with no
// truth and counts the answers: each distinct address once, invalid lines
// counted apart.
func TestValidateSurveysAPlainAddressList(t *testing.T) {
	e := fixture.Loaded(t)
	spec := validate.Spec{Addresses: []string{testkit.Testdata("validate/addresses.txt")}}
	require.True(t, spec.NeedsEngine())
	out, err := validate.Run(context.Background(), e, spec)
	require.NoError(t, err)
	require.Len(t, out.Surveys, 1)
	s := out.Surveys[0]
	assert.Equal(t, "addresses.txt", s.File)
	assert.Equal(t, 9, s.Lines, "comments and blank lines are not lines of addresses")
	assert.Equal(t, 7, s.Addresses, "24.0.0.1 twice counts once")
	assert.Equal(t, 1, s.Invalid)
	assert.Equal(t, []string{"not-an-ip"}, s.InvalidExamples)
	assert.Equal(t, 6, s.IPv4)
	assert.Equal(t, 1, s.IPv6)
	assert.Equal(t, 5, s.Covered)
	assert.InDelta(t, 5.0/7, s.Coverage, 1e-9)
	assert.Equal(t, map[classifier.IPType]int{
		classifier.TypeTor: 1, classifier.TypeCloud: 1, classifier.TypeDatacenter: 1,
		classifier.TypeResidential: 2, classifier.TypeUnknown: 2,
	}, s.ByType)
	assert.Equal(t, map[string]int{
		classifier.SourceTor: 1, "cloud_ranges_aws": 1, classifier.SourceDatacenter: 1,
		classifier.SourceASNName: 2, classifier.SourceNone: 2,
	}, s.BySource)
	assert.Equal(t, 1, s.BySnapshot["datacenter/x4bnet-ipv4"])
	assert.Equal(t, 2, s.BySnapshot["asn/ip2asn-v4"], "the AS-name answers name the table their name came from")
	bands := map[string]int{}
	for _, b := range s.Confidence {
		bands[b.Label] = b.N
	}
	assert.Equal(t, map[string]int{"0": 2, "(0, 0.5)": 0, "[0.5, 0.7)": 0, "[0.7, 0.9)": 3, "[0.9, 1]": 2}, bands)
	assert.Contains(t, out.Markdown, "### Survey of addresses.txt (no truth)")
	assert.Contains(t, out.Markdown, "**Coverage: 71.4%** (5 labelled, 2 unknown)")
}

func TestValidateSurveyOfAMissingFileIsASpecError(t *testing.T) {
	_, err := validate.Run(context.Background(), fixture.Loaded(t), validate.Spec{Addresses: []string{filepath.Join(t.TempDir(), "none.txt")}})
	require.Error(t, err)
	assert.True(t, validate.IsSpecError(err))
}
