package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/journeys/journeys/processor"
)

func TestActivityAttrs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur activityCounts
		want      string // "" when no line
	}{
		{"idle", activityCounts{5, 2, 1}, activityCounts{5, 2, 1}, ""},
		{"from zero", activityCounts{}, activityCounts{1000, 30, 4}, "interval=1m0s statements=1000 completions=30 callbacks=4"},
		{"differences", activityCounts{1000, 30, 4}, activityCounts{1500, 30, 4}, "interval=1m0s statements=500 completions=0 callbacks=0"},
		{"completions only (a recalculation's)", activityCounts{7, 1, 0}, activityCounts{7, 9, 0}, "interval=1m0s statements=0 completions=8 callbacks=0"},
	} {
		attrs, ok := activityAttrs(tc.prev, tc.cur, time.Minute)
		var got []string
		for _, a := range attrs {
			got = append(got, a.String())
		}
		if ok != (tc.want != "") || strings.Join(got, " ") != tc.want {
			t.Errorf("%s: got %v %q, want %q", tc.name, ok, strings.Join(got, " "), tc.want)
		}
	}
}

// An activity log logs a summary per interval while there is activity, none
// while idle, and stops with its context.
func TestLogActivity(t *testing.T) {
	var buf syncBuffer
	log, err := newLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	var s processor.Stats
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.Processed.Add(1000) // before the log: not reported
	a := newActivityLog(log, &s)
	s.Processed.Add(300)
	s.Completions.Add(12)
	s.Deliveries.Add(2)
	go func() { a.run(ctx, 20*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), `"activity"`) {
		if time.Now().After(deadline) {
			t.Fatal("no activity line")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // idle intervals: no more lines
	cancel()
	<-done
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["level"] != "INFO" || m["msg"] != "activity" || m["statements"] != float64(300) || m["completions"] != float64(12) || m["callbacks"] != float64(2) {
		t.Errorf("line %v", m)
	}
}
