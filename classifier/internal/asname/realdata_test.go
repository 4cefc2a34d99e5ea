package asname_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func labelsScoreString(s validate.ASNamesScore) string {
	return fmt.Sprintf("residential recall %.1f%% precision %.1f%% (%d of %d, %d false) | hosting recall %.1f%% precision %.1f%% (%d of %d, %d false)",
		100*s.Residential.Recall, 100*s.Residential.Precision, s.Residential.Right, s.Residential.N, s.Residential.False,
		100*s.Hosting.Recall, 100*s.Hosting.Precision, s.Hosting.Right, s.Hosting.N, s.Hosting.False)
}

// TestLabelsASNameHeuristicOnBGPToolsTags measures the AS-name heuristic on
// the bgp.tools tags (validate.ScoreASNames). The patterns were tuned on
// the ASNs with an even number; the odd ones are held out, and the floors
// below are on them. IPCLASSIFIER_LABELS_DUMP=1 prints the misses of the
// tuning split and how often each pattern fired on it.
func TestLabelsASNameHeuristicOnBGPToolsTags(t *testing.T) {
	score := func(names, split string, examples int) validate.ASNamesScore {
		spec := fixture.BGPToolsASNames(t, names, split)
		spec.Examples = examples
		s, err := validate.ScoreASNames(spec)
		require.NoError(t, err)
		return s
	}
	dump := os.Getenv("IPCLASSIFIER_LABELS_DUMP") != ""
	examples := 0
	if dump {
		examples = 1 << 20
	}
	tune, held := score("", validate.SplitEven, examples), score("", validate.SplitOdd, 0)
	t.Logf("bgp.tools names, tuning split (even ASNs):   %s", labelsScoreString(tune))
	t.Logf("bgp.tools names, held-out split (odd ASNs):  %s", labelsScoreString(held))
	if dump {
		labelsDumpPatterns(t, fixture.BGPToolsASNames(t, "", validate.SplitEven))
		t.Logf("false residential (tuning): %q", tune.FalseResidential)
		t.Logf("false datacenter (tuning): %q", tune.FalseHosting)
		t.Logf("missed residential (tuning): %q", tune.MissedResidential)
		t.Logf("missed hosting (tuning): %q", tune.MissedHosting)
	}
	// The same ASNs under the names the ip2asn table gives them (often a
	// bare handle such as "CMCS" or "COMCAST-7922"): the engine's input when
	// the caller passes no AS name.
	v6 := filepath.Join(testkit.SharedData(t), "asn", "ip2asn-v6.tsv.gz")
	ipTune, ipHeld := score(v6, validate.SplitEven, 0), score(v6, validate.SplitOdd, 0)
	t.Logf("ip2asn names, tuning split (even ASNs):      %s", labelsScoreString(ipTune))
	t.Logf("ip2asn names, held-out split (odd ASNs):     %s", labelsScoreString(ipHeld))
	assert.GreaterOrEqual(t, ipHeld.Residential.Precision, 0.93, "held-out residential precision on ip2asn names")
	assert.GreaterOrEqual(t, held.Residential.Precision, 0.95, "held-out residential precision")
	assert.GreaterOrEqual(t, held.Residential.Recall, testkit.FloorASNameResidentialRecall, "held-out residential recall")
	assert.GreaterOrEqual(t, held.Hosting.Precision, 0.95, "held-out hosting precision")
	assert.GreaterOrEqual(t, held.Hosting.Recall, testkit.FloorASNameHostingRecall, "held-out hosting recall")
}

// labelsDumpPatterns logs, per pattern, how often it fired on
// residential-only and hosting-only ASNs of one split.
func labelsDumpPatterns(t *testing.T, spec validate.ASNamesSpec) {
	names, err := validate.ReadASNames(spec.Names)
	require.NoError(t, err)
	res, err := validate.TaggedASNs(spec.Positive, spec.Negative)
	require.NoError(t, err)
	host, err := validate.TaggedASNs(spec.Negative, spec.Positive)
	require.NoError(t, err)
	keep := func(a uint32) bool { return spec.Split != validate.SplitEven || a%2 == 0 }
	type tally struct{ res, host int }
	counts := map[string]*tally{}
	count := func(set map[uint32]bool, isRes bool) {
		for asn := range set {
			name, ok := names[asn]
			if !ok || !keep(asn) {
				continue
			}
			m := asname.Of(name)
			for _, p := range m.Patterns {
				key := kindName[m.Kind] + ":" + p
				if counts[key] == nil {
					counts[key] = &tally{}
				}
				if isRes {
					counts[key].res++
				} else {
					counts[key].host++
				}
			}
		}
	}
	count(res, true)
	count(host, false)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return counts[keys[i]].host+counts[keys[i]].res > counts[keys[j]].host+counts[keys[j]].res
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d/%d  ", k, counts[k].res, counts[k].host)
	}
	t.Logf("pattern residential-only/hosting-only: %s", b.String())
}

var kindName = map[asname.Kind]string{asname.None: "none", asname.Residential: "residential", asname.Hosting: "hosting"}
