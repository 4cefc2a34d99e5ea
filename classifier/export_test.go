package classifier

import "net/netip"

// PrefixSet returns every prefix of the lists in e's current index (the
// black-box benchmarks build a reference table from it).
func PrefixSet(e *Engine) []netip.Prefix {
	return e.idx.Load().prefixes.Prefixes()
}

// ASNByLookup is what the ip2asn tables of e's current index say of addr,
// looked up for the address itself (the path list answers skip when their
// prefix lies in one range), merged with the caller's asn and asName.
func ASNByLookup(e *Engine, addr netip.Addr, asn uint32, asName string) (uint32, string, string, string) {
	a := e.idx.Load().resolveASN(addr, asn, asName)
	return a.asn, a.name, a.country, a.source
}

// HistoryViewsHeld counts the views of past times e keeps built.
func HistoryViewsHeld(e *Engine) int {
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	return len(e.hist.views)
}
