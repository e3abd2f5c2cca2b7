package main

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `journeysd demo` as a user would: it must exit 0, print a
// callback line per completion, and close with a summary whose completed
// attempts equal the callbacks received, per journey.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "demo", "--learners", "30").CombinedOutput()
	if err != nil {
		t.Fatalf("journeysd demo: %v\n%s", err, out)
	}
	text := string(out)
	callbacks := strings.Count(text, "✓ callback msg_")
	if callbacks == 0 {
		t.Fatalf("no callbacks printed:\n%s", text)
	}
	summary := text[strings.Index(text, "Summary"):]
	row := regexp.MustCompile(`(?m)^(5 comments and 1 completion of a course|Practice: .*?)\s{2,}.*\s(\d+)\s+(\d+)\s+(\d+)\s*$`)
	rows := row.FindAllStringSubmatch(summary, -1)
	if len(rows) != 2 {
		t.Fatalf("summary has %d journey rows, want 2:\n%s", len(rows), summary)
	}
	total := 0
	for _, r := range rows {
		completed, _ := strconv.Atoi(r[3])
		got, _ := strconv.Atoi(r[4])
		if completed != got {
			t.Errorf("%s: %d completed attempts but %d callbacks", r[1], completed, got)
		}
		total += got
	}
	if total != callbacks {
		t.Errorf("summary counts %d callbacks, %d were printed", total, callbacks)
	}
}
