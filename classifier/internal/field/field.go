// Package field cleans the text fields the engine takes from sources and
// callers (provider, region, service, AS name, error messages), so that no
// field ever holds a separator of the C ABI's record format.
package field

import "strings"

// Clean trims s and replaces every run of tabs, newlines and carriage
// returns inside it by one space.
func Clean(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\t' || r == '\n' || r == '\r' }), " ")
	}
	return s
}
