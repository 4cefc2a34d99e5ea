// Package parse reads the bytes of every source the engine loads: the Tor
// bulk exit list, Onionoo documents, CIDR lists, the rezmoss and jhassine
// CSVs, the providers' own JSON files, hosting-ASN lists and iptoasn
// tables. A parser never fails on a bad record: it counts it (Malformed,
// Bogons), so nothing is dropped unseen; it fails only when the whole input
// is unusable. Every parser has a fuzz target beside it.
package parse

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// Entry is one range read from a source. Provider, Region and Service are
// empty where the source does not carry them.
type Entry struct {
	Prefix   netip.Prefix
	Provider string
	Region   string
	Service  string
}

// Parsed is what a parser made of one download: the entries it kept, how
// many records it read, how many it skipped as malformed and how many it
// dropped as bogons (documentation, private or reserved space).
//
// A prefix list fills Entries; an ASN list (ASNList) fills ASNs; an
// IP-to-ASN table (IP2ASN) fills Table; PeeringDB's network list
// (PeeringDBNet) fills ASNs (content networks) and Access.
type Parsed struct {
	Entries   []Entry
	ASNs      asn.Set // sorted, unique
	Access    asn.Set // access networks by their own declaration; sorted, unique
	Table     *asn.Table
	Records   int
	Malformed int
	Bogons    int
}

// Len counts what the parser kept: prefixes, ASNs or ASN ranges.
func (p Parsed) Len() int {
	n := len(p.Entries) + len(p.ASNs) + len(p.Access)
	if p.Table != nil {
		n += p.Table.Len()
	}
	return n
}

// Parser turns the bytes of one download into entries. It never fails on a
// bad record (it counts it); it fails only when the whole file is unusable,
// such as a CSV without the required header.
type Parser func(data []byte) (Parsed, error)

// TorList reads the Tor bulk exit list: one address per line, no
// header. Blank lines and '#' comments are ignored.
func TorList(data []byte) (Parsed, error) {
	var p Parsed
	err := eachLine(data, func(line string) {
		p.Records++
		a, reason := ipx.Parse(line)
		if reason != "" {
			p.Malformed++
			return
		}
		p.add(netip.PrefixFrom(a, a.BitLen()), Entry{})
	})
	return p, err
}

// CIDRList reads a list with one CIDR (or bare address) per line and
// no header, as X4BNet lists_vpn publishes.
func CIDRList(data []byte) (Parsed, error) {
	var p Parsed
	err := eachLine(data, func(line string) {
		p.Records++
		pfx, ok := ipx.ParsePrefix(line)
		if !ok {
			p.Malformed++
			return
		}
		p.add(pfx, Entry{})
	})
	return p, err
}

// RezmossCSV returns the parser for one rezmoss/cloud-provider-ip-addresses
// file (plain or gzip). Columns are found by header name: ip_address is required; service and
// region are kept when present. A prefix listed once per service (aws, azure)
// becomes one entry whose service is the most specific one seen (see
// serviceRank) and whose region is that service's, else the first non-empty
// one.
func RezmossCSV(provider string) Parser {
	return func(data []byte) (Parsed, error) {
		data, err := Gunzip(data)
		if err != nil {
			return Parsed{}, err
		}
		c := newCloudCollector(provider)
		err = eachCSVRecord(data, []string{"ip_address"}, func(get func(string) string) {
			c.add(get("ip_address"), get("region"), get("service"))
		})
		return c.p, err
	}
}

// datacenterVendors maps jhassine vendor names to our provider names.
var datacenterVendors = map[string]string{"aws": "aws", "azure": "azure", "gcp": "gcp", "cloudflare": "cloudflare"}

// DatacenterCSV reads jhassine/server-ip-addresses datacenters.csv:
// header "cidr","hostmin","hostmax","vendor", every field quoted.
func DatacenterCSV(data []byte) (Parsed, error) {
	var p Parsed
	err := eachCSVRecord(data, []string{"cidr"}, func(get func(string) string) {
		p.Records++
		pfx, ok := ipx.ParsePrefix(get("cidr"))
		if !ok {
			p.Malformed++
			return
		}
		vendor := field.Clean(get("vendor"))
		provider, known := datacenterVendors[strings.ToLower(vendor)]
		if !known {
			provider = strings.ToLower(vendor)
		}
		p.add(pfx, Entry{Provider: provider})
	})
	return p, err
}

// add keeps e under pfx unless pfx is a bogon; it reports whether it kept it.
func (p *Parsed) add(pfx netip.Prefix, e Entry) bool {
	pfx = pfx.Masked()
	if ipx.IsBogon(pfx) {
		p.Bogons++
		return false
	}
	e.Prefix = pfx
	p.Entries = append(p.Entries, e)
	return true
}

// serviceRank orders the service tags of one prefix from least to most
// specific: none, a catch-all tag (AMAZON, AzureCloud), a regional
// catch-all (AzureCloud.eastasia), a named service (EC2, AzureStorage), a
// named regional service (AzureStorage.eastus).
func serviceRank(s string) int {
	switch {
	case s == "":
		return 0
	case s == "AMAZON" || s == "AzureCloud":
		return 1
	case strings.HasPrefix(s, "AzureCloud."):
		return 2
	case strings.Contains(s, "."):
		return 4
	default:
		return 3
	}
}

// eachLine calls fn with every non-blank, non-comment line, trimmed.
func eachLine(data []byte, fn func(string)) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fn(line)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read lines: %w", err)
	}
	return nil
}

// errNoHeader is returned when a CSV lacks a required column.
var errNoHeader = errors.New("missing required CSV column")

// eachCSVRecord reads a CSV with a header line and calls fn once per record
// with a getter by column name. Records with a wrong number of fields are
// still offered (missing columns read as ""); a record that cannot be read
// at all is skipped and offered as a blank row so it is counted malformed.
func eachCSVRecord(data []byte, required []string, fn func(get func(string) string)) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("read CSV header: %w", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, name := range required {
		if _, ok := cols[name]; !ok {
			return fmt.Errorf("%w %q (header %q)", errNoHeader, name, strings.Join(header, ","))
		}
	}
	var rec []string
	get := func(name string) string {
		i, ok := cols[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	for {
		rec, err = r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rec = nil
				fn(get)
				continue
			}
			return fmt.Errorf("read CSV: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		fn(get)
	}
}
