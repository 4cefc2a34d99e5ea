package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"
	"errors"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// cleanupResult is the JSON CacheCleanup writes: the tiers' report, plus
// the error of a tier that failed as a whole (the call then returns PARTIAL).
type cleanupResult struct {
	classifier.CacheReport
	Error string `json:"error,omitempty"`
}

// cacheCleanup runs the cache tiers' cleanup of expired entries; a tier
// that failed as a whole makes the answer PARTIAL.
func cacheCleanup(e *classifier.Engine) (any, int32, error) {
	report, err := e.CleanupCache(context.Background())
	if errors.Is(err, classifier.ErrClosed) {
		return nil, codeClosed, err
	}
	if err != nil {
		return cleanupResult{CacheReport: report, Error: err.Error()}, codePartial, nil
	}
	return cleanupResult{CacheReport: report}, codeOK, nil
}

// clearResult is the JSON CacheClear writes: cleanupResult plus the type
// cleared (null: every answer).
type clearResult struct {
	cleanupResult
	IPType *string `json:"ip_type"`
}

// cacheClear clears the cached answers of type ipType ("" = all) from every
// tier; an unknown type is INVALID_ARGUMENT and a tier that failed as a
// whole makes the answer PARTIAL.
func cacheClear(e *classifier.Engine, ipType string) (any, int32, error) {
	report, err := e.ClearCache(context.Background(), classifier.IPType(ipType))
	res := clearResult{cleanupResult: cleanupResult{CacheReport: report}}
	if ipType != "" {
		res.IPType = &ipType
	}
	switch {
	case errors.Is(err, classifier.ErrInvalidType):
		return nil, codeInvalidArg, errors.New("CacheClear: " + err.Error())
	case errors.Is(err, classifier.ErrClosed):
		return nil, codeClosed, err
	case err != nil:
		res.Error = err.Error()
		return res, codePartial, nil
	}
	return res, codeOK, nil
}
