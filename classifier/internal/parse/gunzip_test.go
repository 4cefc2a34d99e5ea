package parse

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gz(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// withTrailerSize rewrites the uncompressed size a gzip stream announces
// (its CRC no longer matters: the bound is hit first, or the size is right).
func withTrailerSize(b []byte, n uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], n)
	return b
}

func TestGunzipLimitRefusesWhatExpandsPastTheLimit(t *testing.T) {
	rows := strings.Repeat("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n", 10_000) // 440 kB
	for _, tc := range []struct {
		name  string
		data  []byte
		limit int64
		want  string // "" = refused
	}{
		{"plain text passes as it is", []byte(rows), 10, rows},
		{"fits", gz(t, rows), int64(len(rows)), rows},
		{"one byte over", gz(t, rows), int64(len(rows)) - 1, ""},
		{"a trailer announcing less: still bounded", withTrailerSize(gz(t, rows), 10), 1000, ""},
		{"a trailer announcing more than the limit: counted, then refused", withTrailerSize(gz(t, rows), 1<<31), 1000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := GunzipLimit(tc.data, tc.limit)
			if tc.want == "" {
				require.ErrorIs(t, err, ErrTooLarge)
				assert.Contains(t, err.Error(), "gunzip: content larger than the limit of")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}
}

// GunzipLimit never panics and never returns more than the limit: gzip
// content whole, plain data as it is, or an error.
func FuzzGunzipLimit(f *testing.F) {
	rows := strings.Repeat("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n", 100)
	f.Add(gz(&testing.T{}, rows), int64(len(rows)))
	f.Add(gz(&testing.T{}, rows), int64(100))
	f.Add(withTrailerSize(gz(&testing.T{}, rows), 1<<31), int64(1000))
	f.Add([]byte{0x1f, 0x8b, 0, 0}, int64(10))
	f.Add([]byte("185.220.101.1\n"), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, limit int64) {
		if limit < 0 || limit > 1<<20 {
			return
		}
		b, err := GunzipLimit(data, limit)
		if err != nil {
			return
		}
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			require.LessOrEqual(t, int64(len(b)), limit)
			return
		}
		require.Equal(t, data, b, "plain data passes as it is")
	})
}

// Found by FuzzGunzipLimit: the gzip magic alone made the trailer read
// index before the start of the data. A stream cut anywhere is an error,
// never its first part.
func TestGunzipLimitTooShortOrTruncatedIsAnError(t *testing.T) {
	whole := gz(t, strings.Repeat("185.220.101.1\n", 1000))
	for _, b := range [][]byte{{0x1f, 0x8b}, {0x1f, 0x8b, 8}, {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, whole[:len(whole)/2], whole[:len(whole)-4]} {
		_, err := GunzipLimit(b, 4142)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "gunzip: ")
	}
}
