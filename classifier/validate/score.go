// Package validate measures the engine's labels against truth: a labelled
// CSV, or addresses sampled from lists whose label is known (first-party
// cloud files, Tor lists, the ranges of tagged ASNs). It reports per-type
// precision, recall and coverage, per-provider agreement, per-origin
// shares and the confusion matrix, as data and as markdown; and it scores
// the AS-name heuristic alone on tagged ASN lists (ScoreASNames).
//
// Run executes a Spec (what to measure, as JSON) and returns an Outcome
// (the figures, as JSON, with their markdown); the C ABI's Validate export
// and `python -m ipclassifier validate` are thin wrappers around it.
package validate

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Truth is one address whose right answer is known. Provider is empty when
// only the type is known. Origin says where the truth came from (a file or
// a sampler) and is reported per origin. ASN and ASName are passed to the
// engine as the caller's knowledge (zero: none, so the engine looks the
// address up in its ip2asn tables). Also lists further types that count as
// right for the origin's share (a hosting network's address may be in a
// cloud list). Label groups truths for the list of largest misses (for
// example "AS3320 DTAG").
type Truth struct {
	IP       string              `json:"ip"`
	Type     classifier.IPType   `json:"expected_type"`
	Provider string              `json:"expected_provider,omitempty"`
	Origin   string              `json:"origin,omitempty"`
	ASN      uint32              `json:"asn,omitempty"`
	ASName   string              `json:"as_name,omitempty"`
	Also     []classifier.IPType `json:"also_accept,omitempty"`
	Label    string              `json:"label,omitempty"`
	// Half is SplitEven or SplitOdd, the parity of the ASN an asn_tags
	// sample was drawn from (empty otherwise): rules tuned on the even
	// ASNs are checked on the odd ones (OriginScore.Halves).
	Half string `json:"half,omitempty"`
}

// TypeScore is the precision, recall and coverage of one label.
// Precision = right / answered with this type; recall = right / expected
// this type; coverage = answered anything but unknown / expected this type.
// Right means the same type (the strict confusion-matrix reading: Also
// does not count here).
type TypeScore struct {
	Type      classifier.IPType `json:"type"`
	Expected  int               `json:"expected"`
	Predicted int               `json:"predicted"`
	Correct   int               `json:"correct"`
	Covered   int               `json:"covered"`
	Precision float64           `json:"precision"`
	Recall    float64           `json:"recall"`
	Coverage  float64           `json:"coverage"`
}

// ProviderScore is how often the right provider came back for truths with
// an expected provider.
type ProviderScore struct {
	Provider  string  `json:"provider"`
	Expected  int     `json:"expected"`
	Correct   int     `json:"correct"` // right type and right provider
	Agreement float64 `json:"agreement"`
}

// OriginScore is how the addresses of one origin were answered (Expected
// is empty when its truths expect several types, as a labelled file's do). Right
// counts answers of the expected type or one of Accepted and, when the
// truth names a provider, that provider; Share = Right / N. Got counts the
// answers by type. TopMisses lists the labels with the most wrong answers.
type OriginScore struct {
	Origin   string              `json:"origin"`
	Expected classifier.IPType   `json:"expected_type"`
	Accepted []classifier.IPType `json:"also_accept,omitempty"`
	HalfScore
	TopMisses []Miss `json:"top_misses,omitempty"`
	// Halves is the same share for the truths of each Truth.Half; nil
	// when the origin's truths have none.
	Halves map[string]HalfScore `json:"halves,omitempty"`
}

// HalfScore is how some truths of an origin were answered — all of them
// (OriginScore's own) or those of one half: how many, how many right and
// covered (answered anything but unknown), the shares of those, and the
// answers by type.
type HalfScore struct {
	N        int                       `json:"n"`
	Right    int                       `json:"right"`
	Covered  int                       `json:"covered"`
	Share    float64                   `json:"share"`
	Coverage float64                   `json:"coverage"`
	Got      map[classifier.IPType]int `json:"got"`
}

// count adds one truth answered got (right or not).
func (h *HalfScore) count(got classifier.IPType, right bool) {
	if h.Got == nil {
		h.Got = map[classifier.IPType]int{}
	}
	h.N++
	h.Got[got]++
	if right {
		h.Right++
	}
	if got != classifier.TypeUnknown {
		h.Covered++
	}
}

// finish computes the shares of the counts.
func (h *HalfScore) finish() {
	h.Share, h.Coverage = ratio(h.Right, h.N), ratio(h.Covered, h.N)
}

// half returns the score of the truths of one half ("even", "odd"), or of
// all of them for "".
func (o OriginScore) half(name string) (HalfScore, bool) {
	if name == "" {
		return o.HalfScore, true
	}
	h, ok := o.Halves[name]
	return h, ok
}

// Miss is a group of wrong answers: the truths of one label answered with
// one type.
type Miss struct {
	Label string            `json:"label"`
	Got   classifier.IPType `json:"got"`
	Count int               `json:"count"`
}

// topMisses is how many Miss groups an origin reports.
const topMisses = 8

// SourceScore is how the answers of one rule of the engine (their
// Result.Source: "asn_profile", "asn_name_heuristic", "hosting_asn_list", …)
// fared: N answers, Right of them right by their origin's rule (see
// OriginScore), Precision = Right / N.
type SourceScore struct {
	Source    string  `json:"source"`
	N         int     `json:"n"`
	Right     int     `json:"right"`
	Precision float64 `json:"precision"`
}

// Report is the outcome of Score.
type Report struct {
	Total     int                                             `json:"total"`
	Invalid   []string                                        `json:"invalid,omitempty"`
	Types     []TypeScore                                     `json:"types"`
	Providers []ProviderScore                                 `json:"providers"`
	Origins   []OriginScore                                   `json:"origins"`
	Sources   []SourceScore                                   `json:"sources"`
	Confusion map[classifier.IPType]map[classifier.IPType]int `json:"confusion"` // expected → got → count
}

// Source returns the score of the answers from one rule (Result.Source).
func (r Report) Source(name string) (SourceScore, bool) {
	for _, s := range r.Sources {
		if s.Source == name {
			return s, true
		}
	}
	return SourceScore{}, false
}

// Origin returns the score of the named origin.
func (r Report) Origin(name string) (OriginScore, bool) {
	for _, o := range r.Origins {
		if o.Origin == name {
			return o, true
		}
	}
	return OriginScore{}, false
}

// scoreChunk is how many truths are classified between two looks at ctx.
const scoreChunk = 16384

// Score classifies every truth from the engine's index (no cache tier: see
// Engine.ClassifyUncached), with the truth's ASN data when it has any, and
// scores the answers. The error is ctx's, or ErrClosed.
func Score(ctx context.Context, e *classifier.Engine, truths []Truth) (Report, error) {
	results := make([]classifier.Result, 0, len(truths))
	errs := make([]error, 0, len(truths))
	for start := 0; start < len(truths); start += scoreChunk {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		chunk := truths[start:min(start+scoreChunk, len(truths))]
		qs := make([]classifier.Query, len(chunk))
		for i, t := range chunk {
			qs[i] = classifier.Query{IP: t.IP, ASN: t.ASN, ASName: t.ASName}
		}
		res, errs1 := e.ClassifyUncached(qs)
		for _, err := range errs1 {
			if errors.Is(err, classifier.ErrClosed) {
				return Report{}, err
			}
		}
		results = append(results, res...)
		errs = append(errs, errs1...)
	}
	return scoreResults(truths, results, errs), nil
}

// scoreResults scores answers (results[i] for truths[i]; errs[i] non-nil
// for an invalid address).
func scoreResults(truths []Truth, results []classifier.Result, errs []error) Report {
	rep := Report{Confusion: map[classifier.IPType]map[classifier.IPType]int{}}
	types := map[classifier.IPType]*TypeScore{}
	for _, t := range classifier.Types() {
		types[t] = &TypeScore{Type: t}
	}
	providers := map[string]*ProviderScore{}
	origins := map[string]*OriginScore{}
	var order []string
	misses := map[string]map[Miss]int{}
	sources := map[string]*SourceScore{}
	for i, t := range truths {
		if errs[i] != nil {
			rep.Invalid = append(rep.Invalid, t.IP)
			continue
		}
		rep.Total++
		got := results[i]
		if rep.Confusion[t.Type] == nil {
			rep.Confusion[t.Type] = map[classifier.IPType]int{}
		}
		rep.Confusion[t.Type][got.Type]++
		if ts, ok := types[t.Type]; ok {
			ts.Expected++
			if got.Type == t.Type {
				ts.Correct++
			}
			if got.Type != classifier.TypeUnknown {
				ts.Covered++
			}
		}
		if ts, ok := types[got.Type]; ok {
			ts.Predicted++
		}
		provider := parse.CloudProvider(t.Provider)
		providerOK := provider == "" || strings.EqualFold(got.Provider, provider)
		right := (got.Type == t.Type || containsType(t.Also, got.Type)) && providerOK
		src := sources[got.Source]
		if src == nil {
			src = &SourceScore{Source: got.Source}
			sources[got.Source] = src
		}
		src.N++
		if right {
			src.Right++
		}
		if provider != "" {
			p := providers[provider]
			if p == nil {
				p = &ProviderScore{Provider: provider}
				providers[provider] = p
			}
			p.Expected++
			if got.Type == t.Type && providerOK {
				p.Correct++
			}
		}
		if t.Origin != "" {
			o := origins[t.Origin]
			if o == nil {
				o = &OriginScore{Origin: t.Origin, Expected: t.Type, Accepted: t.Also}
				origins[t.Origin] = o
				order = append(order, t.Origin)
			}
			if o.Expected != t.Type {
				o.Expected = "" // a truth file with several types
			}
			o.count(got.Type, right)
			if t.Half != "" {
				if o.Halves == nil {
					o.Halves = map[string]HalfScore{}
				}
				h := o.Halves[t.Half]
				h.count(got.Type, right)
				o.Halves[t.Half] = h
			}
			if !right && t.Label != "" {
				if misses[t.Origin] == nil {
					misses[t.Origin] = map[Miss]int{}
				}
				misses[t.Origin][Miss{Label: t.Label, Got: got.Type}]++
			}
		}
	}
	for _, t := range classifier.Types() {
		s := *types[t]
		s.Precision = ratio(s.Correct, s.Predicted)
		s.Recall = ratio(s.Correct, s.Expected)
		s.Coverage = ratio(s.Covered, s.Expected)
		rep.Types = append(rep.Types, s)
	}
	for _, name := range order {
		o := origins[name]
		o.finish()
		for k, h := range o.Halves {
			h.finish()
			o.Halves[k] = h
		}
		for m, n := range misses[name] {
			m.Count = n
			o.TopMisses = append(o.TopMisses, m)
		}
		sort.Slice(o.TopMisses, func(i, j int) bool {
			a, b := o.TopMisses[i], o.TopMisses[j]
			if a.Count != b.Count {
				return a.Count > b.Count
			}
			return a.Label+string(a.Got) < b.Label+string(b.Got)
		})
		if len(o.TopMisses) > topMisses {
			o.TopMisses = o.TopMisses[:topMisses]
		}
		rep.Origins = append(rep.Origins, *o)
	}
	for _, p := range providers {
		p.Agreement = ratio(p.Correct, p.Expected)
		rep.Providers = append(rep.Providers, *p)
	}
	sort.Slice(rep.Providers, func(i, j int) bool { return rep.Providers[i].Provider < rep.Providers[j].Provider })
	for _, s := range sources {
		s.Precision = ratio(s.Right, s.N)
		rep.Sources = append(rep.Sources, *s)
	}
	sort.Slice(rep.Sources, func(i, j int) bool {
		a, b := rep.Sources[i], rep.Sources[j]
		return a.N > b.N || a.N == b.N && a.Source < b.Source
	})
	return rep
}

func containsType(list []classifier.IPType, t classifier.IPType) bool {
	for _, v := range list {
		if v == t {
			return true
		}
	}
	return false
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ReadLabelledCSV reads truth rows `ip,expected_type[,expected_provider]`.
// A header row (first field "ip") is skipped; blank lines and lines starting
// with '#' are ignored. An unknown type, or a row with fewer than two
// fields, is an error naming the line. An address that is not an IP is not
// an error here: Score lists it as invalid.
func ReadLabelledCSV(r io.Reader, origin string) ([]Truth, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	var out []Truth
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read labelled CSV %s: %w", origin, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 2 {
			return nil, fmt.Errorf("labelled CSV %s line %d: want ip,expected_type[,expected_provider], got %q", origin, line, strings.Join(rec, ","))
		}
		ip := strings.TrimSpace(rec[0])
		if first && strings.EqualFold(ip, "ip") {
			continue
		}
		typ := classifier.IPType(strings.ToLower(strings.TrimSpace(rec[1])))
		if !typ.Valid() {
			return nil, fmt.Errorf("labelled CSV %s line %d: unknown type %q (want tor, cloud, datacenter, residential or unknown)", origin, line, rec[1])
		}
		t := Truth{IP: ip, Type: typ, Origin: origin}
		if len(rec) > 2 {
			t.Provider = parse.CloudProvider(rec[2])
		}
		out = append(out, t)
	}
}

// Markdown renders the report as tables: per type, per provider, per
// origin (with its largest misses), and the confusion matrix.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Labels against truth (%d addresses", r.Total)
	if len(r.Invalid) > 0 {
		fmt.Fprintf(&b, ", %d invalid skipped", len(r.Invalid))
	}
	b.WriteString(")\n\n| type | expected | predicted | correct | precision | recall | coverage |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.Types {
		if t.Expected == 0 && t.Predicted == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s | %s |\n", t.Type, t.Expected, t.Predicted, t.Correct,
			pct(t.Precision, t.Predicted), pct(t.Recall, t.Expected), pct(t.Coverage, t.Expected))
	}
	if len(r.Providers) > 0 {
		b.WriteString("\n| provider | expected | right type and provider | agreement |\n|---|---:|---:|---:|\n")
		for _, p := range r.Providers {
			fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", p.Provider, p.Expected, p.Correct, pct(p.Agreement, p.Expected))
		}
	}
	if len(r.Origins) > 0 {
		b.WriteString("\n| origin | expected | n | right | share right | coverage | answers |\n|---|---|---:|---:|---:|---:|---|\n")
		for _, o := range r.Origins {
			exp := string(o.Expected)
			if exp == "" {
				exp = "as labelled"
			}
			for _, a := range o.Accepted {
				exp += " or " + string(a)
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s |\n", o.Origin, exp, o.N, o.Right,
				pct(o.Share, o.N), pct(o.Coverage, o.N), gotSummary(o.Got))
		}
		for _, o := range r.Origins {
			if len(o.TopMisses) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\nLargest misses of %s: ", o.Origin)
			for i, m := range o.TopMisses {
				if i > 0 {
					b.WriteString("; ")
				}
				fmt.Fprintf(&b, "%s → %s ×%d", m.Label, m.Got, m.Count)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Sources) > 0 {
		b.WriteString("\n| answered by (source) | answers | right | precision |\n|---|---:|---:|---:|\n")
		for _, s := range r.Sources {
			fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", s.Source, s.N, s.Right, pct(s.Precision, s.N))
		}
	}
	b.WriteString("\nConfusion (rows expected, columns got):\n\n| expected \\ got |")
	for _, t := range classifier.Types() {
		fmt.Fprintf(&b, " %s |", t)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(classifier.Types())) + "\n")
	for _, exp := range classifier.Types() {
		row, ok := r.Confusion[exp]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "| %s |", exp)
		for _, got := range classifier.Types() {
			fmt.Fprintf(&b, " %d |", row[got])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// gotSummary lists answer counts by type in priority order: "tor 3, unknown 1".
func gotSummary(got map[classifier.IPType]int) string {
	var parts []string
	for _, t := range classifier.Types() {
		if n := got[t]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
	}
	return strings.Join(parts, ", ")
}

func pct(v float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}
