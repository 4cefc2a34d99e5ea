package validate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
)

// AS-name runs score names alone: Run needs no engine for them (the CLI's
// `validate --asn-names` opens no classifier of the user's).
func TestValidateRunWithoutAnEngineScoresASNames(t *testing.T) {
	spec := validate.Spec{ASNames: []validate.ASNamesSpec{{
		Names:    testkit.Testdata("validate/asns.csv"),
		Positive: []string{testkit.Testdata("validate/tags-res.csv")},
		Negative: []string{testkit.Testdata("validate/tags-host.csv")},
	}}}
	assert.False(t, spec.NeedsEngine())
	out, err := validate.Run(context.Background(), nil, spec)
	require.NoError(t, err)
	require.Len(t, out.ASNames, 1)
	assert.Equal(t, validate.ClassScore{N: 4, Right: 2, False: 1, Precision: 2.0 / 3, Recall: 0.5}, out.ASNames[0].Residential)
	assert.Nil(t, out.Report, "nothing was classified")

	for name, s := range map[string]validate.Spec{
		"truth":    {Truth: []string{testkit.Testdata("validate/labelled.csv")}},
		"samplers": {Samplers: []validate.SamplerSpec{{Kind: "tor", File: "x"}}},
	} {
		assert.True(t, s.NeedsEngine(), name)
		s.RealData = "/somewhere"
		assert.False(t, s.NeedsEngine(), "%s with real_data: the folder's own engine is measured", name)
	}
}
