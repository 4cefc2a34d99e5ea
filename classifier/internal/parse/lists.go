package parse

import (
	"net/netip"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// ProviderList reads a provider's own published ranges as
// lord-alfred/ipranges mirrors them: one CIDR or bare address per line, no
// header. It also reads the rows of an RFC 8805 geofeed
// ("prefix,country,region,city,postal", as Linode/Akamai publish theirs),
// keeping the region (ISO 3166-2, e.g. US-NJ), else the country, as
// Entry.Region.
func ProviderList(data []byte) (Parsed, error) {
	var p Parsed
	err := eachLine(data, func(line string) {
		p.Records++
		prefix, rest, geofeed := strings.Cut(line, ",")
		pfx, ok := ipx.ParsePrefix(prefix)
		if !ok {
			p.Malformed++
			return
		}
		var e Entry
		if geofeed {
			country, rest, _ := strings.Cut(rest, ",")
			region, _, _ := strings.Cut(rest, ",")
			e.Region = field.Clean(region)
			if e.Region == "" {
				e.Region = field.Clean(country)
			}
		}
		p.add(pfx, e)
	})
	return p, err
}

// MassScanners reads maltrail's mass_scanner.txt: "address # name" per
// line, where name is the scanner's reverse DNS name or organisation
// (sometimes an address, sometimes missing); '#' comment lines and blank
// lines are skipped. Entry.Provider is ScannerName of the name.
func MassScanners(data []byte) (Parsed, error) {
	var p Parsed
	err := eachLine(data, func(line string) {
		p.Records++
		addr, name, _ := strings.Cut(line, "#")
		pfx, ok := ipx.ParsePrefix(addr)
		if !ok {
			p.Malformed++
			return
		}
		p.add(pfx, Entry{Provider: ScannerName(name)})
	})
	return p, err
}

// maxScannerName bounds a scanner name.
const maxScannerName = 48

// secondLevel are the labels under a country code that registries hand out
// below (example.co.uk, example.edu.cn): the name is the label before them.
var secondLevel = map[string]bool{"co": true, "com": true, "ac": true, "edu": true, "net": true, "org": true, "gov": true}

// ScannerName is the short name of a scanner as mass-scanner lists give it:
// the registered name of a host name ("scan-12.census.shodan.io." →
// "shodan", "pinger1.netsec.colostate.edu" → "colostate", "x.ac.uk" labels
// skipped), an organisation lower-cased with runs of other characters made
// one '-' ("ANSSI" → "anssi"); "" for an address or nothing. The result
// holds only a-z, 0-9 and '-', so it can stand in a tag.
func ScannerName(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return ""
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return ""
	}
	if !strings.ContainsAny(s, " \t") && strings.Contains(s, ".") {
		labels := strings.Split(strings.ToLower(s), ".")
		i := len(labels) - 2
		if i > 0 && secondLevel[labels[i]] && len(labels[len(labels)-1]) == 2 {
			i--
		}
		s = labels[i]
	}
	return slug(s)
}

// slug lower-cases s and makes every run of characters other than a-z and
// 0-9 one '-', trimmed at both ends and bounded by maxScannerName.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if b.Len() > maxScannerName {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > maxScannerName {
		out = out[:maxScannerName]
	}
	return strings.Trim(out, "-")
}
