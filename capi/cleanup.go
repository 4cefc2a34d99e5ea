package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"
	"encoding/json"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/cache"
)

// cleanupResult is the JSON CacheCleanup writes: the tiers' report, plus
// the error of a tier that failed as a whole (the call then returns PARTIAL).
type cleanupResult struct {
	cache.CleanupReport
	Error string `json:"error,omitempty"`
}

// cacheCleanup runs the cache tiers' cleanup of expired entries.
func cacheCleanup(e *classifier.Engine, out *C.char, outCap C.int64_t, outLen *C.int64_t) C.int32_t {
	report, err := e.Cache().Cleanup(context.Background())
	res := cleanupResult{CleanupReport: report}
	code := int32(codeOK)
	if err != nil {
		res.Error = err.Error()
		code = codePartial
	}
	data, jerr := json.Marshal(res)
	if jerr != nil {
		return fail(out, outCap, outLen, codeInternal, "CacheCleanup: encode: "+jerr.Error())
	}
	return writeOut(out, outCap, outLen, data, code)
}
