package classifier_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// oldExit is an exit of the dated lists below that the fixture's current
// Tor lists lack.
const oldExit = "91.203.5.77"

var march = time.Date(2026, 3, 15, 13, 17, 9, 0, time.UTC)

func importTor(t *testing.T, e *classifier.Engine, date time.Time, list string) classifier.ImportReport {
	t.Helper()
	rep, err := e.ImportSnapshot(context.Background(), "tor", date, []byte(list))
	require.NoError(t, err)
	return rep
}

func TestClassifyAtFlagsOnlyAnswersThatDependOnSourcesWithoutHistory(t *testing.T) {
	e := fixture.Loaded(t) // Onionoo, the clouds, the ASN tables: no history before today
	importTor(t, e, march, "185.220.101.1\n"+oldExit+"\n")
	at := march.Add(time.Hour)
	tor, err := e.ClassifyAt(context.Background(), oldExit, 0, "", at)
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeTor, tor.Type)
	assert.False(t, tor.HistoryShort, "another Tor list could not change a Tor answer")
	other, err := e.ClassifyAt(context.Background(), "9.9.9.9", 0, "", at)
	require.NoError(t, err)
	assert.True(t, other.HistoryShort, "Onionoo of March is unknown: it might have listed the address")
	assert.Equal(t, at, other.AsOf)
	now := fixture.Classify(t, e, oldExit)
	assert.NotEqual(t, classifier.TypeTor, now.Type)
	assert.False(t, now.HistoryShort)
}

func TestImportSnapshotRefusesWhatADownloadWouldNot(t *testing.T) {
	e := fixture.Loaded(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		source string
		date   time.Time
		data   string
		err    string
	}{
		"unknown source": {"tor/nope", march, "1.2.3.4\n", "unknown source"},
		"no date":        {"tor", time.Time{}, "1.2.3.4\n", "no date"},
		"future":         {"tor", time.Now().Add(time.Hour), "1.2.3.4\n", "future"},
		"HTML":           {"tor", march, "<html><body>nope</body></html>", "HTML"},
		"empty":          {"tor", march, "", "empty"},
		"garbage":        {"tor", march, "x\ny\nz\n", "unparseable"},
	} {
		_, err := e.ImportSnapshot(ctx, tc.source, tc.date, []byte(tc.data))
		assert.ErrorContains(t, err, tc.err, name)
	}
	assert.Zero(t, e.Stats().History["tor"].Imported)
	rep := importTor(t, e, march, oldExit+"\n")
	assert.True(t, rep.Added)
	assert.False(t, importTor(t, e, march, oldExit+"\n").Added, "the same bytes at the same date")
}

func TestClassifyAtKeepsFewViewsAndSurvivesARefresh(t *testing.T) {
	e := fixture.Loaded(t)
	var dates []time.Time
	for d := 0; d < 6; d++ {
		date := march.Add(time.Duration(d) * 24 * time.Hour)
		dates = append(dates, date)
		list := "185.220.101.1\n"
		if d%2 == 0 {
			list += oldExit + "\n"
		}
		importTor(t, e, date, list)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				for d, date := range dates {
					r, err := e.ClassifyAt(ctx, oldExit, 0, "", date.Add(time.Minute))
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, d%2 == 0, r.Type == classifier.TypeTor, "day %d", d)
					if d%2 == 0 {
						assert.Equal(t, date, r.SnapshotAt, "day %d", d)
					}
				}
			}
		}()
	}
	_, err := e.Refresh(ctx, classifier.GroupAll, true)
	require.NoError(t, err)
	wg.Wait()
	assert.LessOrEqual(t, classifier.HistoryViewsHeld(e), 4)
	st := e.Stats()
	assert.GreaterOrEqual(t, st.HistoryViews, int64(2), "days of the same bytes share one view")
	assert.Equal(t, int64(4*3*6), st.HistoryLookups)
	assert.Equal(t, 6, st.History["tor"].Imported)
}

func TestQueriesWithAndWithoutTimeShareABatch(t *testing.T) {
	e := fixture.Loaded(t)
	importTor(t, e, march, oldExit+"\n")
	rs, errs := e.ClassifyBatch(context.Background(), []classifier.Query{
		{IP: oldExit, At: march.Add(time.Hour)}, {IP: oldExit}, {IP: "nope", At: march},
	})
	assert.Equal(t, classifier.TypeTor, rs[0].Type)
	assert.NotEqual(t, classifier.TypeTor, rs[1].Type)
	assert.True(t, rs[1].AsOf.IsZero())
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[2], classifier.ErrInvalidIP)
}

func TestHistoryRecordsDownloadsAndSurvivesARestart(t *testing.T) {
	srv := fixture.Server(t)
	cfg := fixture.Config(t, srv.URL)
	e := fixture.Open(t, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	st := e.Stats()
	assert.Equal(t, 1, st.History["tor"].Entries, "the download is recorded")
	assert.Zero(t, st.History["tor"].Imported)
	importTor(t, e, march, oldExit+"\n")
	require.NoError(t, e.Close())
	again := fixture.Open(t, cfg)
	r, err := again.ClassifyAt(context.Background(), oldExit, 0, "", march.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeTor, r.Type)
	assert.Equal(t, 2, again.Stats().History["tor"].Entries)
}

// An answer as of a past time carries the tags and evidence of the lists
// in force then, as an answer as of now does: a Tor exit on a hosting ASN
// says both, and a scanner keeps its tag.
func TestClassifyAtCarriesTagsAndEvidence(t *testing.T) {
	e := fixture.Loaded(t)
	importTor(t, e, march, "185.220.101.1\n"+oldExit+"\n")
	at := march.Add(time.Hour)
	for _, ip := range []string{"185.220.101.1", "62.224.10.20"} {
		now := fixture.Classify(t, e, ip)
		past, err := e.ClassifyAt(context.Background(), ip, 0, "", at)
		require.NoError(t, err)
		assert.Equal(t, now.Type, past.Type, ip)
		assert.Equal(t, now.Tags, past.Tags, ip)
		require.Equal(t, len(now.Evidence), len(past.Evidence), ip)
		for i := range now.Evidence {
			assert.Equal(t, now.Evidence[i].Source, past.Evidence[i].Source, ip)
			assert.Equal(t, now.Evidence[i].MatchedPrefix, past.Evidence[i].MatchedPrefix, ip)
		}
	}
	past, err := e.ClassifyAt(context.Background(), "185.220.101.1", 0, "", at)
	require.NoError(t, err)
	assert.Contains(t, past.Tags, classifier.TagTorExit)
	assert.Equal(t, "tor", past.Evidence[0].Snapshot)
}

// Stats lists the epochs: every date at which some source's snapshot
// changes, in order. Within one epoch an address has one answer (what a
// backfill as of session time relies on: it classifies once per address
// and epoch); across a boundary it may not.
func TestStatsListsTheEpochsWithinWhichAnAnswerDoesNotChange(t *testing.T) {
	e := fixture.Loaded(t)
	april := march.Add(30 * 24 * time.Hour)
	importTor(t, e, march, "185.220.101.1\n"+oldExit+"\n")
	importTor(t, e, april, "185.220.101.1\n")
	epochs := e.Stats().HistoryEpochs
	require.GreaterOrEqual(t, len(epochs), 3, "the two imports and the snapshots served now")
	assert.True(t, epochs[0].Equal(march) && epochs[1].Equal(april), "the imported dates come first: %v", epochs[:2])
	for i := 1; i < len(epochs); i++ {
		assert.True(t, epochs[i-1].Before(epochs[i]), "strictly increasing: %v", epochs)
	}
	ctx := context.Background()
	at := func(when time.Time) classifier.Result {
		t.Helper()
		r, err := e.ClassifyAt(ctx, oldExit, 0, "", when)
		require.NoError(t, err)
		return r
	}
	first, last := at(march), at(april.Add(-time.Nanosecond))
	assert.Equal(t, classifier.TypeTor, first.Type)
	assert.Equal(t, first.Type, last.Type, "one epoch, one answer")
	assert.Equal(t, first.SnapshotAt, last.SnapshotAt)
	assert.Equal(t, first.HistoryShort, last.HistoryShort)
	assert.NotEqual(t, classifier.TypeTor, at(april).Type, "the next epoch: the April list lacks it")
}
