package validate_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func validateReadLabelled(t testing.TB, name string) []validate.Truth {
	t.Helper()
	f, err := os.Open(testkit.Testdata("validate/" + name))
	require.NoError(t, err)
	defer f.Close()
	truths, err := validate.ReadLabelledCSV(f, name)
	require.NoError(t, err)
	return truths
}

func validateType(r validate.Report, typ classifier.IPType) validate.TypeScore {
	for _, s := range r.Types {
		if s.Type == typ {
			return s
		}
	}
	return validate.TypeScore{}
}

// TestValidateScoreOnALabelledFile scores testdata/validate/labelled.csv
// (13 addresses and one that is not an address; its comments say what the
// fixture engine answers) against figures computed by hand.
func TestValidateScoreOnALabelledFile(t *testing.T) {
	e := fixture.Loaded(t)
	truths := validateReadLabelled(t, "labelled.csv")
	require.Len(t, truths, 14)
	assert.Equal(t, "gcp", truths[3].Provider, "the folder name googlecloud reads as provider gcp")
	rep, err := validate.Score(context.Background(), e, truths)
	require.NoError(t, err)

	assert.Equal(t, 13, rep.Total)
	assert.Equal(t, []string{"not-an-ip"}, rep.Invalid)
	// type: expected, predicted, correct, covered.
	want := map[classifier.IPType][4]int{
		classifier.TypeTor:         {2, 2, 2, 2},
		classifier.TypeCloud:       {4, 3, 3, 4}, // 13.64.1.1 answered datacenter
		classifier.TypeDatacenter:  {1, 4, 1, 1}, // 13.64.1.1, 5.9.1.1 and 46.249.32.1 wrongly
		classifier.TypeResidential: {5, 2, 2, 4}, // 81.2.69.142 unknown: not covered
		classifier.TypeUnknown:     {1, 2, 1, 0}, // an unknown answer covers nothing
	}
	for typ, w := range want {
		s := validateType(rep, typ)
		assert.Equal(t, w, [4]int{s.Expected, s.Predicted, s.Correct, s.Covered}, typ)
	}
	cloud := validateType(rep, classifier.TypeCloud)
	assert.InDelta(t, 1.0, cloud.Precision, 1e-9)
	assert.InDelta(t, 0.75, cloud.Recall, 1e-9)
	assert.InDelta(t, 1.0, cloud.Coverage, 1e-9)
	dc := validateType(rep, classifier.TypeDatacenter)
	assert.InDelta(t, 0.25, dc.Precision, 1e-9)
	assert.InDelta(t, 1.0, dc.Recall, 1e-9)
	res := validateType(rep, classifier.TypeResidential)
	assert.InDelta(t, 1.0, res.Precision, 1e-9)
	assert.InDelta(t, 0.4, res.Recall, 1e-9)
	assert.InDelta(t, 0.8, res.Coverage, 1e-9)
	unk := validateType(rep, classifier.TypeUnknown)
	assert.InDelta(t, 0.5, unk.Precision, 1e-9)
	assert.InDelta(t, 0.0, unk.Coverage, 1e-9)

	assert.Equal(t, []validate.ProviderScore{
		{Provider: "aws", Expected: 2, Correct: 1, Agreement: 0.5}, // 8.34.208.5 is gcp's
		{Provider: "azure", Expected: 1, Correct: 0, Agreement: 0},
		{Provider: "gcp", Expected: 1, Correct: 1, Agreement: 1},
	}, rep.Providers)

	assert.Equal(t, map[classifier.IPType]map[classifier.IPType]int{
		classifier.TypeTor:         {classifier.TypeTor: 2},
		classifier.TypeCloud:       {classifier.TypeCloud: 3, classifier.TypeDatacenter: 1},
		classifier.TypeDatacenter:  {classifier.TypeDatacenter: 1},
		classifier.TypeResidential: {classifier.TypeDatacenter: 2, classifier.TypeResidential: 2, classifier.TypeUnknown: 1},
		classifier.TypeUnknown:     {classifier.TypeUnknown: 1},
	}, rep.Confusion)

	o, ok := rep.Origin("labelled.csv")
	require.True(t, ok)
	assert.Equal(t, classifier.IPType(""), o.Expected, "a labelled file expects several types")
	assert.Equal(t, 13, o.N)
	assert.Equal(t, 8, o.Right, "right type, and right provider where one is labelled")
	assert.Equal(t, 11, o.Covered)

	md := rep.Markdown()
	for _, s := range []string{
		"### Labels against truth (13 addresses, 1 invalid skipped)",
		"| cloud | 4 | 3 | 3 | 100.0% | 75.0% | 100.0% |",
		"| datacenter | 1 | 4 | 1 | 25.0% | 100.0% | 100.0% |",
		"| residential | 5 | 2 | 2 | 100.0% | 40.0% | 80.0% |",
		"| aws | 2 | 1 | 50.0% |",
		"| labelled.csv | as labelled | 13 | 8 | 61.5% | 84.6% |",
		"| residential | 0 | 0 | 2 | 2 | 1 |",
	} {
		assert.Contains(t, md, s)
	}
}

func TestValidateReadLabelledCSV(t *testing.T) {
	t.Run("header, comments, blank lines and quoting", func(t *testing.T) {
		in := "ip,expected_type,expected_provider\n# a comment\n\n1.2.3.4, Cloud ,\"AWS\"\n2001:db8::1,unknown\n"
		got, err := validate.ReadLabelledCSV(strings.NewReader(in), "x.csv")
		require.NoError(t, err)
		assert.Equal(t, []validate.Truth{
			{IP: "1.2.3.4", Type: classifier.TypeCloud, Provider: "aws", Origin: "x.csv"},
			{IP: "2001:db8::1", Type: classifier.TypeUnknown, Origin: "x.csv"},
		}, got)
	})
	t.Run("no header", func(t *testing.T) {
		got, err := validate.ReadLabelledCSV(strings.NewReader("1.2.3.4,tor\n"), "x.csv")
		require.NoError(t, err)
		assert.Len(t, got, 1)
	})
	for _, tt := range []struct{ name, in, want string }{
		{"unknown type names its line", "ip,expected_type\n# c\n1.2.3.4,tor\n5.6.7.8,vpn\n", `x.csv line 4: unknown type "vpn"`},
		{"one field", "ip,expected_type\n1.2.3.4\n", "x.csv line 2: want ip,expected_type"},
		{"broken quoting", "1.2.3.4,\"tor\n", "read labelled CSV x.csv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validate.ReadLabelledCSV(strings.NewReader(tt.in), "x.csv")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestValidateScoreOfAClosedEngineIsAnError(t *testing.T) {
	e := fixture.Loaded(t)
	require.NoError(t, e.Close())
	_, err := validate.Score(context.Background(), e, []validate.Truth{{IP: "1.2.3.4", Type: classifier.TypeTor}})
	assert.ErrorIs(t, err, classifier.ErrClosed)
}
