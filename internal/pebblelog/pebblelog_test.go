package pebblelog

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble"
)

// TestLevels: Pebble's routine lines (the WAL replay at every start, flushes)
// are debug, what an operator must see is warn or error.
func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ev := EventListener(l)
	Logger(l).Infof("[JOB 1] WAL %s stopped reading at offset: %d", "000002.log", 0)
	ev.FlushEnd(pebble.FlushInfo{})
	ev.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "memtable count limit reached"})
	ev.BackgroundError(errors.New("disk full"))
	want := []struct{ level, msg string }{
		{"DEBUG", "pebble: [JOB 1] WAL 000002.log stopped reading at offset: 0"},
		{"DEBUG", "pebble flush"},
		{"WARN", "pebble write stall"},
		{"ERROR", "pebble background error"},
	}
	dec := json.NewDecoder(&buf)
	for i, w := range want {
		var line struct{ Level, Msg string }
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if line.Level != w.level || line.Msg != w.msg {
			t.Errorf("line %d: %s %q, want %s %q", i, line.Level, line.Msg, w.level, w.msg)
		}
	}
	if dec.More() {
		t.Error("more lines than events")
	}
}
