// Package bounded reads untrusted streams (download bodies, gzip content)
// into memory without letting them take more than a limit.
package bounded

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is wrapped by the error of a stream longer than its limit.
var ErrTooLarge = errors.New("larger than the limit")

// maxChunk bounds one chunk of a stream of unknown length.
const maxChunk = 4 << 20

// Read reads r to its end, refusing more than limit bytes with an error
// wrapping ErrTooLarge. size is the length r announces, -1 when unknown:
// one larger than limit is refused before reading, and a right one sizes
// the buffer once (a wrong one costs a regrowth). A stream of unknown length
// is read in chunks (64 KiB doubling up to 4 MiB) joined at the end, so a
// refused stream holds at most limit+1 bytes and leaves no garbage of
// regrown buffers; an accepted one briefly holds twice its length.
func Read(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%w of %d bytes (%d announced)", ErrTooLarge, limit, size)
	}
	if size >= 0 {
		return readSized(r, size, limit)
	}
	var chunks [][]byte
	var total int64
	next := int64(64 << 10)
	for eof := false; !eof; next = min(2*next, maxChunk) {
		c := make([]byte, min(next, limit+1-total))
		n, err := fill(r, c)
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, c[:n])
		}
		if total > limit {
			return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)
		}
		if err != nil && err != io.EOF {
			return nil, err // a truncated gzip stream's io.ErrUnexpectedEOF included
		}
		eof = err == io.EOF
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// fill reads into c until it is full or r ends (io.EOF) or fails; unlike
// io.ReadFull it passes r's own errors through unchanged.
func fill(r io.Reader, c []byte) (int, error) {
	n := 0
	for n < len(c) {
		m, err := r.Read(c[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readSized reads a stream announced as size bytes into one buffer of that
// size (plus one byte, to see the end), growing it only if the stream is
// longer than announced, never past limit+1 bytes.
func readSized(r io.Reader, size, limit int64) ([]byte, error) {
	buf := make([]byte, 0, min(size+1, limit+1))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)
			}
			grown := make([]byte, len(buf), min(int64(2*cap(buf)), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > limit {
				return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Count reads r to its end or one byte past limit, keeping nothing, and
// returns how many bytes it read (limit+1 means: longer than limit).
func Count(r io.Reader, limit int64) (int64, error) {
	return io.Copy(io.Discard, io.LimitReader(r, limit+1))
}
