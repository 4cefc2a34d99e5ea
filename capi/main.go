// Command capi is the C ABI of the classifier, built with
//
//	go build -buildmode=c-shared -o libipclassifier.so ./capi
//
// It holds no classification logic: it checks arguments, maps handles to
// engines, copies bytes between C and Go, and turns every panic into an
// error code. See build.sh for the build and python/ipclassifier/_native.py
// for the one caller we ship.
//
// # Conventions
//
// Every export returns an int32_t status code (see the constants below).
// Inputs are (pointer, length) pairs and are copied before use; a NULL
// pointer is allowed only with length 0. Outputs go into caller-owned
// buffers (out, outCap) and *outLen receives the number of bytes written;
// nothing is NUL-terminated, no memory is handed to the caller and no Go
// pointer escapes.
//
//   - On success (OK, PARTIAL) out holds the result and *outLen its length.
//   - On BUFFER_TOO_SMALL nothing is written (ClassifyBatch: the buffer's
//     contents are unspecified) and *outLen is the size needed; call again
//     with a buffer at least that large.
//   - On any other error out holds a human-readable message, truncated to
//     outCap, and *outLen its length.
//
// ErrorText gives the generic text of a code, for callers that have no
// buffer at hand when the error happened.
package main

/*
#include <stdint.h>

// Status codes returned by every export (IPC_ABI_VERSION changes when an
// export, a code or the record layout changes incompatibly).
#define IPC_ABI_VERSION 6
#define IPC_OK 0                 // success
#define IPC_PARTIAL 1            // success, but some items failed (Refresh: a source; ClassifyBatch: an input line; CacheCleanup, CacheClear: a tier)
#define IPC_INVALID_ARGUMENT -1  // NULL pointer with a length, negative length, bad group or type, bad JSON config
#define IPC_BUFFER_TOO_SMALL -2  // *outLen = bytes needed; nothing written
#define IPC_INVALID_HANDLE -3    // no open engine has this handle
#define IPC_INVALID_IP -4        // the input is not an IPv4/IPv6 address
#define IPC_INTERNAL -5          // a recovered panic or an unexpected engine error
#define IPC_OPEN_FAILED -6       // Open could not create the engine
#define IPC_CLOSED -7            // the engine was closed while the call ran
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/wire"
)

// The status codes, from the header (the one place they are written).
const (
	codeOK             = C.IPC_OK
	codePartial        = C.IPC_PARTIAL
	codeInvalidArg     = C.IPC_INVALID_ARGUMENT
	codeBufferTooSmall = C.IPC_BUFFER_TOO_SMALL
	codeInvalidHandle  = C.IPC_INVALID_HANDLE
	codeInvalidIP      = C.IPC_INVALID_IP
	codeInternal       = C.IPC_INTERNAL
	codeOpenFailed     = C.IPC_OPEN_FAILED
	codeClosed         = C.IPC_CLOSED
)

// codes names every status code (as in the header, without IPC_) with its
// generic text: what ErrorText and AbiInfo give.
var codes = []struct {
	name string
	code int32
	text string
}{
	{"OK", codeOK, "ok"},
	{"PARTIAL", codePartial, "partial success: some items failed"},
	{"INVALID_ARGUMENT", codeInvalidArg, "invalid argument"},
	{"BUFFER_TOO_SMALL", codeBufferTooSmall, "output buffer too small"},
	{"INVALID_HANDLE", codeInvalidHandle, "invalid classifier handle"},
	{"INVALID_IP", codeInvalidIP, "invalid IP address"},
	{"INTERNAL", codeInternal, "internal error"},
	{"OPEN_FAILED", codeOpenFailed, "cannot open classifier"},
	{"CLOSED", codeClosed, "classifier is closed"},
}

// ---------------------------------------------------------------------------
// Handle table

var (
	engines    sync.Map // int64 -> *classifier.Engine
	nextHandle atomic.Int64
)

func lookup(h C.int64_t) *classifier.Engine {
	v, ok := engines.Load(int64(h))
	if !ok {
		return nil
	}
	return v.(*classifier.Engine)
}

// ---------------------------------------------------------------------------
// Buffers

// bufPool holds the scratch buffers records are built in.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// writeBuf writes the answer built in b (from getBuf) to out, as
// writeOut does, and gives b back to the pool.
func writeBuf(out *C.char, outCap C.int64_t, outLen *C.int64_t, b *[]byte) C.int32_t {
	rc := writeOut(out, outCap, outLen, *b, codeOK)
	putBuf(b)
	return rc
}

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 { // do not keep batch-sized buffers forever
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// validOut reports whether (out, outCap, outLen) can be written to.
func validOut(out *C.char, outCap C.int64_t, outLen *C.int64_t) bool {
	return outLen != nil && outCap >= 0 && (out != nil || outCap == 0)
}

// validIn reports whether (p, n) is a readable input.
func validIn(p *C.char, n C.int64_t) bool {
	return n >= 0 && (p != nil || n == 0)
}

// goString copies an input; validIn must hold. (C.GoStringN would take a
// C int, which cannot hold every int64_t length.)
func goString(p *C.char, n C.int64_t) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
}

// goBytes copies an input; validIn must hold.
func goBytes(p *C.char, n C.int64_t) []byte {
	if n == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))...)
}

// writeOut copies b into out, or reports the size needed.
func writeOut(out *C.char, outCap C.int64_t, outLen *C.int64_t, b []byte, code int32) C.int32_t {
	if int64(len(b)) > int64(outCap) {
		*outLen = C.int64_t(len(b))
		return codeBufferTooSmall
	}
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(out)), len(b)), b)
	}
	*outLen = C.int64_t(len(b))
	return C.int32_t(code)
}

// fail writes msg (truncated to outCap) into out and returns code. It never
// fails itself: with no usable buffer it only returns the code.
func fail(out *C.char, outCap C.int64_t, outLen *C.int64_t, code int32, msg string) C.int32_t {
	if outLen == nil {
		return C.int32_t(code)
	}
	if outCap < 0 || out == nil {
		*outLen = 0
		return C.int32_t(code)
	}
	n := min(len(msg), int(outCap))
	if n > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(out)), n), msg[:n])
	}
	*outLen = C.int64_t(n)
	return C.int32_t(code)
}

// failAfterPanic reports a recovered panic as INTERNAL with its message.
// The panic may have come from a bad caller pointer (a nil-page fault is a
// Go panic), so writing the message may fault again: that second panic is
// swallowed and only the code is returned.
func failAfterPanic(out *C.char, outCap C.int64_t, outLen *C.int64_t, r any) (rc C.int32_t) {
	defer func() {
		if recover() != nil {
			rc = codeInternal
		}
	}()
	return fail(out, outCap, outLen, codeInternal, panicMessage(r))
}

// panicMessage renders a recovered value without fmt.
func panicMessage(r any) string {
	switch v := r.(type) {
	case error:
		return "panic: " + v.Error()
	case string:
		return "panic: " + v
	default:
		return "panic in ipclassifier"
	}
}

// jsonCall is the shared body of the exports that answer in JSON: it
// recovers panics, checks the output buffer and the handle, runs fn and
// writes the JSON of its value with its code. When fn returns an error, its
// code and message are written instead.
func jsonCall(name string, h C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t,
	fn func(e *classifier.Engine) (v any, code int32, err error)) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, name+": bad output buffer")
	}
	e := lookup(h)
	if e == nil {
		return fail(out, outCap, outLen, codeInvalidHandle, name+": invalid handle "+strconv.FormatInt(int64(h), 10))
	}
	v, code, err := fn(e)
	if err != nil {
		return fail(out, outCap, outLen, code, err.Error())
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fail(out, outCap, outLen, codeInternal, name+": encode: "+err.Error())
	}
	return writeOut(out, outCap, outLen, data, code)
}

// errCode is CLOSED for a closed engine, else fallback.
func errCode(err error, fallback int32) int32 {
	if errors.Is(err, classifier.ErrClosed) {
		return codeClosed
	}
	return fallback
}

// engineError maps an engine error to a code.
func engineError(out *C.char, outCap C.int64_t, outLen *C.int64_t, err error) C.int32_t {
	switch {
	case errors.Is(err, classifier.ErrInvalidIP):
		return fail(out, outCap, outLen, codeInvalidIP, err.Error())
	case errors.Is(err, classifier.ErrClosed):
		return fail(out, outCap, outLen, codeClosed, err.Error())
	default:
		return fail(out, outCap, outLen, codeInternal, err.Error())
	}
}

// ---------------------------------------------------------------------------
// Exports

// Open creates an engine from a JSON configuration (cfg, cfgLen; NULL/0 for
// all defaults) and stores its handle in *handle. Errors are written to
// (errBuf, errCap, errLen). Returns OK, INVALID_ARGUMENT (bad pointers or
// JSON), OPEN_FAILED or INTERNAL.
//
//export Open
func Open(cfg *C.char, cfgLen C.int64_t, handle *C.int64_t, errBuf *C.char, errCap C.int64_t, errLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(errBuf, errCap, errLen, r)
		}
	}()
	if !validOut(errBuf, errCap, errLen) {
		return codeInvalidArg
	}
	if handle == nil || !validIn(cfg, cfgLen) {
		return fail(errBuf, errCap, errLen, codeInvalidArg, "Open: NULL pointer or negative length")
	}
	conf, err := classifier.ParseConfig(goBytes(cfg, cfgLen))
	if err != nil {
		return fail(errBuf, errCap, errLen, codeInvalidArg, err.Error())
	}
	conf.LookupEnv = lookupEnv
	e, err := classifier.Open(conf)
	if err != nil {
		return fail(errBuf, errCap, errLen, codeOpenFailed, err.Error())
	}
	h := nextHandle.Add(1)
	engines.Store(h, e)
	*handle = C.int64_t(h)
	*errLen = 0
	return codeOK
}

// Close closes the engine behind h and forgets the handle. Calls already
// running on it finish with CLOSED. Returns OK, INVALID_HANDLE or INTERNAL.
//
//export Close
func Close(h C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = codeInternal
		}
	}()
	v, ok := engines.LoadAndDelete(int64(h))
	if !ok {
		return codeInvalidHandle
	}
	if err := v.(*classifier.Engine).Close(); err != nil {
		return codeInternal
	}
	return codeOK
}

// Classify labels one address and writes its tab-separated record (see
// wire.Fields). asn 0 and an empty asName mean unknown; asn must
// fit in 32 bits. Returns OK, INVALID_IP (message names the input),
// INVALID_ARGUMENT, INVALID_HANDLE, BUFFER_TOO_SMALL, CLOSED or INTERNAL.
//
//export Classify
func Classify(h C.int64_t, ip *C.char, ipLen C.int64_t, asn C.int64_t, asName *C.char, asNameLen C.int64_t,
	out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	e, q, rc := singleQuery("Classify", h, ip, ipLen, asn, asName, asNameLen, out, outCap, outLen)
	if e == nil {
		return rc
	}
	r, err := e.Classify(context.Background(), q.IP, q.ASN, q.ASName)
	if err != nil {
		return engineError(out, outCap, outLen, err)
	}
	b := getBuf()
	*b = wire.AppendRecord((*b)[:0], r, answerTime(&r))
	return writeBuf(out, outCap, outLen, b)
}

// singleQuery checks the arguments of an export answering one address
// (name is the export's, for the messages) and returns the engine and the
// query they name; with a nil engine, rc is the status of the failure it
// wrote to out.
func singleQuery(name string, h C.int64_t, ip *C.char, ipLen C.int64_t, asn C.int64_t, asName *C.char, asNameLen C.int64_t,
	out *C.char, outCap C.int64_t, outLen *C.int64_t) (e *classifier.Engine, q classifier.Query, rc C.int32_t) {
	if !validOut(out, outCap, outLen) {
		return nil, q, fail(out, outCap, outLen, codeInvalidArg, name+": bad output buffer")
	}
	if !validIn(ip, ipLen) || !validIn(asName, asNameLen) {
		return nil, q, fail(out, outCap, outLen, codeInvalidArg, name+": NULL pointer or negative length")
	}
	if asn < 0 || asn > 0xFFFFFFFF {
		return nil, q, fail(out, outCap, outLen, codeInvalidArg, name+": asn out of range: "+strconv.FormatInt(int64(asn), 10))
	}
	if e = lookup(h); e == nil {
		return nil, q, fail(out, outCap, outLen, codeInvalidHandle, name+": invalid handle "+strconv.FormatInt(int64(h), 10))
	}
	return e, classifier.Query{IP: goString(ip, ipLen), ASN: uint32(asn), ASName: goString(asName, asNameLen)}, codeOK
}

// answerTime is the time a single answer's data age is measured at: a
// computed answer was made just now, one from a cache tier earlier.
func answerTime(r *classifier.Result) time.Time {
	if r.CacheTier != "" {
		return time.Now()
	}
	return r.ClassifiedAt
}

// ClassifyKeyed is Classify for a host that keeps what it made of each
// answer by its key (classifier.Result.Key): it
// writes the answer's head (wire.AppendHead: the key, the times, the stale
// flag, the address when it is not the input as given), followed by the
// record only when the answer has no key or its key is new (see
// wire.AppendHead). A host that knows the key builds the answer from what
// it kept and the head. One that does not calls again
// with again nonzero: that call writes the head and the record of the
// answer from the current data, without the cache tiers and without
// counting it in the stats (the first call did both). Status codes as for
// Classify.
//
//export ClassifyKeyed
func ClassifyKeyed(h C.int64_t, ip *C.char, ipLen C.int64_t, asn C.int64_t, asName *C.char, asNameLen C.int64_t,
	again C.int32_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	e, q, rc := singleQuery("ClassifyKeyed", h, ip, ipLen, asn, asName, asNameLen, out, outCap, outLen)
	if e == nil {
		return rc
	}
	var r classifier.Result
	var err error
	if again != 0 {
		rs, errs := e.ClassifyUncached([]classifier.Query{q})
		r, err = rs[0], errs[0]
	} else {
		r, err = e.Classify(context.Background(), q.IP, q.ASN, q.ASName)
	}
	if err != nil {
		return engineError(out, outCap, outLen, err)
	}
	b := getBuf()
	*b = wire.AppendHead((*b)[:0], &r, q.IP, answerTime(&r), again != 0)
	return writeBuf(out, outCap, outLen, b)
}

// ClassifyBatch labels every line of (in, inLen) — "ip\tasn\tas_name", lines
// separated by '\n', asn and as_name optional (empty or 0 = unknown) — in one
// engine call, and writes one record per input line, joined by '\n', in
// input order. A line whose IP or ASN is invalid gets an error record
// "input\t!error\tmessage" and the call returns PARTIAL; other codes as for
// Classify. Every line may end with '\n' (the last one need not): "" is no
// line at all, "\n" is one empty line (an error record), "a\n\n" two lines.
// Records are formatted straight into out (a batch's output is megabytes:
// no copy, no Go buffer of that size), so on BUFFER_TOO_SMALL out holds a
// partial output, to be ignored.
//
//export ClassifyBatch
func ClassifyBatch(h C.int64_t, in *C.char, inLen C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "ClassifyBatch: bad output buffer")
	}
	if !validIn(in, inLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "ClassifyBatch: NULL pointer or negative length")
	}
	e := lookup(h)
	if e == nil {
		return fail(out, outCap, outLen, codeInvalidHandle, "ClassifyBatch: invalid handle "+strconv.FormatInt(int64(h), 10))
	}
	// Records are appended straight into the caller's buffer: dst has the
	// buffer's capacity, so an append that does not fit moves dst to Go
	// memory, where formatting goes on only to learn the size needed.
	dst := unsafe.Slice((*byte)(unsafe.Pointer(out)), int(outCap))[:0]
	dst, partial, err := wire.AppendBatch(context.Background(), dst, e, goString(in, inLen), time.Now())
	switch {
	case err != nil:
		return engineError(out, outCap, outLen, err)
	case len(dst) > int(outCap):
		*outLen = C.int64_t(len(dst))
		return C.int32_t(codeBufferTooSmall)
	}
	*outLen = C.int64_t(len(dst))
	if partial {
		return C.int32_t(codePartial)
	}
	return C.int32_t(codeOK)
}

// ClassifyColumns is ClassifyBatch answering in columns: it takes the same
// input and writes the columnar batch of wire.AppendColumns (typed
// columns, strings interned per column; the evidence column only when
// evidence is non-zero; rows in input order, an input that
// failed as a row with its message in the "error" column and PARTIAL
// returned). Other codes as for ClassifyBatch; on BUFFER_TOO_SMALL *outLen
// is the size needed and out holds a partial block, to be ignored (the
// batch was classified: call again with that size).
//
//export ClassifyColumns
func ClassifyColumns(h C.int64_t, in *C.char, inLen C.int64_t, evidence C.int32_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "ClassifyColumns: bad output buffer")
	}
	if !validIn(in, inLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "ClassifyColumns: NULL pointer or negative length")
	}
	e := lookup(h)
	if e == nil {
		return fail(out, outCap, outLen, codeInvalidHandle, "ClassifyColumns: invalid handle "+strconv.FormatInt(int64(h), 10))
	}
	// Written straight into the caller's buffer, as ClassifyBatch's records.
	dst := unsafe.Slice((*byte)(unsafe.Pointer(out)), int(outCap))[:0]
	dst, partial, err := wire.AppendColumns(context.Background(), dst, e, goString(in, inLen), time.Now(), evidence != 0)
	switch {
	case err != nil:
		return engineError(out, outCap, outLen, err)
	case len(dst) > int(outCap):
		*outLen = C.int64_t(len(dst))
		return C.int32_t(codeBufferTooSmall)
	}
	*outLen = C.int64_t(len(dst))
	if partial {
		return C.int32_t(codePartial)
	}
	return C.int32_t(codeOK)
}

// Refresh downloads the sources of group ("tor", "cloud", "datacenter" or
// "all"; empty means "all") that are due, or all of them when force is
// non-zero, and writes the JSON report. Returns OK, PARTIAL (some source
// failed; its previous data stays in use), INVALID_ARGUMENT (unknown group),
// INVALID_HANDLE, BUFFER_TOO_SMALL (the refresh did happen), CLOSED or
// INTERNAL.
//
//export Refresh
func Refresh(h C.int64_t, group *C.char, groupLen C.int64_t, force C.int32_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) C.int32_t {
	return jsonCall("Refresh", h, out, outCap, outLen, func(e *classifier.Engine) (any, int32, error) {
		if !validIn(group, groupLen) {
			return nil, codeInvalidArg, errors.New("Refresh: NULL pointer or negative length")
		}
		g := goString(group, groupLen)
		if g == "" {
			g = classifier.GroupAll
		}
		report, err := e.Refresh(context.Background(), g, force != 0)
		if err != nil {
			return nil, errCode(err, codeInvalidArg), err
		}
		if report.Failed() > 0 {
			return report, codePartial, nil
		}
		return report, codeOK, nil
	})
}

// ImportSnapshot adds (data, dataLen), a file of the source named by
// (source, sourceLen) ("tor", "cloud/aws-official", … as in Stats) as it
// was at (date, dateLen) (RFC 3339), to the engine's history, and writes
// the JSON report ({"source","date","sha256","bytes","entries","added"}).
// Returns OK, INVALID_ARGUMENT (bad pointers, unknown source, bad or
// future date, bytes that are not a good list of that source, or the
// history cannot be written: the message says which), INVALID_HANDLE,
// BUFFER_TOO_SMALL (the import did happen), CLOSED or INTERNAL.
//
//export ImportSnapshot
func ImportSnapshot(h C.int64_t, source *C.char, sourceLen C.int64_t, date *C.char, dateLen C.int64_t,
	data *C.char, dataLen C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) C.int32_t {
	return jsonCall("ImportSnapshot", h, out, outCap, outLen, func(e *classifier.Engine) (any, int32, error) {
		if !validIn(source, sourceLen) || !validIn(date, dateLen) || !validIn(data, dataLen) {
			return nil, codeInvalidArg, errors.New("ImportSnapshot: NULL pointer or negative length")
		}
		text := goString(date, dateLen)
		at, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return nil, codeInvalidArg, errors.New("ImportSnapshot: invalid date " + strconv.Quote(text) + " (want RFC 3339)")
		}
		rep, err := e.ImportSnapshot(context.Background(), goString(source, sourceLen), at, goBytes(data, dataLen))
		if err != nil {
			return nil, errCode(err, codeInvalidArg), err
		}
		return rep, codeOK, nil
	})
}

// Stats writes the engine's counters as JSON.
//
//export Stats
func Stats(h C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) C.int32_t {
	return jsonCall("Stats", h, out, outCap, outLen, func(e *classifier.Engine) (any, int32, error) {
		return e.Stats(), codeOK, nil
	})
}

// CacheCleanup removes expired L2 rows and L3 files and writes the JSON
// report ({"l1_keys","l2_rows","l3_files","l3_dirs","l3_skipped"} plus
// "error" when a tier failed as a whole, which returns PARTIAL).
//
//export CacheCleanup
func CacheCleanup(h C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) C.int32_t {
	return jsonCall("CacheCleanup", h, out, outCap, outLen, cacheCleanup)
}

// CacheClear removes cached answers from every cache tier — all of them
// when (ipType, ipTypeLen) is empty, else only the answers of that type
// ("tor", "cloud", "datacenter", "residential" or "unknown") — and writes
// the JSON report ({"l1_keys","l2_rows","l3_files","l3_dirs","l3_skipped",
// "ip_type"} with ip_type null for all, plus "error" when a tier failed as
// a whole, which returns PARTIAL). Other services' rows are never touched.
// Returns OK, PARTIAL, INVALID_ARGUMENT (bad pointers, unknown type: nothing
// is cleared), INVALID_HANDLE, BUFFER_TOO_SMALL (the clearing did happen),
// CLOSED or INTERNAL.
//
//export CacheClear
func CacheClear(h C.int64_t, ipType *C.char, ipTypeLen C.int64_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) C.int32_t {
	return jsonCall("CacheClear", h, out, outCap, outLen, func(e *classifier.Engine) (any, int32, error) {
		if !validIn(ipType, ipTypeLen) {
			return nil, codeInvalidArg, errors.New("CacheClear: NULL pointer or negative length")
		}
		return cacheClear(e, goString(ipType, ipTypeLen))
	})
}

// Version writes classifier.Version.
//
//export Version
func Version(out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "Version: bad output buffer")
	}
	return writeOut(out, outCap, outLen, []byte(classifier.Version), codeOK)
}

// ErrorText writes the generic text of a status code.
//
//export ErrorText
func ErrorText(code C.int32_t, out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "ErrorText: bad output buffer")
	}
	text := "unknown status code " + strconv.Itoa(int(code))
	for _, c := range codes {
		if c.code == int32(code) {
			text = c.text
		}
	}
	return writeOut(out, outCap, outLen, []byte(text), codeOK)
}

// abiInfo is what AbiInfo writes.
type abiInfo struct {
	ABI       int              `json:"abi"`
	Version   string           `json:"version"`
	Fields    []string         `json:"fields"`
	Columns   []string         `json:"columns"`
	Magic     string           `json:"columns_magic"`
	HeadSize  int              `json:"head_size"`
	ErrorMark string           `json:"error_mark"`
	Codes     map[string]int32 `json:"codes"`
}

// AbiInfo writes, as JSON, what a caller checks at load: the ABI version
// (IPC_ABI_VERSION), the engine version, the record's field names in order
// (wire.Fields), the columns of ClassifyColumns in order (wire.ColumnNames)
// and its magic, the size of ClassifyKeyed's head, the error record's mark and every status code by name:
// {"abi":6,"version":"…","fields":["ip",…],"columns":["ip",…],"columns_magic":"IPCOLS\u0000\u0001","head_size":64,
// "error_mark":"!error","codes":{"OK":0,…}}.
// Returns OK, INVALID_ARGUMENT (bad output buffer), BUFFER_TOO_SMALL or
// INTERNAL.
//
//export AbiInfo
func AbiInfo(out *C.char, outCap C.int64_t, outLen *C.int64_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			rc = failAfterPanic(out, outCap, outLen, r)
		}
	}()
	if !validOut(out, outCap, outLen) {
		return fail(out, outCap, outLen, codeInvalidArg, "AbiInfo: bad output buffer")
	}
	info := abiInfo{ABI: C.IPC_ABI_VERSION, Version: classifier.Version, Fields: wire.Fields(), Columns: wire.ColumnNames(), Magic: wire.ColumnsMagic, HeadSize: wire.HeadSize, ErrorMark: wire.ErrorMark, Codes: map[string]int32{}}
	for _, c := range codes {
		info.Codes[c.name] = c.code
	}
	data, err := json.Marshal(info)
	if err != nil {
		return fail(out, outCap, outLen, codeInternal, "AbiInfo: encode: "+err.Error())
	}
	return writeOut(out, outCap, outLen, data, codeOK)
}

func main() {}
