package parse

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/asn"
)

// PeeringDB network types (info_type, info_types) that say what a network
// is for. Every other type (NSP, Enterprise, Educational/Research,
// Non-Profit, Route Server, Network Services, Government, Not Disclosed)
// says nothing the engine labels: an NSP may be a transit carrier, an
// incumbent telco with millions of subscribers (Deutsche Telekom, Verizon
// register as NSP) or a hoster.
const (
	peeringDBAccess  = "cable/dsl/isp" // an access network: residential
	peeringDBContent = "content"       // a content or hosting network: datacenter
)

// PeeringDBNet reads PeeringDB's network list (https://www.peeringdb.com/api/net,
// plain or gzip): {"data": [{"asn": 64500, "name": "…", "info_type":
// "Cable/DSL/ISP", "info_types": ["Cable/DSL/ISP", …]}, …]}. The older
// API gives one type as the string info_type, the newer a list
// info_types; both are read, and their union is the network's types. A
// network that declares Cable/DSL/ISP and not Content goes into Access; one
// that declares Content and not Cable/DSL/ISP into ASNs (a hosting-ASN
// list); one that declares both, or neither, or is listed twice with
// conflicting types, into none. A record that is
// not an object or has no valid ASN is counted malformed; a document
// without "data" is an error.
func PeeringDBNet(data []byte) (Parsed, error) {
	var doc struct {
		Data *[]json.RawMessage `json:"data"`
	}
	if err := decodeJSON(data, &doc); err != nil {
		return Parsed{}, err
	}
	if doc.Data == nil {
		return Parsed{}, errNotDocument("PeeringDB net list", "data")
	}
	var p Parsed
	for _, raw := range *doc.Data {
		p.Records++
		var n struct {
			ASN       json.Number `json:"asn"`
			InfoType  any         `json:"info_type"`
			InfoTypes any         `json:"info_types"`
		}
		if json.Unmarshal(raw, &n) != nil {
			p.Malformed++
			continue
		}
		a, ok := peeringDBASN(n.ASN)
		if !ok {
			p.Malformed++
			continue
		}
		types := append(peeringDBTypes(n.InfoType), peeringDBTypes(n.InfoTypes)...)
		access, content := slices.Contains(types, peeringDBAccess), slices.Contains(types, peeringDBContent)
		switch {
		case access && !content:
			p.Access = append(p.Access, a)
		case content && !access:
			p.ASNs = append(p.ASNs, a)
		}
	}
	p.ASNs, p.Access = sortedSet(p.ASNs), sortedSet(p.Access)
	// A network listed twice with conflicting types is neither.
	both := slices.DeleteFunc(slices.Clone(p.Access), func(a uint32) bool { return !p.ASNs.Has(a) })
	if len(both) > 0 {
		p.ASNs = slices.DeleteFunc(p.ASNs, func(a uint32) bool { return asn.Set(both).Has(a) })
		p.Access = slices.DeleteFunc(p.Access, func(a uint32) bool { return asn.Set(both).Has(a) })
	}
	return p, nil
}

// peeringDBASN reads an "asn" field: a whole number in 1 … 2³²−1.
func peeringDBASN(n json.Number) (uint32, bool) {
	v, err := n.Int64()
	if err != nil || v <= 0 || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// peeringDBTypes reads info_type (a string) or info_types (a list of
// strings), lower-cased and trimmed; anything else reads as no type.
func peeringDBTypes(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{strings.ToLower(strings.TrimSpace(t))}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, strings.ToLower(strings.TrimSpace(s)))
			}
		}
		return out
	}
	return nil
}

// sortedSet sorts and de-duplicates s in place.
func sortedSet(s []uint32) asn.Set {
	slices.Sort(s)
	return slices.Clip(slices.Compact(s))
}
