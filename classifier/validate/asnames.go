package validate

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asname"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Splits of the AS-name scorer: every ASN, or only the even or odd ones.
// The patterns of classifier/asname.go are tuned on the even half; the odd
// half is held out.
const (
	SplitAll  = "all"
	SplitEven = "even"
	SplitOdd  = "odd"
)

// ASNamesSpec says how to score the AS-name heuristic alone
// (asname.Of) on tagged ASN lists.
type ASNamesSpec struct {
	// Label names the run in the report (and in targets); default: made
	// from the files and split.
	Label string `json:"label,omitempty"`
	// Names holds the AS names: a bgp.tools asns.csv (RFC 4180, header
	// asn,name,class,cc; plain or gzip) or an iptoasn table (its
	// AS_description, the names the engine sees when the caller passes
	// none).
	Names string `json:"names"`
	// Positive are the tag files of residential networks (dsl, mobile),
	// Negative those of hosting networks (vpsh, cdn). An ASN in both is
	// left out.
	Positive []string `json:"positive_tags"`
	Negative []string `json:"negative_tags"`
	// Split is all (default), even or odd.
	Split string `json:"split,omitempty"`
	// Examples lists up to this many names of each kind of error.
	Examples int `json:"examples,omitempty"`
}

// ClassScore is the heuristic's score on one class: N tagged ASNs with a
// name; Right of them given the class; False ASNs of the other class given
// this one. Precision = Right / (Right + False), Recall = Right / N.
type ClassScore struct {
	N         int     `json:"n"`
	Right     int     `json:"right"`
	False     int     `json:"false"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// ASNamesScore is the outcome of ScoreASNames. Residential is scored over
// the residential-only ASNs (positive tags, not negative), Hosting (the
// heuristic's datacenter answers) over the hosting-only ones.
type ASNamesScore struct {
	Label       string     `json:"label"`
	Names       string     `json:"names"`
	Positive    []string   `json:"positive_tags"`
	Negative    []string   `json:"negative_tags"`
	Split       string     `json:"split"`
	Residential ClassScore `json:"residential"`
	Hosting     ClassScore `json:"hosting"`
	// Both counts ASNs of the split tagged both ways (left out), Unnamed
	// tagged ASNs of the split that Names has no name for (left out).
	Both    int `json:"both"`
	Unnamed int `json:"unnamed"`
	// Examples (at most Spec.Examples each, sorted).
	FalseResidential  []string `json:"false_residential,omitempty"`
	FalseHosting      []string `json:"false_hosting,omitempty"`
	MissedResidential []string `json:"missed_residential,omitempty"`
	MissedHosting     []string `json:"missed_hosting,omitempty"`
}

// Metric returns a figure by name: residential_recall,
// residential_precision, hosting_recall or hosting_precision.
func (s ASNamesScore) Metric(name string) (float64, int, bool) {
	switch name {
	case "residential_recall":
		return s.Residential.Recall, s.Residential.N, true
	case "residential_precision":
		return s.Residential.Precision, s.Residential.Right + s.Residential.False, true
	case "hosting_recall":
		return s.Hosting.Recall, s.Hosting.N, true
	case "hosting_precision":
		return s.Hosting.Precision, s.Hosting.Right + s.Hosting.False, true
	}
	return 0, 0, false
}

// splitFilter returns whether an ASN is in split ("" is all); false for an
// unknown split.
func splitFilter(split string) (func(uint32) bool, bool) {
	switch split {
	case "", SplitAll:
		return func(uint32) bool { return true }, true
	case SplitEven:
		return func(a uint32) bool { return a%2 == 0 }, true
	case SplitOdd:
		return func(a uint32) bool { return a%2 == 1 }, true
	}
	return nil, false
}

// ScoreASNames runs the AS-name heuristic on the names of the tagged ASNs
// of one split.
func ScoreASNames(spec ASNamesSpec) (ASNamesScore, error) {
	split := spec.Split
	if split == "" {
		split = SplitAll
	}
	keep, ok := splitFilter(split)
	if !ok {
		return ASNamesScore{}, specErr("asn_names: split %q (want all, even or odd)", spec.Split)
	}
	if spec.Names == "" || len(spec.Positive) == 0 || len(spec.Negative) == 0 {
		return ASNamesScore{}, specErr("asn_names: needs a names file, positive tags and negative tags")
	}
	names, err := ReadASNames(spec.Names)
	if err != nil {
		return ASNamesScore{}, err
	}
	pos, err := ReadTags(spec.Positive...)
	if err != nil {
		return ASNamesScore{}, err
	}
	neg, err := ReadTags(spec.Negative...)
	if err != nil {
		return ASNamesScore{}, err
	}
	label := spec.Label
	if label == "" {
		label = fmt.Sprintf("%s: %s vs %s, %s ASNs", filepath.Base(spec.Names), tagNames(spec.Positive), tagNames(spec.Negative), split)
	}
	s := ASNamesScore{Label: label, Names: spec.Names, Positive: spec.Positive, Negative: spec.Negative, Split: split}
	for a := range pos {
		if keep(a) && neg[a] {
			s.Both++
		}
	}
	// Visit ASNs in order so the examples are stable.
	visit := func(set, other map[uint32]bool, fn func(asn uint32, name string, m asname.Match)) {
		asns := make([]uint32, 0, len(set))
		for a := range set {
			if keep(a) && !other[a] {
				asns = append(asns, a)
			}
		}
		sort.Slice(asns, func(i, j int) bool { return asns[i] < asns[j] })
		for _, a := range asns {
			name, ok := names[a]
			if !ok || name == "" {
				s.Unnamed++
				continue
			}
			fn(a, name, asname.Of(name))
		}
	}
	var falseRes, falseHost, missRes, missHost []string
	example := func(asn uint32, name string, m asname.Match) string {
		return fmt.Sprintf("AS%d %s [%s]", asn, name, strings.Join(m.Patterns, ","))
	}
	visit(pos, neg, func(asn uint32, name string, m asname.Match) {
		s.Residential.N++
		switch m.Kind {
		case asname.Residential:
			s.Residential.Right++
		case asname.Hosting:
			s.Hosting.False++
			falseHost = append(falseHost, example(asn, name, m))
		default:
			missRes = append(missRes, example(asn, name, m))
		}
	})
	visit(neg, pos, func(asn uint32, name string, m asname.Match) {
		s.Hosting.N++
		switch m.Kind {
		case asname.Hosting:
			s.Hosting.Right++
		case asname.Residential:
			s.Residential.False++
			falseRes = append(falseRes, example(asn, name, m))
		default:
			missHost = append(missHost, example(asn, name, m))
		}
	})
	for _, c := range []*ClassScore{&s.Residential, &s.Hosting} {
		c.Precision = ratio(c.Right, c.Right+c.False)
		c.Recall = ratio(c.Right, c.N)
	}
	if n := spec.Examples; n > 0 {
		s.FalseResidential, s.FalseHosting = falseRes[:min(n, len(falseRes))], falseHost[:min(n, len(falseHost))]
		s.MissedResidential, s.MissedHosting = missRes[:min(n, len(missRes))], missHost[:min(n, len(missHost))]
	}
	return s, nil
}

// ReadASNames reads AS names by ASN from a bgp.tools asns.csv (RFC 4180,
// header asn,name,class,cc: quoted names may hold commas and newlines) or
// an iptoasn table (the name of an ASN's first range); plain or gzip.
func ReadASNames(path string) (map[uint32]string, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if parse.Detect(data) == parse.FormatIP2ASN {
		p, err := parse.IP2ASN(data)
		if err != nil {
			return nil, specErr("%s: %v", path, err)
		}
		out := map[uint32]string{}
		if p.Table == nil {
			return nil, specErr("%s: no routed range", path)
		}
		for _, r := range p.Table.Ranges() {
			if _, ok := out[r.ASN]; !ok {
				out[r.ASN] = r.Name
			}
		}
		if len(out) == 0 {
			return nil, specErr("%s: no routed range", path)
		}
		return out, nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, specErr("%s: %v", path, err)
	}
	asnCol, nameCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "asn":
			asnCol = i
		case "name":
			nameCol = i
		}
	}
	if asnCol < 0 || nameCol < 0 {
		return nil, specErr("%s: want an asns.csv with header asn,name,… or an ip2asn table, got header %q", path, strings.Join(header, ","))
	}
	out := map[uint32]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, specErr("%s: %v", path, err)
		}
		if asnCol >= len(rec) || nameCol >= len(rec) {
			continue
		}
		if a, ok := parseASN(rec[asnCol]); ok {
			out[a] = rec[nameCol]
		}
	}
}

// Markdown renders AS-name scores as one table.
func asNamesMarkdown(scores []ASNamesScore) string {
	var b strings.Builder
	b.WriteString("### AS-name heuristic alone, on tagged ASNs\n\n")
	b.WriteString("| run | split | residential ASNs | residential recall | residential precision | hosting ASNs | hosting recall | hosting precision |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range scores {
		fmt.Fprintf(&b, "| %s | %s | %d | %s (%d) | %s (%d false) | %d | %s (%d) | %s (%d false) |\n",
			s.Label, s.Split, s.Residential.N,
			pct(s.Residential.Recall, s.Residential.N), s.Residential.Right,
			pct(s.Residential.Precision, s.Residential.Right+s.Residential.False), s.Residential.False,
			s.Hosting.N, pct(s.Hosting.Recall, s.Hosting.N), s.Hosting.Right,
			pct(s.Hosting.Precision, s.Hosting.Right+s.Hosting.False), s.Hosting.False)
	}
	b.WriteString("\nResidential: ASNs tagged by the positive tags and not the negative ones; hosting: the reverse. " +
		"Precision of residential counts hosting-only ASNs called residential, and the reverse.\n")
	for _, s := range scores {
		for _, ex := range []struct {
			what  string
			names []string
			total int
		}{
			{"hosting-only called residential", s.FalseResidential, s.Residential.False},
			{"residential-only called datacenter", s.FalseHosting, s.Hosting.False},
			{"residential-only called nothing", s.MissedResidential, s.Residential.N - s.Residential.Right - s.Hosting.False},
			{"hosting-only called nothing", s.MissedHosting, s.Hosting.N - s.Hosting.Right - s.Residential.False},
		} {
			if len(ex.names) > 0 {
				fmt.Fprintf(&b, "\n%s, %s (%d of %d): %s\n", s.Label, ex.what, len(ex.names), ex.total, strings.Join(ex.names, "; "))
			}
		}
	}
	return b.String()
}
