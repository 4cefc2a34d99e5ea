package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
)

// runValidate parses the JSON spec (spec, specLen) and runs it against e
// (nil: no engine of the caller's, see validate.Spec.NeedsEngine).
func runValidate(name string, e *classifier.Engine, spec *C.char, specLen C.int64_t) (any, int32, error) {
	if !validIn(spec, specLen) {
		return nil, codeInvalidArg, errors.New(name + ": NULL pointer or negative length")
	}
	s, err := validate.ParseSpec(goBytes(spec, specLen))
	if err != nil {
		return nil, codeInvalidArg, err
	}
	outcome, err := validate.Run(context.Background(), e, s)
	switch {
	case err == nil:
		return outcome, codeOK, nil
	case validate.IsSpecError(err):
		return nil, errCode(err, codeInvalidArg), err
	default:
		return nil, errCode(err, codeInternal), err
	}
}

// ValidateStandalone is Validate without an engine handle, for the specs
// that need no engine of the caller's: a real-data folder (measured with an
// engine of its own, whose snapshots live in a temporary directory removed
// afterwards) or AS-name runs alone. It opens no cache tier and creates no
// data directory. A spec with labelled CSVs or samplers and no real_data is
// INVALID_ARGUMENT ("no engine to measure"). Returns OK, INVALID_ARGUMENT
// (bad pointers, a bad spec, a file it names that cannot be read),
// BUFFER_TOO_SMALL (nothing is kept: a second call measures again) or
// INTERNAL.
//
//export ValidateStandalone
func ValidateStandalone(spec *C.char, specLen C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "ValidateStandalone: bad output buffer")
	}
	v, code, err := runValidate("ValidateStandalone", nil, spec, specLen)
	if err != nil {
		return fail(out, outCap, outLen, code, err.Error())
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fail(out, outCap, outLen, codeInternal, "ValidateStandalone: encode: "+err.Error())
	}
	return writeOut(out, outCap, outLen, data, code)
}
