package classifier

import "net/netip"

// PrefixSet returns every prefix of the lists in e's current index (the
// black-box benchmarks build a reference table from it).
func PrefixSet(e *Engine) []netip.Prefix {
	return e.idx.Load().prefixes.Prefixes()
}

// HistoryViewsHeld counts the views of past times e keeps built.
func HistoryViewsHeld(e *Engine) int {
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	return len(e.hist.views)
}
