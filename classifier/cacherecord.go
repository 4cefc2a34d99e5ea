package classifier

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// A cache record is an answer's JSON (Result's keys) plus "data_id": the
// identity of the data the answer was computed from (view.dataID). The
// engine serves a cached answer only under the identity it holds now, so an
// answer computed before a refresh that changed a snapshot — an unknown
// included — is computed again after it, in every process sharing the
// tiers. A record without one (written by upstream's Python or an older
// version) is never served.

// encodeCached is the cache record of r, computed from the data dataID
// names.
func encodeCached(r *Result, dataID string) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	b = append(b[:len(b)-1], `,"data_id":`...)
	b = strconv.AppendQuote(b, dataID)
	return append(b, '}'), nil
}

// cachedRecord is the shape encoding/json decodes a cache record into.
type cachedRecord struct {
	*Result
	DataID string `json:"data_id"`
}

// decodeResultJSON decodes a cached answer without reflection, for the
// shape the cache tiers hold: a JSON object with the keys of Result
// and data_id, whose value goes to *dataID
// (in any order, with any white space: PostgreSQL's jsonb rewrites both)
// and string, number, boolean or null values (tags: an array of strings;
// evidence: an array of objects of strings). It reports false, leaving *r
// partly written, for anything else — an unknown key, a nested value, a
// string with an escape or invalid UTF-8, malformed JSON — and the caller
// then uses encoding/json, so the two never disagree on what they both
// accept. It is several times faster than json.Unmarshal, which decoding
// a batch of cache hits spent most of its time in.
func decodeResultJSON(b []byte, r *Result, dataID *string) bool {
	d := jsonScan{b: b}
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return d.end()
	}
	for {
		key, ok := d.str()
		if !ok || !d.byte(':') {
			return false
		}
		if !d.value(key, r, dataID) {
			return false
		}
		if d.byte(',') {
			continue
		}
		return d.byte('}') && d.end()
	}
}

// jsonScan reads b from i.
type jsonScan struct {
	b []byte
	i int
}

func (d *jsonScan) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// byte consumes c (after white space) if it is next.
func (d *jsonScan) byte(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end tells whether only white space is left.
func (d *jsonScan) end() bool {
	d.space()
	return d.i == len(d.b)
}

// str reads a string with no escape.
func (d *jsonScan) str() (string, bool) {
	b, ok := d.raw()
	return string(b), ok
}

// raw reads a string with no escape: the bytes between the quotes.
func (d *jsonScan) raw() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// token reads a number or literal: the bytes up to the next delimiter.
func (d *jsonScan) token() []byte {
	d.space()
	start := d.i
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ',', '}', ' ', '\t', '\n', '\r':
			return d.b[start:d.i]
		}
		d.i++
	}
	return d.b[start:d.i]
}

// number reads a JSON number (strconv alone would also take "NaN", "+1",
// "0x10" or "01").
func (d *jsonScan) number() (string, bool) {
	t := d.token()
	i := 0
	digits := func() bool {
		n := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(t) && t[i] == '-' {
		i++
	}
	if i < len(t) && t[i] == '0' {
		i++
	} else if !digits() {
		return "", false
	}
	if i < len(t) && t[i] == '.' {
		i++
		if !digits() {
			return "", false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if !digits() {
			return "", false
		}
	}
	return string(t), i == len(t)
}

// null consumes a null if it is next.
func (d *jsonScan) null() bool {
	d.space()
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// array reads a JSON array, calling item for each element.
func (d *jsonScan) array(item func() bool) bool {
	if !d.byte('[') {
		return false
	}
	if d.byte(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		if d.byte(',') {
			continue
		}
		return d.byte(']')
	}
}

// evidence reads an Evidence object: string values (or null) under its
// JSON keys.
func (d *jsonScan) evidence(ev *Evidence) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.str()
		if !ok || !d.byte(':') {
			return false
		}
		var sp *string
		switch key {
		case "source":
			sp = &ev.Source
		case "snapshot":
			sp = &ev.Snapshot
		case "ip_type":
			sp = (*string)(&ev.Type)
		case "provider":
			sp = &ev.Provider
		case "matched_prefix":
			sp = &ev.MatchedPrefix
		case "tag":
			sp = &ev.Tag
		default:
			return false
		}
		if !d.null() {
			if *sp, ok = d.str(); !ok {
				return false
			}
		}
		if d.byte(',') {
			continue
		}
		return d.byte('}')
	}
}

// value reads the value of key into its field of r. null leaves the field
// as it is, as encoding/json does.
func (d *jsonScan) value(key string, r *Result, dataID *string) bool {
	var sp *string
	switch key {
	case "data_id":
		sp = dataID
	case "ip":
		sp = &r.IP
	case "ip_type":
		sp = (*string)(&r.Type)
	case "provider":
		sp = &r.Provider
	case "region":
		sp = &r.Region
	case "service":
		sp = &r.Service
	case "source":
		sp = &r.Source
	case "matched_prefix":
		sp = &r.MatchedPrefix
	case "snapshot":
		sp = &r.Snapshot
	case "as_name":
		sp = &r.ASName
	case "cache_tier":
		sp = &r.CacheTier
	case "country":
		sp = &r.Country
	case "asn_source":
		sp = &r.ASNSource
	case "classified_at", "snapshot_at":
		if d.null() {
			return true
		}
		s, ok := d.raw()
		if !ok {
			return false
		}
		var t time.Time
		if t.UnmarshalText(s) != nil { // what Time.UnmarshalJSON accepts
			return false
		}
		if key == "classified_at" {
			r.ClassifiedAt = t
		} else {
			r.SnapshotAt = t
		}
		return true
	case "confidence":
		if d.null() {
			return true
		}
		text, ok := d.number()
		f, err := strconv.ParseFloat(text, 64)
		r.Confidence = f
		return ok && err == nil
	case "asn":
		if d.null() {
			return true
		}
		text, ok := d.number()
		n, err := strconv.ParseUint(text, 10, 32)
		r.ASN = uint32(n)
		return ok && err == nil
	case "tags": // as encoding/json: null is nil, an array replaces the slice
		if d.null() {
			r.Tags = nil
			return true
		}
		r.Tags = []string{}
		return d.array(func() bool {
			s, ok := d.str()
			r.Tags = append(r.Tags, s)
			return ok
		})
	case "evidence":
		if d.null() {
			r.Evidence = nil
			return true
		}
		r.Evidence = []Evidence{}
		return d.array(func() bool {
			var ev Evidence
			ok := d.evidence(&ev)
			r.Evidence = append(r.Evidence, ev)
			return ok
		})
	case "stale":
		switch string(d.token()) {
		case "true":
			r.Stale = true
		case "false":
			r.Stale = false
		case "null":
		default:
			return false
		}
		return true
	default:
		return false // unknown key: encoding/json decides
	}
	if d.null() {
		return true
	}
	s, ok := d.str()
	*sp = s
	return ok
}
