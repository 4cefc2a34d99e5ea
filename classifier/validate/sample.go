package validate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Sampler kinds (SamplerSpec.Kind).
const (
	KindTor     = "tor"      // every address of a Tor list
	KindCloud   = "cloud"    // addresses drawn from a cloud provider's own ranges
	KindASNTags = "asn_tags" // addresses drawn from the ranges of tagged ASNs
)

// FormatExitsCSV is the exit relay list of alireza-rezaee/tor-nodes
// (latest.exits.csv: header "fingerprint, ipaddr, port", comma and space
// separated), which the Tor sampler reads besides the engine's formats.
const FormatExitsCSV = "exits-csv"

// SamplerSpec says what one sampler draws. Count 0 takes every address of
// a Tor list, one random address in every prefix of a cloud file, and one
// random address in every range of a tagged ASN; Count N takes N (per
// address family) at random: N addresses of a Tor list, N addresses each in
// a prefix (or range) picked at random — each range alike, or, for an
// asn_tags sampler with Weight "size", in proportion to its size: N
// addresses drawn uniformly over the tagged networks' address space. Family
// limits the draw to "v4" or "v6"; either way each family is reported as
// its own origin.
type SamplerSpec struct {
	Kind string `json:"kind"`
	// Name is the origin's label (" v4"/" v6" is appended); default: made
	// from the kind and files.
	Name string `json:"name,omitempty"`
	// File is the Tor list (bulk list, Onionoo JSON, exits CSV) or the
	// cloud file (first-party JSON or rezmoss CSV).
	File string `json:"file,omitempty"`
	// Format is a classifier format (parse.Formats) or
	// FormatExitsCSV; empty: detected from the content.
	Format string `json:"format,omitempty"`
	// Provider is the expected cloud provider; empty: the one the
	// first-party parser names (required for a rezmoss CSV).
	Provider string `json:"provider,omitempty"`
	Count    int    `json:"count,omitempty"`
	Family   string `json:"family,omitempty"`
	// IP2ASN is the iptoasn table (plain or gzip) whose ranges an asn_tags
	// sampler draws from.
	IP2ASN string `json:"ip2asn,omitempty"`
	// Tags are tag files (bgp.tools tags-*.csv: "AS<n>,<name>" per line):
	// an ASN in one of Tags and in none of ExcludeTags is drawn from.
	Tags        []string `json:"tags,omitempty"`
	ExcludeTags []string `json:"exclude_tags,omitempty"`
	// Type is the expected type of an asn_tags sample: residential, or
	// datacenter (cloud counts as right too).
	Type classifier.IPType `json:"type,omitempty"`
	// Weight is how an asn_tags sampler with a Count picks its ranges:
	// WeightRange ("" or "range": each range alike) or WeightSize ("size":
	// by the number of addresses it holds).
	Weight string `json:"weight,omitempty"`
}

// The weights of an asn_tags sampler (SamplerSpec.Weight).
const (
	WeightRange = "range"
	WeightSize  = "size"
)

// SampleInfo describes what a sampler drew.
type SampleInfo struct {
	Kind    string   `json:"kind"`
	Origins []string `json:"origins"`
	Files   []string `json:"files"`
	Drawn   int      `json:"drawn"`
	// Population is what was drawn from: addresses (tor), prefixes (cloud)
	// or ranges (asn_tags) of the families drawn; ASNs counts the tagged
	// ASNs with at least one such range.
	Population int    `json:"population"`
	ASNs       int    `json:"asns,omitempty"`
	Note       string `json:"note,omitempty"`
}

// errSpec marks errors in what the caller asked for.
var errSpec = errors.New("validate")

func specErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errSpec, fmt.Sprintf(format, args...))
}

// IsSpecError reports whether err is about the spec or its files (rather
// than the engine).
func IsSpecError(err error) bool { return errors.Is(err, errSpec) }

// Sample draws the truths of one sampler. seed and the sampler's origin
// seed its random source, so a run is repeatable and adding a sampler does
// not change what the others draw.
func Sample(s SamplerSpec, seed uint64) ([]Truth, SampleInfo, error) {
	if s.Count < 0 {
		return nil, SampleInfo{}, specErr("%s sampler: negative count %d", s.Kind, s.Count)
	}
	switch s.Family {
	case "", "v4", "v6":
	default:
		return nil, SampleInfo{}, specErr("%s sampler: family %q (want v4, v6 or empty for both)", s.Kind, s.Family)
	}
	switch s.Kind {
	case KindTor:
		return sampleTor(s, seed)
	case KindCloud:
		return sampleCloud(s, seed)
	case KindASNTags:
		return sampleASNTags(s, seed)
	}
	return nil, SampleInfo{}, specErr("unknown sampler kind %q (want %s, %s or %s)", s.Kind, KindTor, KindCloud, KindASNTags)
}

// rngFor is the random source of one sampler.
func rngFor(seed uint64, origin string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(origin))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

func familyOf(a netip.Addr) string {
	if a.Is4() {
		return "v4"
	}
	return "v6"
}

func wantFamily(s SamplerSpec, fam string) bool { return s.Family == "" || s.Family == fam }

// readFile reads a file, gunzipping it when it is gzip.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, specErr("%v", err)
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, specErr("%s: %v", path, err)
		}
		defer zr.Close()
		if b, err = io.ReadAll(zr); err != nil {
			return nil, specErr("%s: %v", path, err)
		}
	}
	return b, nil
}

// parseFile reads path with the engine's parser for format (detected from
// the content when empty).
func parseFile(path, format, provider string) (parse.Parsed, string, error) {
	data, err := readFile(path)
	if err != nil {
		return parse.Parsed{}, "", err
	}
	if format == "" {
		format = parse.Detect(data)
		if format == "" {
			return parse.Parsed{}, "", specErr("%s: cannot tell its format (give one: %s)", path, strings.Join(parse.Formats(), ", "))
		}
	}
	parser, err := parse.For(format, provider)
	if err != nil {
		return parse.Parsed{}, format, specErr("%s: %v", path, err)
	}
	p, err := parser(data)
	if err != nil {
		return parse.Parsed{}, format, specErr("%s (%s): %v", path, format, err)
	}
	return p, format, nil
}

// ---------------------------------------------------------------------------
// Tor

func sampleTor(s SamplerSpec, seed uint64) ([]Truth, SampleInfo, error) {
	if s.File == "" {
		return nil, SampleInfo{}, specErr("tor sampler: no file")
	}
	addrs, err := ReadTorAddresses(s.File, s.Format)
	if err != nil {
		return nil, SampleInfo{}, err
	}
	name := s.Name
	if name == "" {
		name = "tor " + filepath.Base(s.File)
	}
	info := SampleInfo{Kind: KindTor, Files: []string{s.File}}
	rng := rngFor(seed, name)
	var out []Truth
	for _, fam := range []string{"v4", "v6"} {
		if !wantFamily(s, fam) {
			continue
		}
		var pool []netip.Addr
		for _, a := range addrs {
			if familyOf(a) == fam {
				pool = append(pool, a)
			}
		}
		if len(pool) == 0 {
			continue
		}
		info.Population += len(pool)
		if s.Count > 0 && s.Count < len(pool) {
			rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
			pool = pool[:s.Count]
			sort.Slice(pool, func(i, j int) bool { return pool[i].Less(pool[j]) })
		}
		origin := name + " " + fam
		info.Origins = append(info.Origins, origin)
		for _, a := range pool {
			out = append(out, Truth{IP: a.String(), Type: classifier.TypeTor, Origin: origin, Label: a.String()})
		}
	}
	info.Drawn = len(out)
	if len(out) == 0 {
		return nil, info, specErr("tor sampler: no address of family %q in %s", s.Family, s.File)
	}
	return out, info, nil
}

// ReadTorAddresses reads the addresses of a Tor list, unique, in address
// order: a bulk exit list, an Onionoo details document (OR and exit
// addresses) or an exits CSV (FormatExitsCSV); format empty = detected.
func ReadTorAddresses(path, format string) ([]netip.Addr, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if format == "" && isExitsCSV(data) || format == FormatExitsCSV {
		return readExitsCSV(path, data)
	}
	if format == "" {
		format = parse.Detect(data)
		if format != parse.FormatOnionoo {
			format = parse.FormatTorList
		}
	}
	if format != parse.FormatTorList && format != parse.FormatOnionoo {
		return nil, specErr("tor sampler: format %q (want %s, %s or %s)", format, parse.FormatTorList, parse.FormatOnionoo, FormatExitsCSV)
	}
	parse, _ := parse.For(format, "")
	p, err := parse(data)
	if err != nil {
		return nil, specErr("%s: %v", path, err)
	}
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, e := range p.Entries {
		if a := e.Prefix.Addr(); e.Prefix.IsSingleIP() && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	if len(out) == 0 {
		return nil, specErr("%s: no address in it (%d records, %d malformed)", path, p.Records, p.Malformed)
	}
	return out, nil
}

func isExitsCSV(data []byte) bool {
	first, _, _ := bytes.Cut(data, []byte{'\n'})
	return bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(first)), []byte("fingerprint,"))
}

// ExitRelay is one row of an exits CSV.
type ExitRelay struct {
	Fingerprint string
	Addr        netip.Addr
	Port        string
}

// ReadExitsCSV reads an exits CSV (alireza-rezaee/tor-nodes
// latest.exits.csv): header "fingerprint, ipaddr, port", fields separated by
// a comma and a space, IPv6 addresses without brackets.
func ReadExitsCSV(path string) ([]ExitRelay, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return parseExitsCSV(path, data)
}

func parseExitsCSV(path string, data []byte) ([]ExitRelay, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, specErr("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	ipCol, ok := col["ipaddr"]
	if !ok {
		return nil, specErr("%s: no ipaddr column (header %q)", path, strings.Join(header, ","))
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []ExitRelay
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, specErr("%s: %v", path, err)
		}
		if ipCol >= len(rec) {
			continue
		}
		a, reason := ipx.Parse(strings.TrimSpace(rec[ipCol]))
		if reason != "" {
			continue
		}
		out = append(out, ExitRelay{Fingerprint: get(rec, "fingerprint"), Addr: a, Port: get(rec, "port")})
	}
}

func readExitsCSV(path string, data []byte) ([]netip.Addr, error) {
	rows, err := parseExitsCSV(path, data)
	if err != nil {
		return nil, err
	}
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, r := range rows {
		if !seen[r.Addr] {
			seen[r.Addr] = true
			out = append(out, r.Addr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	if len(out) == 0 {
		return nil, specErr("%s: no address in it", path)
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Cloud

func sampleCloud(s SamplerSpec, seed uint64) ([]Truth, SampleInfo, error) {
	if s.File == "" {
		return nil, SampleInfo{}, specErr("cloud sampler: no file")
	}
	p, format, err := parseFile(s.File, s.Format, s.Provider)
	if err != nil {
		return nil, SampleInfo{}, err
	}
	provider := parse.CloudProvider(s.Provider)
	if provider == "" && len(p.Entries) > 0 {
		provider = p.Entries[0].Provider
	}
	if provider == "" {
		return nil, SampleInfo{}, specErr("cloud sampler: %s (%s) names no provider: give one", s.File, format)
	}
	name := s.Name
	if name == "" {
		name = "cloud " + provider + " " + filepath.Base(s.File)
	}
	info := SampleInfo{Kind: KindCloud, Files: []string{s.File}}
	rng := rngFor(seed, name)
	var out []Truth
	for _, fam := range []string{"v4", "v6"} {
		if !wantFamily(s, fam) {
			continue
		}
		var pool []netip.Prefix
		for _, e := range p.Entries {
			if familyOf(e.Prefix.Addr()) == fam {
				pool = append(pool, e.Prefix)
			}
		}
		if len(pool) == 0 {
			continue // Oracle publishes no IPv6
		}
		info.Population += len(pool)
		origin := name + " " + fam
		info.Origins = append(info.Origins, origin)
		add := func(pfx netip.Prefix) {
			a := randomIn(pfx.Masked().Addr(), lastAddr(pfx), rng)
			out = append(out, Truth{IP: a.String(), Type: classifier.TypeCloud, Provider: provider, Origin: origin, Label: pfx.String()})
		}
		if s.Count == 0 {
			for _, pfx := range pool {
				add(pfx)
			}
			continue
		}
		for range s.Count {
			add(pool[rng.IntN(len(pool))])
		}
	}
	info.Drawn = len(out)
	if len(out) == 0 {
		return nil, info, specErr("cloud sampler: no prefix of family %q in %s", s.Family, s.File)
	}
	return out, info, nil
}

// lastAddr is the last address of pfx.
func lastAddr(pfx netip.Prefix) netip.Addr {
	b := pfx.Masked().Addr().AsSlice()
	for i := range b {
		hostBits := max(0, min(8, (i+1)*8-pfx.Bits()))
		b[i] |= byte(1<<hostBits - 1)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// bySize returns a picker of ranges of pool in proportion to their size
// (addresses held, as a float64: exact for IPv4, close enough for IPv6).
func bySize(pool []asn.Range, rng *rand.Rand) func() asn.Range {
	cum := make([]float64, len(pool))
	total := 0.0
	for i, r := range pool {
		s, e := r.Start.As16(), r.End.As16()
		size := new(big.Int).Sub(new(big.Int).SetBytes(e[:]), new(big.Int).SetBytes(s[:]))
		f, _ := new(big.Float).SetInt(size.Add(size, big.NewInt(1))).Float64()
		total += f
		cum[i] = total
	}
	return func() asn.Range {
		i, _ := slices.BinarySearch(cum, rng.Float64()*total)
		return pool[min(i, len(pool)-1)]
	}
}

// randomIn returns a pseudo-random address in [start, end] (same family).
func randomIn(start, end netip.Addr, rng *rand.Rand) netip.Addr {
	s, e := start.As16(), end.As16()
	lo, hi := new(big.Int).SetBytes(s[:]), new(big.Int).SetBytes(e[:])
	size := new(big.Int).Sub(hi, lo)
	size.Add(size, big.NewInt(1))
	var r [16]byte
	binary.BigEndian.PutUint64(r[:8], rng.Uint64())
	binary.BigEndian.PutUint64(r[8:], rng.Uint64())
	off := new(big.Int).Mod(new(big.Int).SetBytes(r[:]), size)
	var out [16]byte
	new(big.Int).Add(lo, off).FillBytes(out[:])
	a := netip.AddrFrom16(out)
	if start.Is4() {
		a = a.Unmap()
	}
	return a
}

// ---------------------------------------------------------------------------
// Tagged ASNs

func sampleASNTags(s SamplerSpec, seed uint64) ([]Truth, SampleInfo, error) {
	switch s.Type {
	case classifier.TypeResidential, classifier.TypeDatacenter:
	default:
		return nil, SampleInfo{}, specErr("asn_tags sampler: type %q (want residential or datacenter)", s.Type)
	}
	if s.IP2ASN == "" || len(s.Tags) == 0 {
		return nil, SampleInfo{}, specErr("asn_tags sampler: needs an ip2asn table and at least one tag file")
	}
	switch s.Weight {
	case "", WeightRange:
	case WeightSize:
		if s.Count == 0 {
			return nil, SampleInfo{}, specErr("asn_tags sampler: weight %q needs a count", WeightSize)
		}
	default:
		return nil, SampleInfo{}, specErr("asn_tags sampler: weight %q (want %s or %s)", s.Weight, WeightRange, WeightSize)
	}
	asns, err := TaggedASNs(s.Tags, s.ExcludeTags)
	if err != nil {
		return nil, SampleInfo{}, err
	}
	ranges, err := ReadIP2ASNRows(s.IP2ASN)
	if err != nil {
		return nil, SampleInfo{}, err
	}
	name := s.Name
	if name == "" {
		name = "asn-tags " + tagNames(s.Tags)
		if len(s.ExcludeTags) > 0 {
			name += " not " + tagNames(s.ExcludeTags)
		}
	}
	info := SampleInfo{Kind: KindASNTags, Files: append(append([]string{s.IP2ASN}, s.Tags...), s.ExcludeTags...)}
	var also []classifier.IPType
	if s.Type == classifier.TypeDatacenter {
		also = []classifier.IPType{classifier.TypeCloud}
	}
	rng := rngFor(seed, name)
	seenASN := map[uint32]bool{}
	var out []Truth
	for _, fam := range []string{"v4", "v6"} {
		if !wantFamily(s, fam) {
			continue
		}
		var pool []asn.Range
		for _, r := range ranges {
			if asns[r.ASN] && familyOf(r.Start) == fam {
				pool = append(pool, r)
				seenASN[r.ASN] = true
			}
		}
		if len(pool) == 0 {
			continue
		}
		info.Population += len(pool)
		origin := name + " " + fam
		info.Origins = append(info.Origins, origin)
		add := func(r asn.Range) {
			a := randomIn(r.Start, r.End, rng)
			half := SplitEven
			if r.ASN%2 == 1 {
				half = SplitOdd
			}
			out = append(out, Truth{
				IP: a.String(), Type: s.Type, Origin: origin, Also: also,
				Label: "AS" + strconv.FormatUint(uint64(r.ASN), 10) + " " + r.Name, Half: half,
			})
		}
		if s.Count == 0 {
			for _, r := range pool {
				add(r)
			}
			continue
		}
		pick := func() asn.Range { return pool[rng.IntN(len(pool))] }
		if s.Weight == WeightSize {
			pick = bySize(pool, rng)
		}
		for range s.Count {
			add(pick())
		}
	}
	info.ASNs = len(seenASN)
	info.Drawn = len(out)
	info.Note = fmt.Sprintf("%d tagged ASNs, %d of them with a range of the families drawn", len(asns), len(seenASN))
	if len(out) == 0 {
		return nil, info, specErr("asn_tags sampler: no range of a tagged ASN (family %q) in %s", s.Family, s.IP2ASN)
	}
	return out, info, nil
}

// tagNames shortens tag file paths to their tag: ".../tags-dsl.csv" → "dsl",
// joined with "+".
func tagNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = TagName(p)
	}
	return strings.Join(names, "+")
}

// TagName is the tag of a tag file: "tags-dsl.csv" → "dsl".
func TagName(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".csv")
	return strings.TrimPrefix(base, "tags-")
}

// TaggedASNs returns the ASNs listed in one of the files of pos and in none
// of neg.
func TaggedASNs(pos, neg []string) (map[uint32]bool, error) {
	in, err := ReadTags(pos...)
	if err != nil {
		return nil, err
	}
	out, err := ReadTags(neg...)
	if err != nil {
		return nil, err
	}
	for a := range out {
		delete(in, a)
	}
	return in, nil
}

// ReadTags reads tag files (bgp.tools tags-*.csv, plain or gzip): one
// "AS<n>,<name>" per line, no header. Only the field before the first comma
// is read (the names' quoting is broken upstream). A file with no ASN at
// all is an error (not a tag file).
func ReadTags(paths ...string) (map[uint32]bool, error) {
	out := map[uint32]bool{}
	for _, path := range paths {
		data, err := readFile(path)
		if err != nil {
			return nil, err
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			field, _, _ := strings.Cut(sc.Text(), ",")
			if a, ok := parseASN(field); ok {
				out[a] = true
				n++
			}
		}
		if err := sc.Err(); err != nil {
			return nil, specErr("%s: %v", path, err)
		}
		if n == 0 {
			return nil, specErr("%s: no \"AS<n>,<name>\" line: not a tag file", path)
		}
	}
	return out, nil
}

// parseASN reads "AS64500", "as64500" or "64500" (0 is not an ASN).
func parseASN(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
		s = s[2:]
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil && n > 0
}

// ReadIP2ASNRows reads the routed rows of an iptoasn table (plain or gzip)
// as published: one per announcement, nested ones included (the engine
// flattens them; a sampler weighs every announcement once, as the table
// lists them). Rows are read by parse.IP2ASNRows, the engine's own row
// parser; rows that do not parse are skipped; a table with no routed row is
// an error.
func ReadIP2ASNRows(path string) ([]asn.Range, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	out, _, err := parse.IP2ASNRows(data)
	if err != nil {
		return nil, specErr("%s: %v", path, err)
	}
	if len(out) == 0 {
		return nil, specErr("%s: no routed range (want an iptoasn table: start, end, AS number, country, description, TAB-separated)", path)
	}
	return out, nil
}
