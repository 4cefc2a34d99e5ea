package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
)

// The columnar batch: the answers of a batch as typed columns, for hosts
// that want arrays (a DataFrame, Arrow) rather than one object per answer.
// Little-endian throughout; every block starts at a multiple of 8 bytes
// from the start, so each buffer can be viewed in place as an array.
//
//	header   ColumnsMagic (8 bytes), rows uint64, columns uint64
//	column   kind uint8, buffers uint8, name length uint16, 4 zero bytes,
//	         the name (UTF-8, padded to 8), then per buffer:
//	         its length in bytes uint64 and its bytes (padded to 8)
//
// The kinds and their buffers (offsets are int32, as Arrow's):
//
//	KindCode  codes uint32[rows]; table offsets int32[n+1]; table bytes —
//	          code k is the k-th string of the table; code 0 is "" (none)
//	KindStr   offsets int32[rows+1]; bytes — one string per row
//	KindU32   uint32[rows]
//	KindF64   float64[rows]
//	KindI64   int64[rows]
//	KindBool  uint8[rows], 0 or 1
//
// A reader skips columns of a kind it does not know (a list-valued column
// is a kind of its own: offsets int32[rows+1] and codes into a table), and
// finds columns by name, so columns may be added. ColumnNames lists them.
const ColumnsMagic = "IPCOLS\x00\x01"

// The column kinds of the columnar batch.
const (
	KindCode uint8 = 1
	KindStr  uint8 = 2
	KindU32  uint8 = 3
	KindF64  uint8 = 4
	KindI64  uint8 = 5
	KindBool uint8 = 6
)

// column is one column of the columnar batch, in order: the record's
// fields, then "error".
type column struct {
	name string
	kind uint8
}

// columns is the layout AppendColumns writes. Times are microseconds since
// the Unix epoch (snapshot_at 0 = none), data_age_seconds NaN when the
// answer came from no snapshot, asn 0 = unknown; "error" is the message of
// a row whose input failed ("" = none; its ip is the input, its ip_type
// code 0). "answer" numbers the distinct answers of the batch in order of
// first appearance: rows equal in every column but ip (key included: rows
// of one key share their number, rows of two keys never do) share the
// number, so a host building one object per row decodes each answer once. "tags" is
// an answer's tags joined by ',' as in the record (few distinct sets, so a
// code column); "evidence" is the record's evidence field (entries split by
// EvidenceSep, their fields by EvidenceFieldSep; a code column: answers
// from one prefix share it), written only when the caller asks for it (it
// is a third of the cost of the columns; frames do not hold it); "as_of"
// the time of an answer as of a past time (0 = now) and "history_short"
// the record's flag. With evidence the columns hold every field of the
// record. "key" is the answer's classifier.Result.Key (0 = none): a host
// that kept what it made of a key's answer need not read its columns again
// (only classified_at, snapshot_at, data_age_seconds and stale differ
// between answers of one key, and within one batch not even those).
var columns = [...]column{
	{"ip", KindStr}, {"ip_type", KindCode}, {"provider", KindCode}, {"region", KindCode},
	{"service", KindCode}, {"confidence", KindF64}, {"source", KindCode}, {"classified_at", KindI64},
	{"matched_prefix", KindCode}, {"snapshot", KindCode}, {"snapshot_at", KindI64},
	{"data_age_seconds", KindF64}, {"stale", KindBool}, {"asn", KindU32}, {"as_name", KindCode},
	{"cache_tier", KindCode}, {"country", KindCode}, {"asn_source", KindCode}, {"error", KindCode},
	{"answer", KindU32}, {"tags", KindCode}, {"evidence", KindCode}, {"as_of", KindI64},
	{"history_short", KindBool}, {"key", KindI64},
}

// codeColumns are the positions of the code columns in columns.
var codeColumns = func() (out []int) {
	for i, c := range columns {
		if c.kind == KindCode {
			out = append(out, i)
		}
	}
	return out
}()

// ColumnNames returns the names of the columns AppendColumns writes, in
// order (a new slice each call).
func ColumnNames() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

// maxColumnBytes bounds a string buffer: offsets are int32.
const maxColumnBytes = math.MaxInt32

// errColumnsTooBig is returned for a batch whose strings overflow int32
// offsets.
var errColumnsTooBig = errors.New("columnar batch: a string column exceeds 2 GiB; split the batch")

// AppendColumns classifies every line of a batch (the input of
// AppendBatch) in one engine call (a batch of many thousand lines in runs,
// on up to GOMAXPROCS goroutines: see Engine.ClassifyRuns) and appends the
// columnar batch of the answers, one row per line in input order, to
// dst; with the evidence
// column when evidence is true, without it otherwise. partial is true when
// some row holds an error. now is the time data_age_seconds is measured at.
// It returns classifier.ErrClosed when the engine was closed during the
// call.
func AppendColumns(ctx context.Context, dst []byte, e *classifier.Engine, text string, now time.Time, evidence bool) (out []byte, partial bool, err error) {
	return appendColumns(ctx, dst, e, text, now, evidence, runtime.GOMAXPROCS(0))
}

// appendColumns is AppendColumns in at most workers runs.
func appendColumns(ctx context.Context, dst []byte, e *classifier.Engine, text string, now time.Time, evidence bool, workers int) (out []byte, partial bool, err error) {
	pieces := splitText(text, workers)
	n := len(pieces)
	bs := make([]batch, n)
	cs := make([]*columnBuilder, n)
	for p := range cs {
		cs[p] = builders.Get().(*columnBuilder)
		cs[p].withEvidence = evidence
	}
	defer func() {
		for _, c := range cs {
			c.release()
			builders.Put(c)
		}
	}()
	// Each run's rows: its lines that are no query, and the answers to
	// the others, in line order.
	next := make([]int, n) // by run, the next line of it to add
	failed := make([]bool, n)
	closed := make([]bool, n)
	failedLines := func(p, upto int) {
		for ; next[p] < upto; next[p]++ {
			cs[p].addError(bs[p].inputs[next[p]], bs[p].lineErr[next[p]])
			failed[p] = true
		}
	}
	e.ClassifyRuns(ctx, n, func(p int) []classifier.Query {
		bs[p] = readBatch(pieces[p])
		cs[p].reset(len(bs[p].inputs))
		return bs[p].queries
	}, func(p, k int, r *classifier.Result, err error) {
		i := bs[p].line[k]
		failedLines(p, i)
		if err != nil {
			closed[p] = closed[p] || errors.Is(err, classifier.ErrClosed)
			cs[p].addError(bs[p].inputs[i], err)
			failed[p] = true
		} else {
			cs[p].add(r, now)
		}
		next[p] = i + 1
	})
	for p := range n {
		failedLines(p, len(bs[p].inputs))
		partial = partial || failed[p]
		if closed[p] {
			return dst, partial, classifier.ErrClosed
		}
		if p > 0 {
			cs[0].merge(cs[p])
		}
	}
	out, err = cs[0].appendTo(dst)
	return out, partial, err
}

// dict interns the strings of one code column. Most strings an answer
// holds are shared with the index (a provider, a prefix, an AS name of the
// ip2asn table), so a small cache keyed by the string's address answers
// them without hashing the text.
type dict struct {
	codes  map[string]uint32
	offs   []int32
	bytes  []byte
	recent [512]struct {
		p    *byte
		n    int
		code uint32
	}
}

func newDict() *dict {
	return &dict{codes: map[string]uint32{"": 0}, offs: []int32{0, 0}}
}

// reset empties d, keeping what it allocated. The recent cache is cleared
// too: an address it holds may be another string's in the next batch.
func (d *dict) reset() {
	clear(d.codes)
	d.codes[""] = 0
	d.offs = append(d.offs[:0], 0, 0)
	d.bytes = d.bytes[:0]
	clear(d.recent[:])
}

// code returns the code of s, adding it to the table when new.
func (d *dict) code(s string) uint32 {
	if s == "" {
		return 0
	}
	p := unsafe.StringData(s)
	slot := &d.recent[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(s)))&(uintptr(len(d.recent))-1)]
	if slot.p == p && slot.n == len(s) {
		return slot.code
	}
	c, ok := d.codes[s]
	if !ok {
		c = d.add(s)
	}
	slot.p, slot.n, slot.code = p, len(s), c
	return c
}

// add adds s, not in the table yet, and returns its code.
func (d *dict) add(s string) uint32 {
	c := uint32(len(d.offs) - 1)
	d.codes[s] = c
	d.bytes = append(d.bytes, s...)
	d.offs = append(d.offs, int32(min(len(d.bytes), maxColumnBytes)))
	return c
}

// codeBytes is code for the string b holds, which d does not keep (a
// copy is made when it is new).
func (d *dict) codeBytes(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if c, ok := d.codes[string(b)]; ok { // no copy for a lookup
		return c
	}
	return d.add(string(b))
}

// columnBuilder gathers the rows of a columnar batch.
type columnBuilder struct {
	ipOffs                       []int32
	ipBytes                      []byte
	codes                        [len(columns)][]uint32 // by column position, for code columns
	dicts                        [len(columns)]*dict
	confidence, age              []float64
	classifiedAt, snapshotAt     []int64
	asOf                         []int64
	stale, historyShort          []uint8
	asn                          []uint32
	answer                       []uint32
	key                          []int64
	rowOfKey                     map[uint64]int    // the first row of each nonzero key of the batch
	answers                      map[uint64]uint32 // answer number by hash of its key
	keys                         []answerKey       // by answer number
	lastAt                       time.Time         // classifiedAt's last time and its value: a batch shares one
	lastAtMicro                  int64
	tooBig                       bool
	colType, colProv, colRegion  int
	colService, colSource        int
	colMatched, colSnap, colName int
	colTier, colCC, colASNSrc    int
	colError, colTags, colEv     int
	// tagText memoizes the joined text of a tags slice by its first
	// element's address: answers share their tags slices with the index.
	tagText map[*string]string
	// evCode memoizes the code of an evidence slice by its address and
	// length: answers share their evidence slices with the engine's memo.
	evCode       map[evKey]uint32
	evBuf        []byte
	withEvidence bool // the evidence column is written (else its codes are all 0)
}

// evKey identifies an evidence slice (holding the pointer keeps the
// slice alive for the batch, so an address is never reused meanwhile).
type evKey struct {
	p *classifier.Evidence
	n int
}

// builders keeps column builders between batches: a batch starts with
// the slices and maps the last one grew (cleared), not from nothing.
var builders = sync.Pool{New: func() any { return newColumnBuilder() }}

func newColumnBuilder() *columnBuilder {
	c := &columnBuilder{answers: map[uint64]uint32{}, tagText: map[*string]string{}, evCode: map[evKey]uint32{}, rowOfKey: map[uint64]int{}}
	pos := map[string]int{}
	for i, col := range columns {
		pos[col.name] = i
		if col.kind == KindCode {
			c.dicts[i] = newDict()
		}
	}
	c.colType, c.colProv, c.colRegion, c.colService, c.colSource = pos["ip_type"], pos["provider"], pos["region"], pos["service"], pos["source"]
	c.colMatched, c.colSnap, c.colName, c.colTier, c.colCC = pos["matched_prefix"], pos["snapshot"], pos["as_name"], pos["cache_tier"], pos["country"]
	c.colASNSrc, c.colError, c.colTags, c.colEv = pos["asn_source"], pos["error"], pos["tags"], pos["evidence"]
	return c
}

// reset readies c, new or released, for a batch of rows, keeping what it
// allocated.
func (c *columnBuilder) reset(rows int) {
	c.ipOffs = append(slices.Grow(c.ipOffs[:0], rows+1), 0)
	c.ipBytes = c.ipBytes[:0]
	c.confidence, c.age = slices.Grow(c.confidence[:0], rows), slices.Grow(c.age[:0], rows)
	c.classifiedAt, c.snapshotAt = slices.Grow(c.classifiedAt[:0], rows), slices.Grow(c.snapshotAt[:0], rows)
	c.asOf = slices.Grow(c.asOf[:0], rows)
	c.stale, c.historyShort = slices.Grow(c.stale[:0], rows), slices.Grow(c.historyShort[:0], rows)
	c.asn, c.answer, c.key = slices.Grow(c.asn[:0], rows), slices.Grow(c.answer[:0], rows), slices.Grow(c.key[:0], rows)
	for i, d := range c.dicts {
		if d != nil {
			c.codes[i] = slices.Grow(c.codes[i][:0], rows)
		}
	}
	c.keys = c.keys[:0]
	c.lastAt, c.lastAtMicro, c.tooBig = time.Time{}, 0, false
}

// release forgets every string and evidence slice of the batch, so a
// builder waiting in the pool holds on to none of the engine's data.
func (c *columnBuilder) release() {
	for _, d := range c.dicts {
		if d != nil {
			d.reset()
		}
	}
	clear(c.answers)
	clear(c.rowOfKey)
	clear(c.tagText)
	clear(c.evCode)
}

func (c *columnBuilder) str(col int, s string) {
	c.codes[col] = append(c.codes[col], c.dicts[col].code(s))
}

func (c *columnBuilder) ip(s string) {
	c.ipBytes = append(c.ipBytes, s...)
	if len(c.ipBytes) > maxColumnBytes {
		c.tooBig = true
	}
	c.ipOffs = append(c.ipOffs, int32(min(len(c.ipBytes), maxColumnBytes)))
}

// answerKey is every column of a row but ip; of a keyed row, its key
// alone (the rest is the key's).
type answerKey struct {
	key            uint64
	codes          [len(columns)]uint32
	confidence     float64
	age            uint64 // the bits: NaN equals NaN
	at, snapshotAt int64
	asOf           int64
	asn            uint32
	stale, short   uint8
}

// endRow numbers the answer of the row just appended. A keyed row's is
// a new number with no hashing: add repeats the row of a key seen before
// in the batch (every answer of one batch is made at one time), so a key
// reaching here is new, and another key is another answer.
func (c *columnBuilder) endRow() {
	i := len(c.asn) - 1
	if key := uint64(c.key[i]); key != 0 {
		c.answer = append(c.answer, uint32(len(c.keys)))
		c.keys = append(c.keys, answerKey{key: key})
		return
	}
	k := answerKey{
		confidence: c.confidence[i], age: math.Float64bits(c.age[i]), at: c.classifiedAt[i],
		snapshotAt: c.snapshotAt[i], asOf: c.asOf[i], asn: c.asn[i], stale: c.stale[i], short: c.historyShort[i],
	}
	for _, col := range codeColumns {
		k.codes[col] = c.codes[col][i]
	}
	c.answer = append(c.answer, c.number(&k))
}

// number returns the number of the answer k: by a 64-bit hash of k, k
// itself compared on a hit (a collision gets a number of its own, never
// another answer's); a new number for an answer not seen before.
func (c *columnBuilder) number(k *answerKey) uint32 {
	h := uint64(k.asn)<<16 | uint64(k.stale)<<8 | uint64(k.short)
	mix := func(v uint64) { h = (h ^ v) * 0x9E3779B97F4A7C15; h ^= h >> 29 }
	mix(math.Float64bits(k.confidence))
	mix(k.age)
	mix(uint64(k.at))
	mix(uint64(k.snapshotAt))
	mix(uint64(k.asOf))
	for _, col := range codeColumns {
		mix(uint64(k.codes[col]))
	}
	for {
		n, ok := c.answers[h]
		if !ok {
			n = uint32(len(c.keys))
			c.answers[h] = n
			c.keys = append(c.keys, *k)
			return n
		} else if c.keys[n] == *k {
			return n
		}
		h++ // a collision: the next slot
	}
}

// merge appends the rows of o (the next run of the batch) to c: o's
// strings are coded in c's tables and o's answers numbered among c's, so
// c holds what one builder given every row in turn would have.
func (c *columnBuilder) merge(o *columnBuilder) {
	c.tooBig = c.tooBig || o.tooBig
	rows := len(c.key)
	base := len(c.ipBytes)
	c.ipBytes = append(c.ipBytes, o.ipBytes...)
	if len(c.ipBytes) > maxColumnBytes {
		c.tooBig = true
	}
	for _, off := range o.ipOffs[1:] {
		c.ipOffs = append(c.ipOffs, int32(min(base+int(off), maxColumnBytes)))
	}
	var remap [len(columns)][]uint32 // by column, o's code → c's
	for col, d := range o.dicts {
		if d == nil {
			continue
		}
		m := make([]uint32, len(d.offs)-1)
		for k := 1; k < len(m); k++ {
			m[k] = c.dicts[col].codeBytes(d.bytes[d.offs[k]:d.offs[k+1]])
		}
		remap[col] = m
		for _, x := range o.codes[col] {
			c.codes[col] = append(c.codes[col], m[x])
		}
	}
	c.confidence, c.age = append(c.confidence, o.confidence...), append(c.age, o.age...)
	c.classifiedAt, c.snapshotAt = append(c.classifiedAt, o.classifiedAt...), append(c.snapshotAt, o.snapshotAt...)
	c.asOf = append(c.asOf, o.asOf...)
	c.stale, c.historyShort = append(c.stale, o.stale...), append(c.historyShort, o.historyShort...)
	c.asn, c.key = append(c.asn, o.asn...), append(c.key, o.key...)
	numbers := make([]uint32, len(o.keys)) // o's answer number → c's
	for n, k := range o.keys {
		if k.key != 0 { // a key of c's rows is c's answer; else a new one
			orow := o.rowOfKey[k.key]
			if row, ok := c.rowOfKey[k.key]; ok && c.classifiedAt[row] == o.classifiedAt[orow] {
				numbers[n] = c.answer[row]
				continue
			}
			numbers[n] = uint32(len(c.keys))
			c.keys = append(c.keys, k)
			c.rowOfKey[k.key] = rows + orow
			continue
		}
		for col, m := range remap {
			if m != nil {
				k.codes[col] = m[k.codes[col]]
			}
		}
		numbers[n] = c.number(&k)
	}
	for _, n := range o.answer {
		c.answer = append(c.answer, numbers[n])
	}
}

// add appends the row of an answer.
func (c *columnBuilder) add(r *classifier.Result, now time.Time) {
	if k := r.Key(); k != 0 {
		if row, ok := c.rowOfKey[k]; ok && c.classifiedAt[row] == r.ClassifiedAt.UnixMicro() {
			c.repeat(row, r.IP)
			return
		}
		c.rowOfKey[k] = len(c.key)
	}
	c.key = append(c.key, int64(r.Key()))
	c.ip(r.IP)
	c.str(c.colType, string(r.Type))
	c.str(c.colProv, r.Provider)
	c.str(c.colRegion, r.Region)
	c.str(c.colService, r.Service)
	c.confidence = append(c.confidence, r.Confidence)
	c.str(c.colSource, r.Source)
	if !r.ClassifiedAt.Equal(c.lastAt) {
		c.lastAt, c.lastAtMicro = r.ClassifiedAt, r.ClassifiedAt.UnixMicro()
	}
	c.classifiedAt = append(c.classifiedAt, c.lastAtMicro)
	c.str(c.colMatched, r.MatchedPrefix)
	c.str(c.colSnap, r.Snapshot)
	if r.SnapshotAt.IsZero() {
		c.snapshotAt = append(c.snapshotAt, 0)
	} else {
		c.snapshotAt = append(c.snapshotAt, r.SnapshotAt.UnixMicro())
	}
	if r.Snapshot == "" {
		c.age = append(c.age, math.NaN())
	} else {
		c.age = append(c.age, float64(r.DataAge(now).Round(time.Second)/time.Second))
	}
	var stale uint8
	if r.Stale {
		stale = 1
	}
	c.stale = append(c.stale, stale)
	c.asn = append(c.asn, r.ASN)
	c.str(c.colName, r.ASName)
	c.str(c.colTier, r.CacheTier)
	c.str(c.colCC, r.Country)
	c.str(c.colASNSrc, r.ASNSource)
	c.str(c.colError, "")
	c.str(c.colTags, c.joinTags(r.Tags))
	var ev uint32
	if c.withEvidence {
		ev = c.evidence(r.Evidence)
	}
	c.codes[c.colEv] = append(c.codes[c.colEv], ev)
	if r.AsOf.IsZero() {
		c.asOf = append(c.asOf, 0)
	} else {
		c.asOf = append(c.asOf, r.AsOf.UnixMicro())
	}
	var short uint8
	if r.HistoryShort {
		short = 1
	}
	c.historyShort = append(c.historyShort, short)
	c.endRow()
}

// repeat appends a row equal to row but for its ip: the answer of a key
// seen before in the batch (made from the same view at the same time, so
// equal in every column but ip).
func (c *columnBuilder) repeat(row int, ip string) {
	c.ip(ip)
	for _, i := range codeColumns {
		codes := c.codes[i]
		c.codes[i] = append(codes, codes[row])
	}
	c.confidence, c.age = append(c.confidence, c.confidence[row]), append(c.age, c.age[row])
	c.classifiedAt, c.snapshotAt = append(c.classifiedAt, c.classifiedAt[row]), append(c.snapshotAt, c.snapshotAt[row])
	c.asOf = append(c.asOf, c.asOf[row])
	c.stale, c.historyShort = append(c.stale, c.stale[row]), append(c.historyShort, c.historyShort[row])
	c.asn, c.answer, c.key = append(c.asn, c.asn[row]), append(c.answer, c.answer[row]), append(c.key, c.key[row])
}

// evidence returns the code of an evidence list (its record text), from
// the memo when the same slice was coded before.
func (c *columnBuilder) evidence(ev []classifier.Evidence) uint32 {
	if len(ev) == 0 {
		return 0
	}
	k := evKey{&ev[0], len(ev)}
	if code, ok := c.evCode[k]; ok {
		return code
	}
	c.evBuf = appendEvidence(c.evBuf[:0], ev)
	code := c.dicts[c.colEv].code(string(c.evBuf))
	c.evCode[k] = code
	return code
}

// joinTags returns tags joined by ',', from the memo when the same slice
// was joined before.
func (c *columnBuilder) joinTags(tags []string) string {
	switch len(tags) {
	case 0:
		return ""
	case 1:
		return tags[0]
	}
	if s, ok := c.tagText[&tags[0]]; ok && strings.Count(s, ",") == len(tags)-1 {
		return s
	}
	s := strings.Join(tags, ",")
	c.tagText[&tags[0]] = s
	return s
}

// addError appends the row of an input that failed: its ip is the input,
// every other column empty, and error the message.
func (c *columnBuilder) addError(input string, err error) {
	c.key = append(c.key, 0)
	c.ip(strings.ToValidUTF8(field.Clean(input), "\uFFFD"))
	for i, col := range columns {
		if col.kind == KindCode && i != c.colError {
			c.codes[i] = append(c.codes[i], 0)
		}
	}
	c.str(c.colError, strings.ToValidUTF8(field.Clean(err.Error()), "\uFFFD"))
	c.confidence = append(c.confidence, 0)
	c.classifiedAt = append(c.classifiedAt, 0)
	c.snapshotAt = append(c.snapshotAt, 0)
	c.age = append(c.age, math.NaN())
	c.stale = append(c.stale, 0)
	c.asn = append(c.asn, 0)
	c.asOf = append(c.asOf, 0)
	c.historyShort = append(c.historyShort, 0)
	c.endRow()
}

// appendTo writes the columnar batch to dst, every buffer straight from
// the builder's slices.
func (c *columnBuilder) appendTo(dst []byte) ([]byte, error) {
	if c.tooBig {
		return dst, errColumnsTooBig
	}
	rows := len(c.ipOffs) - 1
	base := len(dst)
	dst = append(dst, ColumnsMagic...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(rows))
	n := len(columns)
	if !c.withEvidence {
		n--
	}
	dst = binary.LittleEndian.AppendUint64(dst, uint64(n))
	for i, col := range columns {
		if i == c.colEv && !c.withEvidence {
			continue
		}
		nbuf := uint8(1)
		switch col.kind {
		case KindCode:
			if len(c.dicts[i].bytes) > maxColumnBytes {
				return dst, errColumnsTooBig
			}
			nbuf = 3
		case KindStr:
			nbuf = 2
		}
		dst = append(dst, col.kind, nbuf)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(col.name)))
		dst = append(dst, 0, 0, 0, 0)
		dst = append(dst, col.name...)
		dst = pad8(dst, base)
		switch col.kind {
		case KindCode:
			d := c.dicts[i]
			dst = appendU32s(dst, base, c.codes[i])
			dst = appendI32s(dst, base, d.offs)
			dst = appendBytes(dst, base, d.bytes)
			continue
		case KindStr:
			dst = appendI32s(dst, base, c.ipOffs)
			dst = appendBytes(dst, base, c.ipBytes)
			continue
		}
		switch col.name {
		case "confidence":
			dst = appendF64s(dst, base, c.confidence)
		case "data_age_seconds":
			dst = appendF64s(dst, base, c.age)
		case "classified_at":
			dst = appendI64s(dst, base, c.classifiedAt)
		case "snapshot_at":
			dst = appendI64s(dst, base, c.snapshotAt)
		case "as_of":
			dst = appendI64s(dst, base, c.asOf)
		case "stale":
			dst = appendBytes(dst, base, c.stale)
		case "history_short":
			dst = appendBytes(dst, base, c.historyShort)
		case "asn":
			dst = appendU32s(dst, base, c.asn)
		case "answer":
			dst = appendU32s(dst, base, c.answer)
		case "key":
			dst = appendI64s(dst, base, c.key)
		}
	}
	return dst, nil
}

// pad8 pads dst with zeros to a multiple of 8 bytes from base.
func pad8(dst []byte, base int) []byte {
	for (len(dst)-base)%8 != 0 {
		dst = append(dst, 0)
	}
	return dst
}

// The buffers: their length in bytes (uint64), their bytes in
// little-endian byte order, padding to 8 bytes from base.

func appendBytes(dst []byte, base int, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(b)))
	return pad8(append(dst, b...), base)
}

// littleEndian is true on a host storing numbers little-endian (amd64,
// arm64, …): its slices of numbers are their buffers, byte for byte.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// appendNumbers appends v's buffer: a copy of its memory on a
// little-endian host, else each number through put (size bytes each).
func appendNumbers[T uint32 | int32 | int64 | float64](dst []byte, base int, v []T, size int, put func([]byte, T) []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(size*len(v)))
	if littleEndian && len(v) > 0 {
		dst = append(dst, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), size*len(v))...)
	} else {
		for _, x := range v {
			dst = put(dst, x)
		}
	}
	return pad8(dst, base)
}

func appendU32s(dst []byte, base int, v []uint32) []byte {
	return appendNumbers(dst, base, v, 4, binary.LittleEndian.AppendUint32)
}

func appendI32s(dst []byte, base int, v []int32) []byte {
	return appendNumbers(dst, base, v, 4, func(b []byte, x int32) []byte { return binary.LittleEndian.AppendUint32(b, uint32(x)) })
}

func appendI64s(dst []byte, base int, v []int64) []byte {
	return appendNumbers(dst, base, v, 8, func(b []byte, x int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(x)) })
}

func appendF64s(dst []byte, base int, v []float64) []byte {
	return appendNumbers(dst, base, v, 8, func(b []byte, x float64) []byte { return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)) })
}
