package classifier

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// ErrInvalidIP is wrapped by every error about an input that is not a plain
// IPv4 or IPv6 address.
var ErrInvalidIP = errors.New("invalid IP address")

// InvalidIPError names the input that could not be parsed and why. Input is
// cut to 64 bytes (with "…") when the text was longer.
type InvalidIPError struct {
	Input  string
	Reason string
}

func (e *InvalidIPError) Error() string {
	return fmt.Sprintf("invalid IP address %q: %s", e.Input, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidIP) true.
func (e *InvalidIPError) Unwrap() error { return ErrInvalidIP }

// parseIP parses what a caller passes as an address (see ipx.Parse), as an
// *InvalidIPError naming the input when it is not one.
func parseIP(s string) (netip.Addr, error) {
	a, reason := ipx.Parse(s)
	if reason == "" {
		return a, nil
	}
	if len(s) > ipx.MaxText {
		s = s[:ipx.MaxText] + "…"
	}
	return netip.Addr{}, &InvalidIPError{Input: s, Reason: reason}
}
