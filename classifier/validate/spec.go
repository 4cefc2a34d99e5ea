package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// Spec says what Run measures. Its JSON form is what the C ABI's Validate
// export and the Python CLI pass.
type Spec struct {
	// Seed seeds every sampler (with the sampler's origin): the same spec
	// and seed draw the same addresses.
	Seed uint64 `json:"seed"`
	// Count is the count of samplers that set none (see SamplerSpec).
	Count int `json:"count,omitempty"`
	// Truth lists labelled CSVs (ip,expected_type[,expected_provider]).
	Truth []string `json:"truth,omitempty"`
	// Addresses lists plain address lists (one a line, no truth): each is
	// surveyed (Survey: coverage, types, sources, lists, confidence).
	Addresses []string      `json:"addresses,omitempty"`
	Samplers  []SamplerSpec `json:"samplers,omitempty"`
	ASNames   []ASNamesSpec `json:"asn_names,omitempty"`
	Targets   []TargetSpec  `json:"targets,omitempty"`
	// RealData is a folder laid out as ../shared/data (see its SOURCES.md):
	// Run then measures an engine of its own, loaded from that folder, not
	// the caller's; and when the spec lists nothing to measure, it runs the
	// standard suite (RealDataSpec).
	RealData string `json:"real_data,omitempty"`
}

// TargetSpec is a figure to check. Origin names a sampler origin (or a
// truth file's) and Metric its figure (see originFigure): its share of
// right answers (MetricShare, the default), its coverage (MetricCoverage),
// or the precision of its expected type against the answers to the origin
// Against (MetricPrecision); Half "even" or "odd" takes the figure among
// the truths of that half alone (OriginScore.Halves; Metric "even" or
// "odd" is the older spelling of the share of a half). Or Source names a
// rule of the engine (a Result.Source such as "asn_profile"), whose
// precision over every truth is the figure (SourceScore); or ASNames names
// an AS-name run (its label) and Metric the figure (see
// ASNamesScore.Metric). Min nil only reports the figure.
type TargetSpec struct {
	Name    string   `json:"name"`
	Origin  string   `json:"origin,omitempty"`
	Source  string   `json:"source,omitempty"`
	ASNames string   `json:"asn_names,omitempty"`
	Metric  string   `json:"metric,omitempty"`
	Half    string   `json:"half,omitempty"`
	Against string   `json:"against,omitempty"`
	Min     *float64 `json:"min,omitempty"`
}

// The figures of an origin a target can name (TargetSpec.Metric).
const (
	MetricShare     = "share"
	MetricCoverage  = "coverage"
	MetricPrecision = "precision"
)

// TargetResult is a checked target. Met is nil for a figure only reported;
// Missing is true when the origin or run it names was not measured.
type TargetResult struct {
	Name    string   `json:"name"`
	Value   float64  `json:"value"`
	N       int      `json:"n"`
	Min     *float64 `json:"min,omitempty"`
	Met     *bool    `json:"met,omitempty"`
	Missing bool     `json:"missing,omitempty"`
}

// Outcome is what Run found. Markdown renders all of it.
type Outcome struct {
	Seed     uint64         `json:"seed"`
	RealData string         `json:"real_data,omitempty"`
	Samples  []SampleInfo   `json:"samples,omitempty"`
	Report   *Report        `json:"report,omitempty"`
	Surveys  []Survey       `json:"surveys,omitempty"`
	ASNames  []ASNamesScore `json:"asn_names,omitempty"`
	Targets  []TargetResult `json:"targets,omitempty"`
	// TargetsMissed counts targets with a minimum not reached (or not
	// measured).
	TargetsMissed int `json:"targets_missed"`
	// Engine describes the engine measured in real-data mode: its refresh,
	// one line per source.
	Engine   []string `json:"engine,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	Markdown string   `json:"markdown"`
}

// ParseSpec reads a JSON spec; unknown keys are an error.
func ParseSpec(data []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, specErr("parse spec: %v", err)
	}
	return s, nil
}

// empty reports whether the spec lists nothing to measure.
func (s Spec) empty() bool {
	return len(s.Truth) == 0 && len(s.Addresses) == 0 && len(s.Samplers) == 0 && len(s.ASNames) == 0
}

// NeedsEngine reports whether Run needs the caller's engine for spec: it
// does for labelled CSVs, address lists and samplers, unless spec.RealData
// gives an engine of its own; AS-name runs score names alone.
func (s Spec) NeedsEngine() bool {
	return s.RealData == "" && (len(s.Truth) > 0 || len(s.Addresses) > 0 || len(s.Samplers) > 0)
}

// Run measures what spec lists against e (or, in real-data mode, against
// an engine loaded from spec.RealData). e may be nil when the spec does not
// need it (see NeedsEngine). Errors about the spec or its files satisfy
// IsSpecError.
func Run(ctx context.Context, e *classifier.Engine, spec Spec) (Outcome, error) {
	out := Outcome{Seed: spec.Seed}
	if e == nil && spec.NeedsEngine() {
		return out, specErr("no engine to measure: truth, address lists and samplers need one (or real_data)")
	}
	if spec.RealData != "" {
		dir, err := filepath.Abs(spec.RealData)
		if err != nil {
			return out, specErr("real_data: %v", err)
		}
		if spec.empty() {
			std := RealDataSpec(dir)
			std.Seed, std.Count, std.RealData = spec.Seed, spec.Count, spec.RealData
			spec = std
		}
		out.RealData = spec.RealData
		scratch, err := os.MkdirTemp("", "ipclassifier-validate-")
		if err != nil {
			return out, fmt.Errorf("real data: %w", err)
		}
		defer os.RemoveAll(scratch)
		re, lines, notes, err := OpenRealData(ctx, dir, scratch)
		if err != nil {
			return out, err
		}
		defer re.Close()
		e = re
		out.Engine, out.Notes = lines, notes
	}
	var truths []Truth
	for _, path := range spec.Truth {
		f, err := os.Open(path)
		if err != nil {
			return out, specErr("%v", err)
		}
		t, err := ReadLabelledCSV(f, filepath.Base(path))
		f.Close()
		if err != nil {
			return out, specErr("%v", err)
		}
		truths = append(truths, t...)
	}
	for _, s := range spec.Samplers {
		if s.Count == 0 {
			s.Count = spec.Count
		}
		t, info, err := Sample(s, spec.Seed)
		if err != nil {
			return out, err
		}
		truths = append(truths, t...)
		out.Samples = append(out.Samples, info)
	}
	if len(truths) > 0 {
		rep, err := Score(ctx, e, truths)
		if err != nil {
			return out, err
		}
		out.Report = &rep
	}
	for _, path := range spec.Addresses {
		s, err := SurveyFile(ctx, e, path)
		if err != nil {
			return out, err
		}
		out.Surveys = append(out.Surveys, s)
	}
	for _, a := range spec.ASNames {
		s, err := ScoreASNames(a)
		if err != nil {
			return out, err
		}
		out.ASNames = append(out.ASNames, s)
	}
	out.Targets = checkTargets(spec.Targets, out)
	for _, t := range out.Targets {
		if t.Met != nil && !*t.Met {
			out.TargetsMissed++
		}
	}
	out.Markdown = out.markdown()
	return out, nil
}

func checkTargets(specs []TargetSpec, out Outcome) []TargetResult {
	var res []TargetResult
	for _, ts := range specs {
		r := TargetResult{Name: ts.Name, Min: ts.Min}
		found := false
		switch {
		case ts.Source != "" && out.Report != nil:
			if src, ok := out.Report.Source(ts.Source); ok {
				r.Value, r.N, found = src.Precision, src.N, true
			}
		case ts.Origin != "" && out.Report != nil:
			r.Value, r.N, found = originFigure(ts, *out.Report)
		case ts.ASNames != "":
			for _, s := range out.ASNames {
				if s.Label == ts.ASNames {
					r.Value, r.N, found = s.Metric(ts.Metric)
					break
				}
			}
		}
		r.Missing = !found
		if ts.Min != nil {
			met := found && r.Value >= *ts.Min
			r.Met = &met
		}
		res = append(res, r)
	}
	return res
}

// originFigure is the figure ts names of its origin (see TargetSpec), the
// number of truths it is over, and whether it was measured.
//
// Precision is measured at one address of the origin for each address of
// Against, whatever the sample sizes: the share of the origin's truths
// answered right, over that share plus the share of Against's truths
// answered with a type right for the origin (an expected datacenter
// accepts cloud, so a residential address answered cloud counts against
// hosting precision). n is then the right answers of both.
func originFigure(ts TargetSpec, rep Report) (float64, int, bool) {
	metric, half := ts.Metric, ts.Half
	if metric == SplitEven || metric == SplitOdd {
		metric, half = MetricShare, metric
	}
	o, ok := rep.Origin(ts.Origin)
	if !ok {
		return 0, 0, false
	}
	h, ok := o.half(half)
	if !ok {
		return 0, 0, false
	}
	switch metric {
	case "", MetricShare:
		return h.Share, h.N, true
	case MetricCoverage:
		return h.Coverage, h.N, true
	case MetricPrecision:
		a, ok := rep.Origin(ts.Against)
		if !ok {
			return 0, 0, false
		}
		ah, ok := a.half(half)
		if !ok || ah.N == 0 {
			return 0, 0, false
		}
		wrong := 0
		for t, n := range ah.Got {
			if t == o.Expected || containsType(o.Accepted, t) {
				wrong += n
			}
		}
		wrongShare := ratio(wrong, ah.N)
		if h.Share+wrongShare == 0 {
			return 0, h.Right + wrong, true
		}
		return h.Share / (h.Share + wrongShare), h.Right + wrong, true
	}
	return 0, 0, false
}

// markdown renders the whole outcome.
func (o Outcome) markdown() string {
	var b strings.Builder
	if len(o.Targets) > 0 {
		b.WriteString("### Targets\n\n| target | measured | n | goal | met |\n|---|---:|---:|---:|---|\n")
		for _, t := range o.Targets {
			goal, met := "reported", ""
			if t.Min != nil {
				goal = fmt.Sprintf("≥ %.1f%%", 100**t.Min)
				met = "no"
				if *t.Met {
					met = "yes"
				}
			}
			value := pct(t.Value, t.N)
			if t.Missing {
				value = "not measured"
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", t.Name, value, t.N, goal, met)
		}
		b.WriteString("\n")
	}
	if len(o.ASNames) > 0 {
		b.WriteString(asNamesMarkdown(o.ASNames))
		b.WriteString("\n")
	}
	if len(o.Samples) > 0 {
		fmt.Fprintf(&b, "### Samples (seed %d)\n\n| sampler | origins | drawn | from | note |\n|---|---|---:|---:|---|\n", o.Seed)
		for _, s := range o.Samples {
			from := fmt.Sprintf("%d %s", s.Population, map[string]string{KindTor: "addresses", KindCloud: "prefixes", KindASNTags: "ranges"}[s.Kind])
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", s.Kind, strings.Join(s.Origins, ", "), s.Drawn, from, s.Note)
		}
		b.WriteString("\n")
	}
	if o.Report != nil {
		b.WriteString(o.Report.Markdown())
		b.WriteString("\n")
	}
	for _, s := range o.Surveys {
		b.WriteString(s.Markdown())
	}
	if len(o.Engine) > 0 {
		fmt.Fprintf(&b, "### Engine measured (loaded from %s)\n\n", o.RealData)
		for _, l := range o.Engine {
			b.WriteString("- " + l + "\n")
		}
		b.WriteString("\n")
	}
	if len(o.Notes) > 0 {
		b.WriteString("### Notes\n\n")
		for _, n := range o.Notes {
			b.WriteString("- " + n + "\n")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
