package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/cache"
)

// cleanupResult is the JSON CacheCleanup writes: the tiers' report, plus
// the error of a tier that failed as a whole (the call then returns PARTIAL).
type cleanupResult struct {
	cache.CleanupReport
	Error string `json:"error,omitempty"`
}

// cacheCleanup runs the cache tiers' cleanup of expired entries; a tier
// that failed as a whole makes the answer PARTIAL.
func cacheCleanup(e *classifier.Engine) (any, int32, error) {
	report, err := e.Cache().Cleanup(context.Background())
	if err != nil {
		return cleanupResult{CleanupReport: report, Error: err.Error()}, codePartial, nil
	}
	return cleanupResult{CleanupReport: report}, codeOK, nil
}
