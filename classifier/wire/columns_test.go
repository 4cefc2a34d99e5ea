package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// testColumn is one column read back by readColumns.
type testColumn struct {
	kind uint8
	bufs [][]byte
}

// readColumns is a reader of the columnar batch written from its format
// comment, checking every length and the 8-byte alignment.
// recordsAndColumns answers text (batch input) both ways at one time:
// the records' lines, and the columns (with evidence) of as many rows.
func recordsAndColumns(t *testing.T, e *classifier.Engine, text string) ([]string, map[string]testColumn) {
	t.Helper()
	now := time.Now()
	recs, _, err := AppendBatch(context.Background(), nil, e, text, now)
	require.NoError(t, err)
	out, _, err := AppendColumns(context.Background(), nil, e, text, now, true)
	require.NoError(t, err)
	rows, cols, _, err := readColumns(out)
	require.NoError(t, err)
	lines := strings.Split(string(recs), "\n")
	require.Equal(t, len(lines), rows)
	return lines, cols
}

func readColumns(b []byte) (rows int, cols map[string]testColumn, order []string, err error) {
	if len(b) < 24 || string(b[:8]) != ColumnsMagic {
		return 0, nil, nil, errors.New("bad header")
	}
	rows, n := int(binary.LittleEndian.Uint64(b[8:])), int(binary.LittleEndian.Uint64(b[16:]))
	pos := 24
	cols = map[string]testColumn{}
	for range n {
		if pos%8 != 0 || pos+8 > len(b) {
			return 0, nil, nil, fmt.Errorf("column header at %d", pos)
		}
		kind, nbuf, nlen := b[pos], int(b[pos+1]), int(binary.LittleEndian.Uint16(b[pos+2:]))
		pos += 8
		name := string(b[pos : pos+nlen])
		pos += (nlen + 7) &^ 7
		c := testColumn{kind: kind}
		for range nbuf {
			size := int(binary.LittleEndian.Uint64(b[pos:]))
			pos += 8
			c.bufs = append(c.bufs, b[pos:pos+size])
			pos += (size + 7) &^ 7
		}
		cols[name] = c
		order = append(order, name)
	}
	if pos != len(b) {
		return 0, nil, nil, fmt.Errorf("%d bytes after the last column", len(b)-pos)
	}
	return rows, cols, order, nil
}

// cell renders the value of column name at row as the record's text of
// that field would read (times as Unix microseconds).
func (c testColumn) cell(t *testing.T, row int) string {
	u32 := func(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[4*i:]) }
	u64 := func(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	switch c.kind {
	case KindCode:
		code := int(u32(c.bufs[0], row))
		require.Less(t, code, len(c.bufs[1])/4-1)
		return string(c.bufs[2][u32(c.bufs[1], code):u32(c.bufs[1], code+1)])
	case KindStr:
		return string(c.bufs[1][u32(c.bufs[0], row):u32(c.bufs[0], row+1)])
	case KindU32:
		return strconv.FormatUint(uint64(u32(c.bufs[0], row)), 10)
	case KindF64:
		return strconv.FormatFloat(math.Float64frombits(u64(c.bufs[0], row)), 'g', -1, 64)
	case KindI64:
		return strconv.FormatInt(int64(u64(c.bufs[0], row)), 10)
	case KindBool:
		return strconv.Itoa(int(c.bufs[0][row]))
	}
	t.Fatalf("kind %d", c.kind)
	return ""
}

// The columns hold, row by row, what the records of the same batch say;
// rows with the same answer but for ip share an answer number, numbered
// in order of first appearance.
func TestColumnsHoldWhatTheRecordsSay(t *testing.T) {
	e, err := classifier.Open(classifier.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	defer e.Close()
	text := "192.0.2.1\nnot-an-ip\n2001:db8::1\t64496\tSOME-NET\n10.0.0.1\tAS1\n192.0.2.2\n\n::ffff:192.0.2.3\n"
	now := time.Now()
	recs, partial, err := AppendBatch(context.Background(), nil, e, text, now)
	require.NoError(t, err)
	require.True(t, partial)
	out, partial, err := AppendColumns(context.Background(), []byte("keep"), e, text, now, true)
	require.NoError(t, err)
	require.True(t, partial)
	require.Equal(t, "keep", string(out[:4]), "appended to dst")
	rows, cols, order, err := readColumns(out[4:])
	require.NoError(t, err)
	require.Equal(t, ColumnNames(), order)
	lines := strings.Split(string(recs), "\n")
	require.Equal(t, len(lines), rows)
	var answers []string
	for i, line := range lines {
		if f := strings.Split(line, "\t"); f[1] == ErrorMark {
			assert.Equal(t, f[0], cols["ip"].cell(t, i))
			assert.Equal(t, f[2], cols["error"].cell(t, i))
			assert.Equal(t, "", cols["ip_type"].cell(t, i))
			answers = append(answers, cols["answer"].cell(t, i))
			continue
		}
		r, err := ParseRecord(line)
		require.NoError(t, err)
		assert.Equal(t, "", cols["error"].cell(t, i))
		for name, want := range map[string]string{
			"ip": r.IP, "ip_type": string(r.Type), "provider": r.Provider, "source": r.Source,
			"confidence": strconv.FormatFloat(r.Confidence, 'g', -1, 64), "asn": strconv.FormatUint(uint64(r.ASN), 10),
			"as_name": r.ASName, "asn_source": r.ASNSource, "data_age_seconds": "NaN", "snapshot_at": "0",
			"stale": "0",
		} {
			assert.Equal(t, want, cols[name].cell(t, i), "%s of %q", name, line)
		}
		at, err := strconv.ParseInt(cols["classified_at"].cell(t, i), 10, 64)
		require.NoError(t, err)
		assert.WithinDuration(t, r.ClassifiedAt, time.UnixMicro(at), time.Minute, "two calls: two times")
		answers = append(answers, cols["answer"].cell(t, i))
	}
	// 192.0.2.1, 192.0.2.2 and ::ffff:192.0.2.3 (answered as 192.0.2.3) are the same unknown answer
	assert.Equal(t, []string{"0", "1", "2", "3", "0", "4", "0"}, answers)
	assert.Equal(t, "192.0.2.3", cols["ip"].cell(t, 6))
	assert.Equal(t, `invalid asn "AS1"`, cols["error"].cell(t, 3))

	out, partial, err = AppendColumns(context.Background(), nil, e, "", now, true)
	require.NoError(t, err)
	assert.False(t, partial)
	rows, _, _, err = readColumns(out)
	require.NoError(t, err)
	assert.Zero(t, rows)
	require.NoError(t, e.Close())
	_, _, err = AppendColumns(context.Background(), nil, e, "192.0.2.1", now, true)
	assert.ErrorIs(t, err, classifier.ErrClosed)
}

// The interning: a string table holds each string once whatever its
// origin (two copies of one text share a code), and code 0 is "".
func TestDictInternsByText(t *testing.T) {
	d := newDict()
	a := "provider"
	b := strings.Clone(a)
	assert.Equal(t, uint32(0), d.code(""))
	assert.Equal(t, uint32(1), d.code(a))
	assert.Equal(t, uint32(1), d.code(b))
	assert.Equal(t, uint32(2), d.code("other"))
	assert.Equal(t, uint32(1), d.code(a))
	assert.Equal(t, []int32{0, 0, 8, 13}, d.offs)
	assert.Equal(t, "providerother", string(d.bytes))
}

// A buffer of numbers is little-endian on any host: the copy of a
// little-endian host's memory and the number-by-number path of another
// write the same bytes.
func TestNumberBuffersAreLittleEndianOnAnyHost(t *testing.T) {
	want := "" +
		"\x08\x00\x00\x00\x00\x00\x00\x00" + "\x01\x00\x00\x00\xff\xff\xff\xff" + // uint32 1, 0xffffffff
		"\x04\x00\x00\x00\x00\x00\x00\x00" + "\xfe\xff\xff\xff\x00\x00\x00\x00" + // int32 -2, padded
		"\x08\x00\x00\x00\x00\x00\x00\x00" + "\x00\x01\x00\x00\x00\x00\x00\x80" + // int64 math.MinInt64+256
		"\x08\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\xf0\x3f" + // float64 1.0
		"\x00\x00\x00\x00\x00\x00\x00\x00" // no uint32
	write := func() string {
		var b []byte
		b = appendU32s(b, 0, []uint32{1, math.MaxUint32})
		b = appendI32s(b, 0, []int32{-2})
		b = appendI64s(b, 0, []int64{math.MinInt64 + 256})
		b = appendF64s(b, 0, []float64{1})
		b = appendU32s(b, 0, nil)
		return string(b)
	}
	host := littleEndian
	t.Cleanup(func() { littleEndian = host })
	for _, little := range []bool{true, false} {
		if little && !host {
			continue // a big-endian host cannot copy its memory
		}
		littleEndian = little
		assert.Equal(t, want, write(), "copying memory: %v", little)
	}
}

// AppendColumns never panics on any batch text and always writes a block
// the reader accepts, one row per line, every code within its table.
func FuzzAppendColumns(f *testing.F) {
	for _, s := range []string{"", "\n", "192.0.2.1\n::1\t5\tNAME\n", "x\t99999999999", "\t\t\t", "1.2.3.4\t0\t\xff\xfe"} {
		f.Add(s)
	}
	e, err := classifier.Open(classifier.Config{DataDir: f.TempDir()})
	require.NoError(f, err)
	f.Cleanup(func() { _ = e.Close() })
	f.Fuzz(func(t *testing.T, text string) {
		out, _, err := AppendColumns(context.Background(), nil, e, text, time.Now(), len(text)%2 == 0)
		require.NoError(t, err)
		rows, cols, _, err := readColumns(out)
		require.NoError(t, err)
		require.Equal(t, len(readBatch(text).inputs), rows)
		for name, c := range cols {
			for i := range rows {
				v := c.cell(t, i)
				if name == "ip" || name == "error" {
					require.NotContains(t, v, "\t", name)
				}
			}
		}
	})
}

// The tags column holds each answer's tags joined by ',' as the record's
// tags field does; answers without tags hold "".
func TestColumnsCarryTheTags(t *testing.T) {
	e := fixture.Loaded(t)
	text := "185.220.101.1\n62.224.10.20\n192.0.2.1\n185.220.101.1\n"
	lines, cols := recordsAndColumns(t, e, text)
	var got, want []string
	for i, line := range lines {
		r, err := ParseRecord(line)
		require.NoError(t, err)
		want = append(want, strings.Join(r.Tags, ","))
		got = append(got, cols["tags"].cell(t, i))
	}
	assert.Equal(t, want, got)
	assert.Contains(t, got[0], classifier.TagTorExit)
	assert.Equal(t, "scanner:example-uni", got[1])
	assert.Equal(t, "", got[2])
	assert.Equal(t, got[0], got[3])
}

// The evidence, as_of and history_short columns hold what the record's
// fields say, so the columns carry every field of the record: evidence as
// the record's text of it (rows from one prefix share the code), as_of as
// microseconds (0 for an answer as of now).
func TestColumnsCarryEvidenceAndAsOf(t *testing.T) {
	e := fixture.Loaded(t)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	text := "185.220.101.1\n62.224.10.20\n192.0.2.1\n185.220.101.1\n185.220.101.1\t\t\t" + at.Format(time.RFC3339Nano) + "\n"
	lines, cols := recordsAndColumns(t, e, text)
	evField, asOfField, shortField := 19, 20, 21
	require.Equal(t, []string{"evidence", "as_of", "history_short"}, fields[evField:shortField+1])
	for i, line := range lines {
		f := strings.Split(line, "\t")
		assert.Equal(t, f[evField], cols["evidence"].cell(t, i), "evidence of %s", f[0])
		assert.Equal(t, f[shortField], cols["history_short"].cell(t, i), "history_short of %s", f[0])
		wantAsOf := "0"
		if f[asOfField] != "" {
			asOf, err := time.Parse(time.RFC3339Nano, f[asOfField])
			require.NoError(t, err)
			wantAsOf = strconv.FormatInt(asOf.UnixMicro(), 10)
		}
		assert.Equal(t, wantAsOf, cols["as_of"].cell(t, i), "as_of of %s", f[0])
	}
	assert.Contains(t, cols["evidence"].cell(t, 0), "tor_bulk_list\x1f")
	assert.Equal(t, "", cols["evidence"].cell(t, 2), "no source matched 192.0.2.1")
	assert.Equal(t, cols["evidence"].cell(t, 0), cols["evidence"].cell(t, 3))
	assert.Equal(t, strconv.FormatInt(at.UnixMicro(), 10), cols["as_of"].cell(t, 4))
	assert.NotEqual(t, cols["answer"].cell(t, 0), cols["answer"].cell(t, 4), "an answer as of another time is another answer")
}

// appendClean makes every separator of the record a space (',' only in a
// tag), wherever it stands, and copies other text as it is.
func TestAppendCleanReplacesEverySeparator(t *testing.T) {
	for _, tc := range []struct {
		in    string
		comma bool
		want  string
	}{
		{"", false, ""},
		{"AMAZON-02", false, "AMAZON-02"},
		{"a,b", false, "a,b"},
		{"a,b", true, "a b"},
		{"\tlead", false, " lead"},
		{"trail\n", false, "trail "},
		{"mid\rdle", false, "mid dle"},
		{"x\x1ey\x1fz", false, "x y z"},
		{"ok, then\tbad,", true, "ok  then bad "},
		{"ok, then\tbad,", false, "ok, then bad,"},
		{"\x01\x1d\u00e9", false, "\x01\x1d\u00e9"}, // other control bytes and UTF-8 stay
	} {
		assert.Equal(t, "pre:"+tc.want, string(appendClean([]byte("pre:"), tc.in, tc.comma)), "%q comma=%v", tc.in, tc.comma)
	}
}

// Builders are reused between batches: every batch reads as its own,
// whatever the batch before it held (codes, tables and answer numbers
// start over).
func TestColumnsOfBatchesInSequence(t *testing.T) {
	e := fixture.Loaded(t)
	batches := []string{
		"185.220.101.1\n62.224.10.20\n3.5.140.9\n",
		"192.0.2.1\n3.5.140.9\nnot-an-ip\n185.220.101.1\n",
		"62.224.10.20\n",
	}
	for round := range 2 {
		for _, text := range batches {
			lines, cols := recordsAndColumns(t, e, text)
			seen := map[string]string{}
			values := map[string]map[string]bool{} // the distinct texts of each column checked
			for i, line := range lines {
				f := strings.Split(line, "\t")
				seen[cols["answer"].cell(t, i)] = f[0]
				if f[1] == ErrorMark {
					assert.Equal(t, f[2], cols["error"].cell(t, i))
					continue
				}
				for name, k := range map[string]int{"ip_type": 1, "provider": 2, "matched_prefix": 8, "as_name": 14, "tags": 18, "evidence": 19} {
					assert.Equal(t, f[k], cols[name].cell(t, i), "round %d, %s of %s", round, name, f[0])
					if values[name] == nil {
						values[name] = map[string]bool{"": true}
					}
					values[name][f[k]] = true
				}
			}
			for name, texts := range values {
				assert.Len(t, texts, len(cols[name].bufs[1])/4-1, "round %d: the %s table holds this batch's texts only", round, name)
			}
			assert.Len(t, seen, len(lines), "every row a distinct answer, numbered from 0: %v", seen)
			_, ok := seen[strconv.Itoa(len(lines)-1)]
			assert.True(t, ok, "numbers 0..%d", len(lines)-1)
		}
	}
}

// Without evidence asked for, the block is the same but for the evidence
// column, which it leaves out.
func TestColumnsWithoutEvidence(t *testing.T) {
	e := fixture.Loaded(t)
	text := "185.220.101.1\n62.224.10.20\nnot-an-ip\n3.5.140.9\n185.220.101.1\n"
	now := time.Now()
	with, _, err := AppendColumns(context.Background(), nil, e, text, now, true)
	require.NoError(t, err)
	without, _, err := AppendColumns(context.Background(), nil, e, text, now, false)
	require.NoError(t, err)
	rows, all, _, err := readColumns(with)
	require.NoError(t, err)
	rows2, cols, order, err := readColumns(without)
	require.NoError(t, err)
	require.Equal(t, rows, rows2)
	var want []string
	for _, name := range ColumnNames() {
		if name != "evidence" {
			want = append(want, name)
		}
	}
	assert.Equal(t, want, order)
	for _, name := range want {
		for i := range rows {
			if name != "classified_at" { // two calls: two times
				assert.Equal(t, all[name].cell(t, i), cols[name].cell(t, i), "%s of row %d", name, i)
			}
		}
	}
	assert.NotEqual(t, "", all["evidence"].cell(t, 0))
}

// TestColumnsCarryTheKeyOfEachAnswer checks the key column: each row's
// key is its answer's Result.Key (zero for an input that failed), and rows of one nonzero key are equal in every
// column but ip (a batch is answered from one view at one time).
func TestColumnsCarryTheKeyOfEachAnswer(t *testing.T) {
	e := fixture.Loaded(t)
	ctx := context.Background()
	in := "3.5.141.7\n3.5.141.8\n185.220.101.34\nnot-an-ip\n3.5.141.9\t64500\n3.5.141.10\n198.51.100.7\n"
	out, partial, err := AppendColumns(ctx, nil, e, in, time.Now(), true)
	require.NoError(t, err)
	require.True(t, partial)
	rows, cols, _, err := readColumns(out)
	require.NoError(t, err)
	require.Equal(t, 7, rows)
	key := func(row int) string { return cols["key"].cell(t, row) }
	for i, ip := range []string{"3.5.141.7", "3.5.141.8", "185.220.101.34"} {
		r, err := e.Classify(ctx, ip, 0, "")
		require.NoError(t, err)
		require.NotZero(t, r.Key())
		require.Equal(t, strconv.FormatUint(r.Key(), 10), key(i), ip)
	}
	require.Equal(t, "0", key(3), "an input that failed has no key")
	require.NotEqual(t, "0", key(4), "an answer to caller data has a key")
	require.NotEqual(t, key(0), key(4), "of its own: its network part is the caller's")
	require.Equal(t, key(0), key(1), "one range, one key")
	require.Equal(t, key(0), key(5))
	require.NotEqual(t, key(0), key(2))
	for name, col := range cols {
		if name != "ip" {
			require.Equal(t, col.cell(t, 0), col.cell(t, 5), "column %s: rows of one key", name)
		}
	}
	require.NotEqual(t, cols["ip"].cell(t, 0), cols["ip"].cell(t, 5))
}

// A batch is split into pieces of whole lines, in order, of about equal
// size, each of minRun lines or more: read piece by piece, they are the
// lines of the batch.
func TestSplitTextCutsABatchIntoPiecesOfWholeLines(t *testing.T) {
	lines := func(n int) string {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "192.0.2.%d\n", 100+i%100) // lines of one length
		}
		return sb.String()
	}
	big := lines(5 * minRun)
	tests := []struct {
		name    string
		text    string
		workers int
		want    []int // lines per piece
	}{
		{"empty batch: one empty piece", "", 4, []int{0}},
		{"small batch: one piece", lines(10), 4, []int{10}},
		{"one worker: one piece", lines(3 * minRun), 1, []int{3 * minRun}},
		{"pieces of at least minRun lines", lines(3 * minRun), 8, []int{minRun, minRun, minRun}},
		{"about equal pieces", big, 2, []int{5 * minRun / 2, 5 * minRun / 2}},
		{"at most maxRuns", lines(100 * minRun), 64, slices.Repeat([]int{100 * minRun / maxRuns}, maxRuns)},
		{"no last newline", strings.TrimSuffix(big, "\n"), 2, []int{5 * minRun / 2, 5 * minRun / 2}},
		{"empty lines are lines", strings.Repeat("\n", 2*minRun+1), 2, []int{minRun, minRun + 1}},
		{"one long line: one piece", strings.Repeat("x", 3*minRun) + "\n" + strings.Repeat("\n", 2*minRun), 2, []int{1, 2 * minRun}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pieces := splitText(tt.text, tt.workers)
			assert.Equal(t, tt.text, strings.Join(pieces, ""), "the pieces are the text")
			var got []int
			inputs := []string{}
			for i, p := range pieces {
				if i < len(pieces)-1 {
					assert.True(t, strings.HasSuffix(p, "\n"), "piece %d ends its last line", i)
				}
				b := readBatch(p)
				got, inputs = append(got, len(b.inputs)), append(inputs, b.inputs...)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, readBatch(tt.text).inputs, inputs, "read piece by piece: the lines of the batch")
		})
	}
}

// A batch big enough to split is answered in runs on several goroutines,
// and its block is the block of one run, byte for byte: every string
// coded and every answer numbered in order of first appearance over the
// whole batch, failed lines and the caller's data included.
func TestColumnsOfABatchInRunsAreThoseOfOneRun(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.Now = func() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) }
	e := fixture.Open(t, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	known := []string{"102.130.113.9", "13.34.5.9", "13.34.200.1", "2600:1900:8000::1", "185.220.101.1", "9.9.9.9\t7922\tCOMCAST-7922"}
	rng := rand.New(rand.NewPCG(7, 7))
	var sb strings.Builder
	for range 5*minRun + 123 {
		switch k := rng.IntN(20); {
		case k < 8:
			sb.WriteString(known[rng.IntN(len(known))])
		case k == 8:
			sb.WriteString("not-an-ip")
		case k == 9:
			sb.WriteString("192.0.2.1\tAS1") // a line that is no query
		case k == 10:
			fmt.Fprintf(&sb, "10.%d.0.1\t%d\tNET-%d", rng.IntN(4), 64496+rng.IntN(3), rng.IntN(3))
		default:
			fmt.Fprintf(&sb, "%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), rng.IntN(256))
		}
		sb.WriteByte('\n')
	}
	text := sb.String()
	require.Len(t, splitText(text, 4), 4)
	now := cfg.Now()
	for _, evidence := range []bool{false, true} {
		one, partial1, err := appendColumns(context.Background(), nil, e, text, now, evidence, 1)
		require.NoError(t, err)
		runs, partial4, err := appendColumns(context.Background(), nil, e, text, now, evidence, 4)
		require.NoError(t, err)
		assert.True(t, partial1)
		assert.Equal(t, partial1, partial4)
		require.True(t, bytes.Equal(one, runs), "evidence %v: the blocks differ", evidence)
		rows, cols, _, err := readColumns(runs)
		require.NoError(t, err)
		assert.Equal(t, strings.Count(text, "\n"), rows)
		for _, name := range []string{"provider", "matched_prefix", "as_name", "error"} {
			offs, data := cols[name].bufs[1], cols[name].bufs[2]
			seen := map[string]bool{}
			for k := 1; k < len(offs)/4-1; k++ {
				s := string(data[binary.LittleEndian.Uint32(offs[4*k:]):binary.LittleEndian.Uint32(offs[4*k+4:])])
				assert.False(t, seen[s], "%s: %q twice in the table", name, s)
				seen[s] = true
			}
			assert.Greater(t, len(seen), 1, "%s: strings from every run", name)
		}
	}
}
