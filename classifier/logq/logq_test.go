package logq

import (
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Records arrive in order with their level, message and attributes
// (groups flattened to dotted keys, values JSON can hold); records below
// the level are not queued.
func TestQueueKeepsRecordsInOrderWithTheirAttributes(t *testing.T) {
	q := New(10)
	log := slog.New(q.Handler())
	log.Debug("not queued at the default level")
	log.With("tier", "L2").WithGroup("op").Warn("cache tier unavailable", "name", "get", "err", errors.New("dial tcp: refused"),
		"retry", 5*time.Second, "n", 3, slog.Group("g", "ok", true))
	log.Info("cache tier back")
	recs, dropped := q.Drain()
	require.Len(t, recs, 2)
	assert.Zero(t, dropped)
	assert.Equal(t, "WARN", recs[0].Level)
	assert.Equal(t, int(slog.LevelWarn), recs[0].LevelN)
	assert.Equal(t, "cache tier unavailable", recs[0].Message)
	assert.Equal(t, map[string]any{"tier": "L2", "op.name": "get", "op.err": "dial tcp: refused", "op.retry": "5s",
		"op.n": int64(3), "op.g.ok": true}, recs[0].Attrs)
	assert.Equal(t, "cache tier back", recs[1].Message)
	assert.Nil(t, recs[1].Attrs)
	recs, _ = q.Drain()
	assert.Empty(t, recs, "drained")

	q.SetLevel(slog.LevelDebug)
	log.Debug("now queued")
	recs, _ = q.Drain()
	require.Len(t, recs, 1)
	assert.Equal(t, "DEBUG", recs[0].Level)
}

// A full queue drops the newest records and counts them; the count is
// reported once, by the next Drain.
func TestFullQueueCountsWhatItDrops(t *testing.T) {
	q := New(2)
	log := slog.New(q.Handler())
	for i := range 5 {
		log.Warn("flood", "i", i)
	}
	b, err := q.AppendDrain(nil)
	require.NoError(t, err)
	var got struct {
		Records []Record
		Dropped int64
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.Len(t, got.Records, 2)
	assert.Equal(t, float64(0), got.Records[0].Attrs["i"])
	assert.Equal(t, float64(1), got.Records[1].Attrs["i"])
	assert.Equal(t, int64(3), got.Dropped)
	b, err = q.AppendDrain(nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"records":[],"dropped":0}`, string(b))
}
