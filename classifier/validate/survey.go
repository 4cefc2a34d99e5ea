package validate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// Survey is how the engine answered a plain list of addresses with no
// truth (one address a line, as a honeypot or a blocklist gives them):
// how many it labelled (coverage), with which types, from which rules
// (Result.Source) and lists (Result.Snapshot), where their ASN came from,
// and how confident the answers were. Each distinct address counts once.
type Survey struct {
	File string `json:"file"`
	// Lines counts the address lines read (blank and '#' lines skipped);
	// Addresses the distinct valid addresses among them; Invalid the lines
	// that are not an address (the first few in InvalidExamples).
	Lines           int      `json:"lines"`
	Addresses       int      `json:"addresses"`
	Invalid         int      `json:"invalid"`
	InvalidExamples []string `json:"invalid_examples,omitempty"`
	IPv4            int      `json:"ipv4"`
	IPv6            int      `json:"ipv6"`
	// Covered counts the addresses answered anything but unknown;
	// Coverage = Covered / Addresses.
	Covered  int     `json:"covered"`
	Coverage float64 `json:"coverage"`
	// ByType, BySource, BySnapshot and ByASNSource count the answers by
	// Result.Type, Result.Source, Result.Snapshot ("" = none) and
	// Result.ASNSource ("" = none).
	ByType      map[classifier.IPType]int `json:"by_type"`
	BySource    map[string]int            `json:"by_source"`
	BySnapshot  map[string]int            `json:"by_snapshot"`
	ByASNSource map[string]int            `json:"by_asn_source"`
	// Confidence counts the answers in each confidence band (see
	// confidenceBands), unknown answers included (band "0").
	Confidence []Band `json:"confidence"`
	// Tags counts the answers carrying each tag (scanner:censys, vpn,
	// tor_exit, …); nil when no answer carries one.
	Tags map[string]int `json:"tags,omitempty"`
}

// Band is a count of answers whose confidence lies in [Min, Max).
type Band struct {
	Label string  `json:"label"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	N     int     `json:"n"`
}

// confidenceBands are the bands Survey.Confidence counts: unknown (0), the
// weak rules (AS profile 0.3, AS-name weak patterns and hosting names
// 0.5), the ASN lists and strong AS-name patterns (0.6 to 0.8), the prefix
// lists (0.75 to 0.99).
var confidenceBands = []Band{
	{Label: "0", Min: 0, Max: 1e-9},
	{Label: "(0, 0.5)", Min: 1e-9, Max: 0.5},
	{Label: "[0.5, 0.7)", Min: 0.5, Max: 0.7},
	{Label: "[0.7, 0.9)", Min: 0.7, Max: 0.9},
	{Label: "[0.9, 1]", Min: 0.9, Max: 1.0 + 1e-9},
}

// maxInvalidExamples bounds Survey.InvalidExamples.
const maxInvalidExamples = 5

// ReadAddressList reads a plain list of addresses: one a line, blank lines
// and '#' comments skipped, anything after the first space or tab on a line
// ignored (a count, a comment). It returns the address texts in order, as
// written.
func ReadAddressList(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, " \t,"); i >= 0 {
			line = line[:i]
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read address list: %w", err)
	}
	return out, nil
}

// SurveyFile classifies every distinct address of the plain list at path
// with e, from its index alone (no cache tier, no caller ASN: the engine
// finds the ASN itself), and counts the answers.
func SurveyFile(ctx context.Context, e *classifier.Engine, path string) (Survey, error) {
	f, err := os.Open(path)
	if err != nil {
		return Survey{}, specErr("%v", err)
	}
	defer f.Close()
	lines, err := ReadAddressList(f)
	if err != nil {
		return Survey{}, specErr("%s: %v", path, err)
	}
	return SurveyAddresses(ctx, e, filepath.Base(path), lines)
}

// SurveyAddresses is SurveyFile over address texts already read; name
// becomes Survey.File.
func SurveyAddresses(ctx context.Context, e *classifier.Engine, name string, lines []string) (Survey, error) {
	s := Survey{
		File: name, Lines: len(lines), ByType: map[classifier.IPType]int{}, BySource: map[string]int{},
		BySnapshot: map[string]int{}, ByASNSource: map[string]int{},
		Confidence: append([]Band(nil), confidenceBands...),
	}
	seen := map[netip.Addr]bool{}
	var qs []classifier.Query
	for _, l := range lines {
		a, err := netip.ParseAddr(l)
		if err != nil {
			s.Invalid++
			if len(s.InvalidExamples) < maxInvalidExamples {
				s.InvalidExamples = append(s.InvalidExamples, l)
			}
			continue
		}
		a = a.Unmap()
		if seen[a] {
			continue
		}
		seen[a] = true
		qs = append(qs, classifier.Query{IP: a.String()})
	}
	for start := 0; start < len(qs); start += scoreChunk {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		res, errs := e.ClassifyUncached(qs[start:min(start+scoreChunk, len(qs))])
		for i, r := range res {
			if errs[i] != nil {
				if errors.Is(errs[i], classifier.ErrClosed) {
					return s, errs[i]
				}
				s.Invalid++ // a zone or other form ParseAddr took and the engine does not
				continue
			}
			s.count(r)
		}
	}
	s.Coverage = ratio(s.Covered, s.Addresses)
	return s, nil
}

// count adds one answer.
func (s *Survey) count(r classifier.Result) {
	s.Addresses++
	if a, err := netip.ParseAddr(r.IP); err == nil && a.Is4() {
		s.IPv4++
	} else {
		s.IPv6++
	}
	if r.Type != classifier.TypeUnknown {
		s.Covered++
	}
	s.ByType[r.Type]++
	s.BySource[r.Source]++
	s.BySnapshot[r.Snapshot]++
	s.ByASNSource[r.ASNSource]++
	for i, b := range s.Confidence {
		if r.Confidence >= b.Min && r.Confidence < b.Max {
			s.Confidence[i].N++
			break
		}
	}
	for _, t := range r.Tags {
		if s.Tags == nil {
			s.Tags = map[string]int{}
		}
		s.Tags[t]++
	}
}

// Markdown renders the survey: the totals, then each breakdown as a table
// sorted by count.
func (s Survey) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Survey of %s (no truth)\n\n", s.File)
	fmt.Fprintf(&b, "%d lines, %d distinct addresses (%d IPv4, %d IPv6), %d invalid", s.Lines, s.Addresses, s.IPv4, s.IPv6, s.Invalid)
	if len(s.InvalidExamples) > 0 {
		fmt.Fprintf(&b, " (e.g. %s)", strings.Join(quoteAll(s.InvalidExamples), ", "))
	}
	fmt.Fprintf(&b, ". **Coverage: %s** (%d labelled, %d unknown).\n\n", pct(s.Coverage, s.Addresses), s.Covered, s.Addresses-s.Covered)
	types := map[string]int{}
	for _, t := range classifier.Types() {
		if n := s.ByType[t]; n > 0 {
			types[string(t)] = n
		}
	}
	b.WriteString(countTable("type", types, s.Addresses))
	b.WriteString(countTable("answered by (source)", s.BySource, s.Addresses))
	b.WriteString(countTable("list (snapshot)", s.BySnapshot, s.Addresses))
	b.WriteString(countTable("ASN from", s.ByASNSource, s.Addresses))
	b.WriteString("| confidence | answers | share |\n|---|---:|---:|\n")
	for _, band := range s.Confidence {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", band.Label, band.N, pct(ratio(band.N, s.Addresses), s.Addresses))
	}
	b.WriteString("\n")
	if len(s.Tags) > 0 {
		b.WriteString(countTable("tag", s.Tags, s.Addresses))
	}
	return b.String()
}

// countTable renders counts as a markdown table sorted by count (then
// key), with each count's share of total; an empty key reads "(none)".
func countTable(head string, counts map[string]int, total int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | answers | share |\n|---|---:|---:|\n", head)
	for _, k := range keys {
		name := k
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(&b, "| %s | %d | %s |\n", name, counts[k], pct(ratio(counts[k], total), total))
	}
	return b.String() + "\n"
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
