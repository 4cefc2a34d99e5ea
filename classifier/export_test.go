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

// UnmemoisedClassify is e's current-time answer for ip made without the
// view's memos (the path of a past epoch's view): the reference the
// memoised answers are checked against. ip must be valid.
func UnmemoisedClassify(e *Engine, ip string, asn uint32, asName string) Result {
	v := *e.idx.Load()
	v.ivls, v.setParts, v.netParts, v.pairs, v.keys = nil, nil, nil, nil, nil
	addr := netip.MustParseAddr(ip)
	var r Result
	v.answer(&r, addr, ip, asn, cleanASName(asName), e.cfg.Now())
	return r
}

// WithoutKey is r with no Key (the memoised and unmemoised paths differ
// only in it).
func WithoutKey(r Result) Result {
	r.key = 0
	return r
}

// FillIntervalAnswers marks e's current view as holding the most answers
// its interval records may keep: later answers are composed each time.
func FillIntervalAnswers(e *Engine) {
	e.idx.Load().ivAnswers.Store(maxIntervalAnswers)
}
