package snapshot

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A written snapshot reads back as written, under a file name the source
// name maps to; metadata that is missing, torn or unreadable is told apart.
func TestStoreWritesAndReadsBackSnapshots(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	data := []byte("185.220.101.1\n")
	m := Meta{Source: "cloud/aws", URL: "https://example.org/aws.csv", FetchedAt: time.Now().UTC().Truncate(time.Second),
		SHA256: SHA256Hex(data), Bytes: len(data), Entries: 1, Records: 1}
	require.NoError(t, s.Write(m, data))
	assert.FileExists(t, filepath.Join(dir, "snapshots", "cloud__aws.data"))
	got, exists, err := s.ReadMetaFile("cloud/aws")
	require.NoError(t, err)
	require.True(t, exists)
	assert.Equal(t, m.SHA256, got.SHA256)
	assert.True(t, m.FetchedAt.Equal(got.FetchedAt))
	b, err := s.ReadData("cloud/aws")
	require.NoError(t, err)
	assert.Equal(t, data, b)
	assert.False(t, got.Failed())
}

// SHA256Hex is the hex SHA-256 (the FIPS 180-2 test vector).
func TestSHA256HexIsTheHexDigest(t *testing.T) {
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", SHA256Hex([]byte("abc")))
}

// Missing metadata is no snapshot; torn metadata is an error, told apart.
func TestReadMetaFileTellsMissingFromDamaged(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	_, exists, err := s.ReadMetaFile("tor")
	assert.False(t, exists)
	assert.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "snapshots", "tor.meta.json"), []byte(`{"source":`), 0o644))
	_, exists, err = s.ReadMetaFile("tor")
	assert.True(t, exists)
	assert.ErrorContains(t, err, "decode snapshot metadata tor")
	_, err = s.ReadData("tor")
	assert.ErrorContains(t, err, "read snapshot tor")
}

// WriteAtomic replaces a file whole and leaves no temporary file behind.
func TestWriteAtomicReplacesWholeAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.data")
	require.NoError(t, WriteAtomic(p, []byte("old")))
	require.NoError(t, WriteAtomic(p, []byte("new content")))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "new content", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	assert.Error(t, WriteAtomic(filepath.Join(dir, "missing", "x"), []byte("y")), "no directory: an error, nothing written")
}

// Load never panics on any files, and what it returns is whole: bytes that
// hash to the SHA-256 of the metadata returned with them, or nothing and a
// damage, or nothing and metadata that names no data (failed attempts of a
// source never downloaded).
func FuzzLoad(f *testing.F) {
	data := []byte("185.220.101.1\n")
	good := `{"source":"tor","sha256":"` + SHA256Hex(data) + `","bytes":14}`
	f.Add([]byte(good), data, []byte(""), []byte(""))
	f.Add([]byte(good), data[:3], []byte(good), data)
	f.Add([]byte("{torn"), data, []byte(good), data)
	f.Add([]byte(""), []byte(""), []byte(`{"sha256":""}`), []byte(""))
	f.Fuzz(func(t *testing.T, meta, data, prevMeta, prevData []byte) {
		dir := t.TempDir()
		s, err := Open(dir)
		require.NoError(t, err)
		for name, b := range map[string][]byte{"tor.meta.json": meta, "tor.data": data, "tor.prev.meta.json": prevMeta, "tor.prev.data": prevData} {
			if len(b) > 0 {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "snapshots", name), b, 0o644))
			}
		}
		g, found, damage := s.Load("tor", nil)
		if g.Data != nil {
			require.True(t, found)
			require.Equal(t, g.Meta.SHA256, SHA256Hex(g.Data))
			require.Equal(t, g.Previous, damage != nil, "the previous generation exactly when the current is damaged")
			return
		}
		if found && damage == nil {
			require.Empty(t, g.Meta.SHA256, "nothing loaded and no damage: metadata of failed attempts only, naming no data")
			return
		}
		require.Equal(t, found, damage != nil, "nothing loaded: damaged, or never downloaded")
	})
}

// A source whose downloads all failed has metadata recording the attempts
// and no data: that is "never downloaded", not a damaged snapshot.
func TestLoadTellsFailedAttemptsOnlyFromDamage(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	attempt := Meta{Source: "tor", URL: "https://example.org/tor", LastAttemptAt: time.Now().UTC().Truncate(time.Second),
		LastError: "dial tcp: connection refused"}
	require.NoError(t, s.WriteMeta(attempt))
	g, found, damage := s.Load("tor", nil)
	require.True(t, found)
	require.NoError(t, damage)
	assert.Nil(t, g.Data)
	assert.Equal(t, attempt.LastError, g.Meta.LastError)

	// Metadata that names data which is not there is damage.
	named := attempt
	named.SHA256 = SHA256Hex([]byte("185.220.101.1\n"))
	require.NoError(t, s.WriteMeta(named))
	g, found, damage = s.Load("tor", nil)
	require.True(t, found)
	require.ErrorContains(t, damage, "tor.data is missing")
	assert.Nil(t, g.Data)
}
