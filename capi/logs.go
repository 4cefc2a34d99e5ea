package main

/*
#include <stdint.h>
*/
import "C"

import (
	"log/slog"
	"sync"

	"github.com/ipclassifier/ipclassifier/classifier/logq"
)

// logs holds the engine's log records until the host reads them (LogRead):
// a host's logging, not the process's stderr, decides where they go.
var logs = logq.New(4096)

func init() { slog.SetDefault(slog.New(logs.Handler())) }

var (
	logMu      sync.Mutex
	logPending []byte // a drained batch that did not fit the caller's buffer
)

// LogRead sets the lowest level queued from now on (slog levels: -4 debug,
// 0 info, 4 warn, 8 error) and writes, as JSON, the records queued since
// the last call, oldest first, with the number dropped because the queue
// (4096 records) was full: {"records":[{"time","level","levelno","msg",
// "attrs"}…],"dropped":n}. On BUFFER_TOO_SMALL the records are kept for
// the next call. Returns OK, INVALID_ARGUMENT, BUFFER_TOO_SMALL or
// INTERNAL.
//
//export LogRead
func LogRead(minLevel C.int32_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "LogRead: bad output buffer")
	}
	logs.SetLevel(slog.Level(minLevel))
	logMu.Lock()
	defer logMu.Unlock()
	if logPending == nil {
		b, err := logs.AppendDrain(nil)
		if err != nil {
			return fail(out, outCap, outLen, codeInternal, "LogRead: encode: "+err.Error())
		}
		logPending = b
	}
	rc = writeOut(out, outCap, outLen, logPending, codeOK)
	if rc == codeOK {
		logPending = nil
	}
	return rc
}
