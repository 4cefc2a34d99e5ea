package classifier

// ClassifyUncached labels every query from the index alone, answers in
// input order, like ClassifyBatch but without the cache tiers (nothing is
// read from or written to them) and without touching the engine's
// counters. It is for measuring the engine (package validate): a cached
// answer may predate the snapshots being measured or have been made with
// other caller ASN data, and a measurement run is not traffic. errs[i] is
// an *InvalidIPError where qs[i].IP is not an address, or ErrClosed.
func (e *Engine) ClassifyUncached(qs []Query) (results []Result, errs []error) {
	results = make([]Result, len(qs))
	errs = make([]error, len(qs))
	if e.closed.Load() {
		for i := range errs {
			errs[i] = ErrClosed
		}
		return results, errs
	}
	idx := e.idx.Load()
	now := e.cfg.Now()
	for i, q := range qs {
		addr, err := parseIP(q.IP)
		if err != nil {
			errs[i] = err
			continue
		}
		results[i] = idx.classify(addr, q.ASN, cleanASName(q.ASName), now)
	}
	return results, errs
}
