package tests_go

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// classify is Classify with a background context and no ASN data.
func classify(t testing.TB, e *classifier.Engine, ip string) classifier.Result {
	t.Helper()
	r, err := e.Classify(context.Background(), ip, 0, "")
	require.NoError(t, err, ip)
	return r
}
