package classifier_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// assertMemoisedAnswersMatchReference classifies every address of ips
// twice (the first call fills the memos, the second is served from them)
// with no caller data, then with a caller ASN and with a caller AS name,
// and checks each answer against the one made without memos, and its Key:
// answers sharing one are equal but for the address and the times. It
// returns how many answers had a key.
func assertMemoisedAnswersMatchReference(t *testing.T, e *classifier.Engine, ips []string) (keyed int) {
	t.Helper()
	ctx := context.Background()
	callers := []struct {
		asn  uint32
		name string
	}{{0, ""}, {64500, ""}, {0, "Comcast Cable Communications"}, {13335, "CLOUDFLARENET"}}
	byKey := map[uint64]classifier.Result{}
	for _, c := range callers {
		for pass := range 2 {
			for _, ip := range ips {
				got, err := e.Classify(ctx, ip, c.asn, c.name)
				require.NoError(t, err)
				want := classifier.UnmemoisedClassify(e, ip, c.asn, c.name)
				got.ClassifiedAt = want.ClassifiedAt // the clock moves between the two
				require.Equal(t, want, classifier.WithoutKey(got), "%s (caller %d %q, pass %d)", ip, c.asn, c.name, pass)
				k := got.Key()
				if k == 0 {
					continue
				}
				keyed++
				body := classifier.WithoutKey(got)
				body.IP, body.ClassifiedAt = "", time.Time{}
				if first, ok := byKey[k]; ok {
					require.Equal(t, first, body, "%s: an answer of key %d", ip, k)
				}
				byKey[k] = body
			}
		}
	}
	return keyed
}

func TestMemoisedAnswersEqualUnmemoisedOnFixtures(t *testing.T) {
	e := fixture.Loaded(t)
	ips := benchAddrs(classifier.PrefixSet(e), 3000)
	ips = append(ips, "1.1.1.1", "8.8.8.8", "2001:db8::1", "1.2.3.4")
	require.Equal(t, 8*len(ips), assertMemoisedAnswersMatchReference(t, e, ips), "every answer has a key")
}

func TestAnswersPastTheIntervalBoundEqualUnmemoised(t *testing.T) {
	e := fixture.Loaded(t)
	classifier.FillIntervalAnswers(e)
	ips := benchAddrs(classifier.PrefixSet(e), 3000)
	require.Equal(t, 6*len(ips), assertMemoisedAnswersMatchReference(t, e, ips), "answers to caller data have a key, the others none")
}

func TestMemoisedAnswersEqualUnmemoisedOnRealData(t *testing.T) {
	if testing.Short() {
		t.Skip("real data: not in -short")
	}
	e := fixture.RealEngine(t)
	assertMemoisedAnswersMatchReference(t, e, benchAddrs(classifier.PrefixSet(e), 5000))
}

// Goroutines filling the memos at once (the race detector watches in make
// test) each get the reference answer.
func TestConcurrentAnswersEqualUnmemoised(t *testing.T) {
	e := fixture.Loaded(t)
	ips := benchAddrs(classifier.PrefixSet(e), 2000)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ips {
				ip := ips[(i*7+g*13)%len(ips)]
				got, err := e.Classify(context.Background(), ip, 0, "")
				want := classifier.UnmemoisedClassify(e, ip, 0, "")
				got.ClassifiedAt = want.ClassifiedAt
				if err != nil || got.Key() == 0 || !reflect.DeepEqual(classifier.WithoutKey(got), want) {
					errs <- fmt.Sprintf("%s: %v\n got %+v\nwant %+v", ip, err, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
