package wire

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// The C exports Classify and ClassifyBatch (capi, package main: its tests
// cannot use cgo) only check their arguments and call engine.Classify with
// AppendRecord, or AppendBatch into the caller's buffer. These targets fuzz
// that path with random inputs and caller buffer sizes over an engine
// loaded with the fixture lists (one per target, not per input).

// Classify answers every valid address with a record ParseRecord reads back
// as the same address and type, refuses the rest with ErrInvalidIP, and the
// record fits a caller buffer exactly when its length says so.
func FuzzClassifyExport(f *testing.F) {
	for _, s := range []struct {
		ip, name string
		asn      uint32
		outCap   uint16
	}{
		{"185.220.101.1", "", 0, 512}, {"13.34.5.9", "", 0, 10}, {"81.2.69.142", "Deutsche Telekom AG", 3320, 4096},
		{"2a01:4f8::1", "Hetzner\tOnline\n", 24940, 0}, {"::ffff:8.34.208.1", "", 0, 300}, {"1.2.3.4%eth0", "", 0, 64},
		{"not an ip", "\x00\xff", 1 << 31, 1}, {"", "", 0, 0},
	} {
		f.Add(s.ip, s.asn, s.name, s.outCap)
	}
	e := fixture.Loaded(f)
	f.Fuzz(func(t *testing.T, ip string, asn uint32, name string, outCap uint16) {
		r, err := e.Classify(context.Background(), ip, asn, name)
		if err != nil {
			require.True(t, errors.Is(err, classifier.ErrInvalidIP), "%q: %v", ip, err)
			require.Contains(t, err.Error(), "invalid IP address")
			return
		}
		// What writeOut does: the record fits outCap bytes or the caller is
		// told the size needed.
		out := make([]byte, 0, outCap)
		rec := AppendRecord(out, r, r.ClassifiedAt)
		require.Equal(t, len(rec) <= int(outCap), len(rec) <= cap(out) && (len(rec) == 0 || &rec[0] == &out[:1][0]),
			"a record that fits is written in the caller's buffer")
		require.NotContains(t, string(rec), "\n")
		back, err := ParseRecord(string(rec))
		require.NoError(t, err, "%q", rec)
		require.Equal(t, r.IP, back.IP)
		require.Equal(t, r.Type, back.Type)
		require.Equal(t, r.ASN, back.ASN)
	})
}

// ClassifyBatch writes one record per input line into the caller's buffer
// when they fit, else reports the size needed; the records are the same
// whatever the buffer's size.
func FuzzClassifyBatchExport(f *testing.F) {
	for _, s := range []struct {
		in     string
		outCap uint16
	}{
		{"185.220.101.1\n13.34.5.9\t16509\tAMAZON-02\n", 4096}, {"not-an-ip\n\n::1\t99999999999\n", 10},
		{"81.2.69.142\t3320\tDeutsche Telekom AG", 0}, {"", 0}, {"\n", 64}, {"1.2.3.4\t\t\t\t\n", 512},
	} {
		f.Add(s.in, s.outCap)
	}
	now := time.Now()
	e := fixture.Loaded(f)
	f.Fuzz(func(t *testing.T, in string, outCap uint16) {
		want, wantPartial, err := AppendBatch(context.Background(), nil, e, in, now)
		require.NoError(t, err)
		lines := 0
		if in != "" {
			lines = strings.Count(strings.TrimSuffix(in, "\n"), "\n") + 1
		}
		if lines > 0 {
			require.Equal(t, lines, bytes.Count(want, []byte{'\n'})+1, "one record per line")
		} else {
			require.Empty(t, want)
		}
		buf := make([]byte, outCap)
		got, partial, err := AppendBatch(context.Background(), buf[:0], e, in, now)
		require.NoError(t, err)
		require.Equal(t, wantPartial, partial)
		if len(got) > int(outCap) {
			return // BUFFER_TOO_SMALL: the size needed is len(got)
		}
		require.Equal(t, withoutTimes(want), withoutTimes(buf[:len(got)]), "written in the caller's buffer")
	})
}

// withoutTimes blanks the classified_at field of every record (two calls
// classify at two instants).
func withoutTimes(out []byte) string {
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) == len(fields) {
			f[7] = ""
		}
		lines[i] = strings.Join(f, "\t")
	}
	return strings.Join(lines, "\n")
}
