package validate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// TestValidateASNamesScorer scores the AS-name heuristic on a hand-written
// asns.csv and two tag files (testdata/validate). Residential-only ASNs:
// 3320 Deutsche Telekom (right), 7922 Comcast (right; its name holds a
// comma), 20712 Andrews & Arnold (says nothing: missed), 3209 "Cheap VPS
// Fiber" (called datacenter: a false hosting answer), 64503 and 36974 (no
// name). Hosting-only: 16509 AMAZON-02 and 50673 SERVERIUS-AS (right),
// 64500 "Brava Internet" (called residential: a false residential answer),
// 64501 Zayo (says nothing), 24940 (no name). 64502 is tagged both ways.
func TestValidateASNamesScorer(t *testing.T) {
	spec := validate.ASNamesSpec{
		Names:    testkit.Testdata("validate/asns.csv"),
		Positive: []string{testkit.Testdata("validate/tags-res.csv")},
		Negative: []string{testkit.Testdata("validate/tags-host.csv")},
		Examples: 10,
	}
	tests := []struct {
		split             string
		res, host         validate.ClassScore
		both, unnamed     int
		falseRes, missRes []string
	}{
		{
			validate.SplitAll,
			validate.ClassScore{N: 4, Right: 2, False: 1, Precision: 2.0 / 3, Recall: 0.5},
			validate.ClassScore{N: 4, Right: 2, False: 1, Precision: 2.0 / 3, Recall: 0.5},
			1, 3,
			[]string{"AS64500 Brava Internet [internet]"},
			[]string{"AS20712 ANDREWS-AS Andrews & Arnold Ltd []"},
		},
		{
			validate.SplitEven,
			validate.ClassScore{N: 3, Right: 2, False: 1, Precision: 2.0 / 3, Recall: 2.0 / 3},
			validate.ClassScore{N: 1, Right: 0, False: 0, Precision: 0, Recall: 0},
			1, 2,
			[]string{"AS64500 Brava Internet [internet]"},
			[]string{"AS20712 ANDREWS-AS Andrews & Arnold Ltd []"},
		},
		{
			validate.SplitOdd,
			validate.ClassScore{N: 1, Right: 0, False: 0, Precision: 0, Recall: 0},
			validate.ClassScore{N: 3, Right: 2, False: 1, Precision: 2.0 / 3, Recall: 2.0 / 3},
			0, 1,
			nil, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.split, func(t *testing.T) {
			s := spec
			s.Split = tt.split
			got, err := validate.ScoreASNames(s)
			require.NoError(t, err)
			assert.InDelta(t, tt.res.Precision, got.Residential.Precision, 1e-9)
			assert.InDelta(t, tt.host.Precision, got.Hosting.Precision, 1e-9)
			tt.res.Precision, tt.host.Precision = got.Residential.Precision, got.Hosting.Precision
			assert.Equal(t, tt.res, got.Residential)
			assert.Equal(t, tt.host, got.Hosting)
			assert.Equal(t, tt.both, got.Both)
			assert.Equal(t, tt.unnamed, got.Unnamed)
			assert.Equal(t, tt.falseRes, got.FalseResidential)
			assert.Equal(t, tt.missRes, got.MissedResidential)
			assert.Equal(t, tt.split, got.Split)
		})
	}
	t.Run("examples off by default", func(t *testing.T) {
		s := spec
		s.Examples = 0
		got, err := validate.ScoreASNames(s)
		require.NoError(t, err)
		assert.Nil(t, got.FalseResidential)
		assert.Nil(t, got.FalseHosting)
		assert.Equal(t, validate.SplitAll, got.Split)
		v, n, ok := got.Metric("residential_recall")
		assert.True(t, ok)
		assert.Equal(t, 0.5, v)
		assert.Equal(t, 4, n)
		_, _, ok = got.Metric("nope")
		assert.False(t, ok)
	})
}

func TestValidateASNamesReadsNamesFromIP2ASNToo(t *testing.T) {
	names, err := validate.ReadASNames(testkit.Testdata("asn/ip2asn-v4.tsv.gz"))
	require.NoError(t, err)
	assert.Equal(t, "COMCAST-7922", names[7922])
	assert.Equal(t, "HETZNER-AS", names[24940])
	assert.NotContains(t, names, uint32(0))

	csvNames, err := validate.ReadASNames(testkit.Testdata("validate/asns.csv"))
	require.NoError(t, err)
	assert.Equal(t, "Comcast Cable Communications, LLC", csvNames[7922])
	assert.Equal(t, "A name with a comma, and a\nnewline inside its quotes", csvNames[10])
	assert.Len(t, csvNames, 10)

	got, err := validate.ScoreASNames(validate.ASNamesSpec{
		Names:    testkit.Testdata("asn/ip2asn-v4.tsv.gz"),
		Positive: []string{testkit.Testdata("validate/tags-res.csv")},
		Negative: []string{testkit.Testdata("validate/tags-host.csv")},
	})
	require.NoError(t, err)
	// Residential-only ASNs with a v4 range: 3320 (DTAG), 7922
	// (COMCAST-7922), 20712 (ANDREWS-AS: says nothing); hosting-only:
	// 16509, 50673, 24940.
	assert.InDelta(t, 2.0/3, got.Residential.Recall, 1e-9)
	got.Residential.Recall = 0
	assert.Equal(t, validate.ClassScore{N: 3, Right: 2, Precision: 1}, got.Residential)
	assert.Equal(t, validate.ClassScore{N: 3, Right: 3, Precision: 1, Recall: 1}, got.Hosting)
}

func TestValidateASNamesSpecErrors(t *testing.T) {
	ok := validate.ASNamesSpec{
		Names:    testkit.Testdata("validate/asns.csv"),
		Positive: []string{testkit.Testdata("validate/tags-res.csv")},
		Negative: []string{testkit.Testdata("validate/tags-host.csv")},
	}
	for name, mutate := range map[string]func(*validate.ASNamesSpec){
		"split":           func(s *validate.ASNamesSpec) { s.Split = "half" },
		"no names":        func(s *validate.ASNamesSpec) { s.Names = "" },
		"no negative":     func(s *validate.ASNamesSpec) { s.Negative = nil },
		"names not a csv": func(s *validate.ASNamesSpec) { s.Names = testkit.Testdata("validate/tags-res.csv") },
		"missing tags":    func(s *validate.ASNamesSpec) { s.Positive = []string{testkit.Testdata("validate/nope.csv")} },
	} {
		t.Run(name, func(t *testing.T) {
			s := ok
			mutate(&s)
			_, err := validate.ScoreASNames(s)
			require.Error(t, err)
			assert.True(t, validate.IsSpecError(err), "%v", err)
		})
	}
}
