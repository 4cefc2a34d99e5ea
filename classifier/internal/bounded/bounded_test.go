package bounded

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Read takes what fits and refuses the rest, whatever the announced size
// says.
func TestReadBoundsWhateverTheAnnouncedSize(t *testing.T) {
	long := strings.Repeat("1.2.3.4\n", 100_000) // 800 kB: several chunks
	for _, tc := range []struct {
		name        string
		body        string
		size, limit int64
		err         bool
	}{
		{"unknown size, fits", "abcdef", -1, 6, false},
		{"unknown size, one byte over", "abcdefg", -1, 6, true},
		{"unknown size, many chunks, fits", long, -1, int64(len(long)), false},
		{"unknown size, many chunks, one byte over", long, -1, int64(len(long)) - 1, true},
		{"announced and right", "abc", 3, 6, false},
		{"announced too small: the rest is still read, up to the limit", "abcdef", 2, 6, false},
		{"announced too small and over the limit", "abcdefgh", 2, 6, true},
		{"announced over the limit", "abc", 7, 6, true},
		{"announced too large: what comes is taken", "abc", 5, 6, false},
		{"empty", "", -1, 6, false},
		{"empty, announced", "", 0, 6, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Read(strings.NewReader(tc.body), tc.size, tc.limit)
			if tc.err {
				require.ErrorIs(t, err, ErrTooLarge)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(b))
		})
	}
}

// A stream that fails is an error, not the part read before: a truncated
// gzip stream ends with io.ErrUnexpectedEOF, which must not pass for its end.
func TestReadPassesTheStreamsErrorsOn(t *testing.T) {
	for _, size := range []int64{-1, 3, 100} {
		_, err := Read(io.MultiReader(strings.NewReader("abc"), failing{io.ErrUnexpectedEOF}), size, 1000)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "size %d", size)
	}
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

// Count stops one byte past the limit.
func TestCountStopsPastTheLimit(t *testing.T) {
	n, err := Count(io.LimitReader(zeros{}, 1<<40), 1000)
	require.NoError(t, err)
	assert.Equal(t, int64(1001), n)
	n, err = Count(strings.NewReader("abc"), 1000)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Read never returns more than limit bytes, returns the stream whole when
// it fits, and refuses it otherwise, for any stream, announced size, limit
// and read pattern.
func FuzzRead(f *testing.F) {
	f.Add([]byte("185.220.101.1\n"), int64(-1), int64(64), uint8(0))
	f.Add([]byte("abc"), int64(2), int64(3), uint8(1))
	f.Add(bytes.Repeat([]byte("x"), 70_000), int64(-1), int64(69_999), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, size, limit int64, step uint8) {
		if limit < 0 || limit > 1<<20 || size < -1 {
			return
		}
		var r io.Reader = bytes.NewReader(data)
		if step > 0 {
			r = &stepReader{data: data, step: int(step)}
		}
		b, err := Read(r, size, limit)
		fits := int64(len(data)) <= limit && size <= limit
		if !fits {
			require.ErrorIs(t, err, ErrTooLarge)
			return
		}
		require.NoError(t, err)
		require.Equal(t, data, b, "the stream whole")
	})
}

// stepReader hands out at most step bytes a call.
type stepReader struct {
	data []byte
	step int
}

func (s *stepReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), s.step)], s.data)
	s.data = s.data[n:]
	return n, nil
}
