package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// TestOriginFigures specifies the figures a target can name of an origin,
// on a hand-made population: residential truths (four even, two odd) and
// hosting truths (two even, two odd), answered as listed.
func TestOriginFigures(t *testing.T) {
	R, D, C, U := classifier.TypeResidential, classifier.TypeDatacenter, classifier.TypeCloud, classifier.TypeUnknown
	type row struct {
		half string
		got  classifier.IPType
	}
	var truths []Truth
	var results []classifier.Result
	add := func(origin string, want classifier.IPType, also []classifier.IPType, rows ...row) {
		for _, r := range rows {
			truths = append(truths, Truth{IP: "192.0.2.1", Type: want, Also: also, Origin: origin, Half: r.half})
			results = append(results, classifier.Result{Type: r.got})
		}
	}
	add("res", R, nil, row{SplitEven, R}, row{SplitEven, R}, row{SplitEven, U}, row{SplitEven, D}, row{SplitOdd, R}, row{SplitOdd, U})
	add("host", D, []classifier.IPType{C}, row{SplitEven, D}, row{SplitEven, R}, row{SplitOdd, C}, row{SplitOdd, U})
	rep := scoreResults(truths, results, make([]error, len(truths)))

	tests := []struct {
		name   string
		target TargetSpec
		want   float64
		n      int
	}{
		{"share of all", TargetSpec{Origin: "res"}, 3.0 / 6, 6},
		{"share of a half", TargetSpec{Origin: "res", Half: SplitEven}, 2.0 / 4, 4},
		{"share of a half, older spelling", TargetSpec{Origin: "res", Metric: SplitOdd}, 1.0 / 2, 2},
		{"coverage: unknown covers nothing", TargetSpec{Origin: "res", Metric: MetricCoverage}, 4.0 / 6, 6},
		{"coverage of a half", TargetSpec{Origin: "host", Metric: MetricCoverage, Half: SplitOdd}, 1.0 / 2, 2},
		// even: 2/4 right residential; 1/2 of hosting answered residential.
		{"precision at one for one", TargetSpec{Origin: "res", Metric: MetricPrecision, Against: "host", Half: SplitEven}, 0.5 / (0.5 + 0.5), 3},
		// all: 3/6 right; 1/4 of hosting answered residential.
		{"precision of all", TargetSpec{Origin: "res", Metric: MetricPrecision, Against: "host"}, 0.5 / (0.5 + 0.25), 4},
		// hosting accepts cloud: 2/4 right; 1/6 of residential answered datacenter.
		{"an accepted type counts against", TargetSpec{Origin: "host", Metric: MetricPrecision, Against: "res"}, 0.5 / (0.5 + 1.0/6), 3},
		// odd: 1/2 right; no residential answered datacenter or cloud.
		{"nothing against", TargetSpec{Origin: "host", Metric: MetricPrecision, Against: "res", Half: SplitOdd}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, ok := originFigure(tc.target, rep)
			require.True(t, ok)
			assert.InDelta(t, tc.want, got, 1e-9)
			assert.Equal(t, tc.n, n)
		})
	}

	missing := []TargetSpec{
		{Origin: "nope"},
		{Origin: "res", Half: "third"},
		{Origin: "res", Metric: MetricPrecision},                  // no Against
		{Origin: "res", Metric: MetricPrecision, Against: "nope"}, // Against not measured
		{Origin: "res", Metric: "f1"},
	}
	for _, ts := range missing {
		_, _, ok := originFigure(ts, rep)
		assert.False(t, ok, "%+v is not measured", ts)
	}
}
