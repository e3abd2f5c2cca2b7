package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/statementlog"
)

// waitRecalculated waits until the journey's recalculation finished.
func waitRecalculated(t *testing.T, p *proc, id string) {
	t.Helper()
	waitFor(t, 120*time.Second, "journey "+id+" to be recalculated", func() bool {
		var j struct {
			Status struct {
				InProgress bool `json:"inProgress"`
			} `json:"recalculateStatus"`
		}
		_, err := p.do("GET", "/api/v2/journey/"+id, nil, &j)
		return err == nil && !j.Status.InProgress
	})
}

// freshReplay starts a daemon with no state on a copy of dir's LRS data,
// waits until it rebuilt everything, and returns each journey's progress.
func freshReplay(t *testing.T, dir string, ids []string, sentinelID string) map[string][]string {
	t.Helper()
	freshDir := filepath.Join(t.TempDir(), "fresh")
	copyLRS(t, dir, freshDir)
	f := startProc(t, freshDir)
	defer f.stop()
	waitFor(t, 120*time.Second, "the fresh daemon to recalculate", func() bool { return len(f.progress(sentinelID)) == 1 })
	out := map[string][]string{}
	for _, id := range ids {
		waitRecalculated(t, f, id)
		out[id] = f.progress(id)
	}
	return out
}

func compareProgress(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for id, w := range want {
		if !reflect.DeepEqual(got[id], w) {
			t.Errorf("journey %s differs from a from-scratch replay:\n got %d owners %v\nwant %d owners %v", id, len(got[id]), got[id], len(w), w)
		}
	}
}

// TestRecalculationEquivalence creates journeys after 1,000 statements
// exist, while more keep arriving, and checks they end equal to a
// from-scratch replay.
func TestRecalculationEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "live")
	d := startProc(t, dir)
	defer d.stop()
	sentinelID := d.createJourney(sentinelJourney())
	stmts := crashTraffic(42, 2000, 50)
	get := func() *proc { return d }
	ingest(t, get, stmts[:1000], 50)

	done := make(chan struct{})
	go func() {
		defer close(done)
		ingest(t, get, stmts[1000:], 25)
	}()
	var ids []string
	for _, j := range crashJourneys()[:3] {
		time.Sleep(100 * time.Millisecond)
		ids = append(ids, d.createJourney(j))
	}
	<-done
	ingest(t, get, []map[string]any{statement("ffffffff-0000-4000-8000-000000000001", "mailto:sentinel@example.com", verbSentinel, "http://example.com/sentinel", typeCourse, time.Now())}, 1)
	waitFor(t, 60*time.Second, "the sentinel", func() bool { return len(d.progress(sentinelID)) == 1 })
	got := map[string][]string{}
	for _, id := range ids {
		waitRecalculated(t, d, id)
		got[id] = d.progress(id)
		if len(got[id]) == 0 {
			t.Fatalf("journey %s has no progress at all", id)
		}
	}
	d.stop() // the log is copied at rest
	compareProgress(t, got, freshReplay(t, dir, ids, sentinelID))
}

// TestHistoryLost loses the daemon's stream history. The statement log
// keeps every entry, so a position it issued is never lost; history is lost
// only when the log no longer holds the checkpoint's position: here it is
// restored from a copy taken before the daemon went further, and more
// statements are written into it while the daemon is down. On restart the
// daemon finds its resume point beyond the log's end, recalculates by
// itself, and ends equal to a from-scratch replay.
func TestHistoryLost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "live")
	d := startProc(t, dir)
	sentinelID := d.createJourney(sentinelJourney())
	var ids []string
	for _, j := range crashJourneys()[:3] {
		ids = append(ids, d.createJourney(j))
	}
	stmts := crashTraffic(7, 1200, 30)
	get := func() *proc { return d }
	ingest(t, get, stmts[:300], 50)
	d.stop()
	backup := filepath.Join(t.TempDir(), "backup")
	copyLRS(t, filepath.Join(dir, statementlog.Dir), backup)

	d.start()
	ingest(t, get, stmts[300:400], 50)
	d.stop()
	if err := os.RemoveAll(filepath.Join(dir, statementlog.Dir)); err != nil {
		t.Fatal(err)
	}
	copyLRS(t, backup, filepath.Join(dir, statementlog.Dir))

	// Statements written into the restored log while the daemon is down.
	ctx := context.Background()
	sl, err := statementlog.Open(filepath.Join(dir, statementlog.Dir), statementlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org, _ := primitive.ObjectIDFromHex(testOrg)
	store := adminStore(t, dir)
	for i := 400; i < 1200; i += 100 {
		body, _ := json.Marshal(stmts[i : i+100])
		if _, err := sl.Ingest(ctx, org, store, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := sl.Close(); err != nil {
		t.Fatal(err)
	}

	d = startProc(t, dir)
	defer d.stop()
	ingest(t, func() *proc { return d }, []map[string]any{statement("ffffffff-0000-4000-8000-000000000002", "mailto:sentinel@example.com", verbSentinel, "http://example.com/sentinel", typeCourse, time.Now())}, 1)
	waitFor(t, 60*time.Second, "the sentinel", func() bool { return len(d.progress(sentinelID)) == 1 })
	got := map[string][]string{}
	for _, id := range ids {
		waitRecalculated(t, d, id)
		got[id] = d.progress(id)
	}
	d.stop() // the log is copied at rest
	compareProgress(t, got, freshReplay(t, dir, ids, sentinelID))
	if !containsLog(d, "history lost") {
		t.Errorf("the daemon did not report a lost history:\n%s", d.log)
	}
}

func adminStore(t *testing.T, dir string) primitive.ObjectID {
	t.Helper()
	a, err := loadAdmin(serveConfig{DataDir: dir, AdminKey: testAdminKey, AdminSecret: testAdminSecret, AdminOrg: testOrg})
	if err != nil {
		t.Fatal(err)
	}
	return a.Store
}

func containsLog(p *proc, s string) bool {
	return strings.Contains(p.log.String(), s)
}
