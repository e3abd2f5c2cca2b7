package processor

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

// Every completion is logged at debug with the journey, the progress
// document's id (not the learner's address), the attempt and its time; one a
// recalculation finds in history is marked history=true. At info there is
// no line per completion.
func TestCompletionLogLines(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var buf bytes.Buffer
	e := NewEngine(st, Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	org := oid(1)
	c := oneWaypointJourney(t, org)
	const mbox = "mailto:learner@example.com"

	// History: everything stored before the quiet point is quiet.
	e.SetJourney(c, time.Now().Add(time.Hour).UnixMilli())
	if _, err := e.Statement(completedBy(t, org, mbox)); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}
	// Live: a second owner.
	e.SetJourney(c, 0)
	before := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := e.Statement(completedBy(t, org, "mailto:other@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if m["msg"] == "journey completed" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d completion lines, want 2:\n%s", len(lines), buf.String())
	}
	hist, live := lines[0], lines[1]
	if hist["level"] != "DEBUG" || hist["history"] != true {
		t.Errorf("history completion logged as %v", hist)
	}
	owner, err := journey.OwnerKeyFromIdent(journey.TrackByActor, map[string]any{"mbox": "mailto:other@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if live["level"] != "DEBUG" || live["journey"] != c.ID.Hex() || live["attempt"] != float64(1) || live["history"] != nil {
		t.Errorf("live completion line %v", live)
	}
	at, err := time.Parse(time.RFC3339Nano, live["completedAt"].(string))
	if err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("completedAt %v (%v), want the statement's stored time", live["completedAt"], err)
	}
	if want := ProgressID(c.ID, owner).Hex(); live["progress"] != want {
		t.Errorf("progress = %v, want %s", live["progress"], want)
	}
	if strings.Contains(buf.String(), "example.com") {
		t.Errorf("a learner's address is in the logs:\n%s", buf.String())
	}
}

// At info, a live completion writes no line (the daemon's periodic activity
// summary reports them), yet it is counted.
func TestNoCompletionLineAtInfo(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var buf bytes.Buffer
	e := NewEngine(st, Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	org := oid(1)
	e.SetJourney(oneWaypointJourney(t, org), 0)
	if _, err := e.Statement(completedBy(t, org, "mailto:learner@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if n := e.Stats().Completions.Load(); n != 1 {
		t.Fatalf("%d completions counted, want 1", n)
	}
	if strings.Contains(buf.String(), "journey completed") {
		t.Errorf("a completion logged at info:\n%s", buf.String())
	}
}
