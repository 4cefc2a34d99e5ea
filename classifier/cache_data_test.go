package classifier_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// A cached answer is tied to the data it was computed from: after a refresh
// that changes a snapshot, an answer cached before it — an unknown
// included — is computed again, in this engine and in another one sharing
// the tiers (another process); a refresh that changes nothing keeps the
// cache.
func TestCachedAnswerDoesNotOutliveItsData(t *testing.T) {
	srv := newTorServer(t, reply{status: 200, body: "185.220.50.7\n", etag: `"v1"`}, reply{status: 200, body: "185.220.50.7\n185.220.50.9\n", etag: `"v2"`})
	shared := t.TempDir()
	tiers := func(c *classifier.Config) {
		c.Cache.Dir = filepath.Join(shared, "l3")
		c.Cache.DatabaseURL = "sqlite://" + filepath.Join(shared, "l2.sqlite")
	}
	a := torEngine(t, srv.URL, tiers)
	b := torEngine(t, srv.URL, tiers) // another process: its own data dir, the same tiers

	// classify answers, then waits until the answer is in the tiers
	// (Classify only queues its cache writes).
	classify := func(e *classifier.Engine, ip string) classifier.Result {
		r := fixture.Classify(t, e, ip)
		require.NoError(t, e.FlushCache(context.Background()))
		return r
	}

	const x = "185.220.50.7"
	first := classify(a, x)
	require.Equal(t, classifier.TypeUnknown, first.Type)
	require.Equal(t, "", first.CacheTier)
	again := classify(a, x)
	require.Equal(t, "l2", again.CacheTier, "same data: the cached unknown is served")

	sr := refreshTor(t, a, false)
	require.Equal(t, classifier.StatusUpdated, sr.Status, sr.Error)
	after := classify(a, x)
	assert.Equal(t, classifier.TypeTor, after.Type, "the unknown cached before the refresh is not served after it")
	assert.Equal(t, "", after.CacheTier)
	assert.Equal(t, int64(1), a.Stats().CacheOutdated)
	assert.Equal(t, "l2", classify(a, x).CacheTier, "the new answer is cached under the new data")

	// B has not downloaded the list: A's tor answer is not its data's answer.
	fromB := classify(b, x)
	assert.Equal(t, classifier.TypeUnknown, fromB.Type)
	assert.Equal(t, "", fromB.CacheTier)
	assert.NotEqual(t, a.Stats().DataID, b.Stats().DataID)

	// Batches follow the same rule.
	res, errs := a.ClassifyBatch(context.Background(), []classifier.Query{{IP: x}})
	require.NoError(t, errs[0])
	assert.Equal(t, classifier.TypeTor, res[0].Type, "B's unknown, cached meanwhile, is not A's answer")
	assert.Equal(t, "", res[0].CacheTier)

	// A 304 keeps the data, hence the cache; new bytes change both.
	id := a.Stats().DataID
	require.Equal(t, classifier.StatusUpdated, refreshTor(t, a, true).Status)
	assert.NotEqual(t, id, a.Stats().DataID)
	id = a.Stats().DataID
	require.Equal(t, classifier.StatusNotModified, refreshTor(t, a, true).Status)
	assert.Equal(t, id, a.Stats().DataID)
	assert.Equal(t, classifier.TypeTor, classify(a, "185.220.50.9").Type)
	assert.Equal(t, "l2", classify(a, "185.220.50.9").CacheTier)
}

// Engines built from the same bytes under the same rules share one data
// identity (so they share cached answers); the label policy is part of it.
func TestDataIdentityIsTheDataAndTheRules(t *testing.T) {
	base := fixture.Server(t).URL
	open := func(f func(*classifier.Config)) *classifier.Engine {
		c := fixture.Config(t, base)
		f(&c)
		e := fixture.Open(t, c)
		_, err := e.Refresh(context.Background(), classifier.GroupAll, true)
		require.NoError(t, err)
		return e
	}
	one := open(func(*classifier.Config) {})
	two := open(func(*classifier.Config) {})
	assert.Equal(t, one.Stats().DataID, two.Stats().DataID)
	upstream := open(func(c *classifier.Config) { c.CloudLabelProviders = []string{"aws", "azure", "gcp", "cloudflare"} })
	assert.NotEqual(t, one.Stats().DataID, upstream.Stats().DataID)
	profile := open(func(c *classifier.Config) { c.ASNProfile = true })
	assert.NotEqual(t, one.Stats().DataID, profile.Stats().DataID)
}
