package tests_go

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
)

func TestLabelsASNameHeuristicOnHandPickedNames(t *testing.T) {
	tests := []struct {
		name string
		typ  classifier.IPType
		conf float64
	}{
		// Access networks, in many languages and naming styles (bgp.tools
		// names and iptoasn handles).
		{"Deutsche Telekom AG", classifier.TypeResidential, 0.7},
		{"DTAG Internet service provider operations", classifier.TypeResidential, 0.7},
		{"COMCAST-7922", classifier.TypeResidential, 0.7},
		{"Comcast Cable Communications, LLC", classifier.TypeResidential, 0.8},
		{"CHINANET-BACKBONE No.31,Jin-rong Street", classifier.TypeResidential, 0.7},
		{"CHINA169-BACKBONE CHINA UNICOM China169 Backbone", classifier.TypeResidential, 0.7},
		{"CMNET-AS-LIAONING China Mobile communications corporation", classifier.TypeResidential, 0.8},
		{"TELEFÓNICA DE ESPAÑA", classifier.TypeResidential, 0.7},
		{"TELEFONICA_DE_ESPANA", classifier.TypeResidential, 0.7},
		{"MEGAMINAS TELECOMUNICAÇÕES LTDA", classifier.TypeResidential, 0.7},
		{"Kabel Deutschland Vertrieb und Service GmbH", classifier.TypeResidential, 0.7},
		{"Vodafone Portugal", classifier.TypeResidential, 0.7},
		{"Fibra Óptica del Norte", classifier.TypeResidential, 0.7},
		{"ROSTELECOM-AS PJSC Rostelecom. Technical Team", classifier.TypeResidential, 0.7},
		{"BHARTI-MOBILITY-AS-AP Bharti Airtel Ltd. AS for GPRS Service", classifier.TypeResidential, 0.8},
		{"RELIANCEJIO-IN Reliance Jio Infocomm Limited", classifier.TypeResidential, 0.7},
		// Hosting words win over access words: a hoster that also sells
		// lines is a datacenter for our purpose (exclusions).
		{"HETZNER-AS hosting telecom", classifier.TypeDatacenter, 0.5},
		{"SERVERIUS-AS", classifier.TypeDatacenter, 0.5},
		{"Telecom Data Center SRL", classifier.TypeDatacenter, 0.5},
		{"Cheap VPS Fiber Ltd", classifier.TypeDatacenter, 0.5},
		{"China Telecom Wenzhou IDC Network", classifier.TypeDatacenter, 0.5},
		{"SEEWEB Web hosting, colocation and cloud services", classifier.TypeDatacenter, 0.5},
		{"STAYBOX SERVICOS DE HOSPEDAGEM NA INTERNET LTDA", classifier.TypeDatacenter, 0.5},
		{"AMAZON-02", classifier.TypeDatacenter, 0.5},
		{"AKAMAI-ASN1", classifier.TypeDatacenter, 0.5},
		// Small access ISPs: an ISP hint beside a small-ISP legal form, or a
		// brand and one hint.
		{"NOVALINK INTERNET LTDA", classifier.TypeResidential, 0.5},
		{"Brava Internet", classifier.TypeResidential, 0.5},
		{"Example Internet Service Co", classifier.TypeResidential, 0.5},
		// "Networks" only beside a legal form; -tel and -kom telco brands.
		{"Fasthook Networks Pvt Ltd", classifier.TypeResidential, 0.5},
		{"Unborn Networks Private Limited", classifier.TypeResidential, 0.5},
		{"Sage Networks", "", 0},
		{"Spintel Pty Ltd", classifier.TypeResidential, 0.7},
		{"Thueringer Netkom GmbH", classifier.TypeResidential, 0.7},
		{"Grand Hotel Europa", "", 0},
		{"Intel Corporation", "", 0},
		{"Star IT", classifier.TypeDatacenter, 0.5},
		// ... but not an IT company, and not a carrier or a sole trader.
		{"Example Software Internet Ltda", "", 0},
		{"Zayo Bandwidth Fiber", "", 0},
		{"John Smith trading as Fast Telecom", "", 0},
		// Names that say nothing either way.
		{"ANDREWS-AS Andrews & Arnold Ltd", "", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := classifier.MatchASName(tt.name)
			assert.Equal(t, tt.typ, m.Type, "patterns %v", m.Patterns)
			assert.Equal(t, tt.conf, m.Confidence, "patterns %v", m.Patterns)
			if tt.typ != "" {
				assert.NotEmpty(t, m.Patterns)
				assert.Equal(t, "as_name:"+strings.Join(m.Patterns, ","), m.Evidence())
			}
		})
	}
}

// labelsBGPTools returns the AS-name scorer spec on the bgp.tools ground
// truth in ../shared/data: AS names from asns.csv.gz, residential = tags
// dsl ∪ mobile, hosting = tags vpsh ∪ cdn (ASNs tagged both ways left out).
// names replaces asns.csv.gz (an ip2asn table gives the names the engine
// sees when the caller passes none).
func labelsBGPTools(t testing.TB, names, split string) validate.ASNamesSpec {
	t.Helper()
	dir := filepath.Join(sharedData(t), "asn-types", "bgptools")
	tags := func(n ...string) []string {
		out := make([]string, len(n))
		for i, x := range n {
			out[i] = filepath.Join(dir, "tags", "tags-"+x+".csv")
		}
		return out
	}
	if names == "" {
		names = filepath.Join(dir, "asns.csv.gz")
	}
	return validate.ASNamesSpec{Names: names, Positive: tags("dsl", "mobile"), Negative: tags("vpsh", "cdn"), Split: split}
}

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
		spec := labelsBGPTools(t, names, split)
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
		labelsDumpPatterns(t, labelsBGPTools(t, "", validate.SplitEven))
		t.Logf("false residential (tuning): %q", tune.FalseResidential)
		t.Logf("false datacenter (tuning): %q", tune.FalseHosting)
		t.Logf("missed residential (tuning): %q", tune.MissedResidential)
		t.Logf("missed hosting (tuning): %q", tune.MissedHosting)
	}
	// The same ASNs under the names the ip2asn table gives them (often a
	// bare handle such as "CMCS" or "COMCAST-7922"): the engine's input when
	// the caller passes no AS name.
	v6 := filepath.Join(sharedData(t), "asn", "ip2asn-v6.tsv.gz")
	ipTune, ipHeld := score(v6, validate.SplitEven, 0), score(v6, validate.SplitOdd, 0)
	t.Logf("ip2asn names, tuning split (even ASNs):      %s", labelsScoreString(ipTune))
	t.Logf("ip2asn names, held-out split (odd ASNs):     %s", labelsScoreString(ipHeld))
	assert.GreaterOrEqual(t, ipHeld.Residential.Precision, 0.93, "held-out residential precision on ip2asn names")
	assert.GreaterOrEqual(t, held.Residential.Precision, 0.95, "held-out residential precision")
	assert.GreaterOrEqual(t, held.Residential.Recall, labelsFloorASNameResidentialRecall, "held-out residential recall")
	assert.GreaterOrEqual(t, held.Hosting.Precision, 0.95, "held-out hosting precision")
	assert.GreaterOrEqual(t, held.Hosting.Recall, labelsFloorASNameHostingRecall, "held-out hosting recall")
}

// The target was residential recall ≥ 0.70 at precision ≥ 0.95 on the
// held-out half. It is not reached: 65.7% at 95.3% (hosting recall 30.8%)
// when written; the floors are a little below (docs/validation.md).
const (
	labelsFloorASNameResidentialRecall = 0.64
	labelsFloorASNameHostingRecall     = 0.29
)

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
			m := classifier.MatchASName(name)
			for _, p := range m.Patterns {
				key := string(m.Type) + ":" + p
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
