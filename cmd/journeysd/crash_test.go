package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/statementlog"
)

const (
	verbCommented   = "http://adlnet.gov/expapi/verbs/commented"
	verbCompleted   = "http://adlnet.gov/expapi/verbs/completed"
	verbExperienced = "http://adlnet.gov/expapi/verbs/experienced"
	verbPassed      = "http://adlnet.gov/expapi/verbs/passed"
	verbSentinel    = "http://example.com/verbs/sentinel"
	typeCourse      = "http://adlnet.gov/expapi/activities/course"
	typeModule      = "http://adlnet.gov/expapi/activities/module"
)

// crashJourneys are sequential and repeatable journeys over a small
// vocabulary, so that 50 owners complete them often.
func crashJourneys() []map[string]any {
	wp := func(desc, cond string, count, order int) map[string]any {
		return map[string]any{"description": desc, "conditions": cond, "count": count, "order": order}
	}
	return []map[string]any{
		{
			"description": "5 comments and 1 completion of a course", "isSequential": true,
			"waypoints": []any{
				wp("5 comments", fmt.Sprintf(`{"statement.verb.id": %q}`, verbCommented), 5, 1),
				wp("1 course completion", fmt.Sprintf(`{"statement.verb.id": %q, "statement.object.definition.type": %q}`, verbCompleted, typeCourse), 1, 2),
			},
		},
		{
			"description": "explore then pass, repeatedly", "isSequential": true, "isRepeatable": true,
			"waypoints": []any{
				wp("2 modules", fmt.Sprintf(`{"statement.verb.id": %q, "statement.object.definition.type": %q}`, verbExperienced, typeModule), 2, 1),
				wp("pass", fmt.Sprintf(`{"statement.verb.id": {"$in": [%q, %q]}}`, verbPassed, verbCompleted), 1, 2),
			},
		},
		{
			"description": "any order, repeatedly", "isRepeatable": true,
			"waypoints": []any{
				wp("comment", fmt.Sprintf(`{"statement.verb.id": %q}`, verbCommented), 2, 1),
				wp("module", `{"statement.object.definition.type": {"$regex": "module$"}}`, 1, 2),
				wp("pass", fmt.Sprintf(`{"$or": [{"statement.verb.id": %q}, {"statement.verb.id": %q}]}`, verbPassed, verbCompleted), 1, 3),
			},
		},
		sentinelJourney(),
	}
}

// sentinelJourney completes when the sentinel statement, always ingested
// last, has been processed: the stream is in order, so everything before
// it has been too.
func sentinelJourney() map[string]any {
	return map[string]any{
		"description": "sentinel",
		"waypoints": []any{map[string]any{
			"description": "sentinel", "conditions": fmt.Sprintf(`{"statement.verb.id": %q}`, verbSentinel), "count": 1,
		}},
	}
}

// crashTraffic makes n statements for owners learners, deterministically.
func crashTraffic(seed int64, n, owners int) []map[string]any {
	r := rand.New(rand.NewSource(seed))
	verbs := []string{verbCommented, verbCommented, verbCompleted, verbExperienced, verbExperienced, verbPassed}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]map[string]any, n)
	for i := range out {
		verb := verbs[r.Intn(len(verbs))]
		typ, obj := typeModule, fmt.Sprintf("http://example.com/module/%d", r.Intn(5))
		if r.Intn(3) == 0 {
			typ, obj = typeCourse, fmt.Sprintf("http://example.com/course/%d", r.Intn(2))
		}
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(seed), i)
		out[i] = statement(id, fmt.Sprintf("mailto:learner%02d@example.com", r.Intn(owners)), verb, obj, typ, base.Add(time.Duration(i)*time.Second))
	}
	return out
}

// ingest posts statements in batches, retrying a batch until the daemon
// accepts it. A batch stored just before a kill answers 409 on retry (its
// statement ids exist), which counts as accepted.
func ingest(t *testing.T, p func() *proc, stmts []map[string]any, batch int) {
	t.Helper()
	for i := 0; i < len(stmts); i += batch {
		chunk := stmts[i:min(i+batch, len(stmts))]
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, err := p().do("POST", "/data/xAPI/statements", chunk, nil)
			if err == nil || code == 409 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ingest batch %d: %v", i/batch, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestCrashRecovery SIGKILLs the daemon at random moments while it
// processes statements for 50 owners across sequential and repeatable
// journeys, restarting it each time, and checks that the final progress of
// every owner and attempt equals an uninterrupted run's: a fresh daemon on a
// copy of the same LRS data, which rebuilds everything from history in one
// go.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	crashDir := filepath.Join(dir, "crashy")
	d := startProc(t, crashDir)
	var ids []string
	for _, j := range crashJourneys() {
		ids = append(ids, d.createJourney(j))
	}
	stmts := crashTraffic(seed, 2400, 50)

	// Ingest in the background while killing and restarting the daemon.
	cur := make(chan *proc, 1)
	cur <- d
	get := func() *proc { p := <-cur; cur <- p; return p }
	done := make(chan struct{})
	go func() {
		defer close(done)
		ingest(t, get, stmts, 40)
	}()
	const kills = 6
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(150+r.Intn(900)) * time.Millisecond)
		p := <-cur
		p.kill()
		cur <- startProc(t, crashDir)
	}
	<-done
	d = get()
	sentinel := []map[string]any{statement("ffffffff-0000-4000-8000-000000000000", "mailto:sentinel@example.com", verbSentinel, "http://example.com/sentinel", typeCourse, time.Now())}
	ingest(t, get, sentinel, 1)
	sentinelID := ids[len(ids)-1]
	waitFor(t, 60*time.Second, "the sentinel to be processed", func() bool { return len(d.progress(sentinelID)) == 1 })

	got := map[string][]string{}
	for _, id := range ids {
		got[id] = d.progress(id)
	}
	d.stop()

	// The uninterrupted run: a fresh daemon on a copy of the LRS data.
	freshDir := filepath.Join(dir, "fresh")
	copyLRS(t, crashDir, freshDir)
	f := startProc(t, freshDir)
	defer f.stop()
	waitFor(t, 120*time.Second, "the fresh daemon to recalculate", func() bool { return len(f.progress(sentinelID)) == 1 })
	for _, id := range ids {
		want := f.progress(id)
		if !reflect.DeepEqual(got[id], want) {
			t.Errorf("journey %s: progress after crashes differs from an uninterrupted run:\n got %d owners %v\nwant %d owners %v", id, len(got[id]), got[id], len(want), want)
		}
	}
	if len(got[ids[0]]) < 40 {
		t.Errorf("only %d owners have progress on the first journey: traffic too thin to test anything", len(got[ids[0]]))
	}
}

// copyLRS copies the embedded LRS (the statement log and the files beside
// it, not the state store) of one data directory into another. The daemon
// of from must be stopped: a Pebble directory is copied at rest.
func copyLRS(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		switch {
		case e.Name() == statementlog.Dir:
			copyLRS(t, src, dst)
		case e.IsDir():
			continue // the state store
		default:
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}
