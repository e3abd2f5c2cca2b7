package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/statementlog"
)

const (
	verbLaunched   = "http://adlnet.gov/expapi/verbs/launched"
	verbProgressed = "http://adlnet.gov/expapi/verbs/progressed"
)

// launchedProgressed is the sequential, repeatable journey "launched, then
// progressed": its progress depends on the order of every statement.
func launchedProgressed() map[string]any {
	wp := func(desc, verb string, order int) map[string]any {
		return map[string]any{"description": desc, "conditions": fmt.Sprintf(`{"statement.verb.id": %q}`, verb), "count": 1, "order": order}
	}
	return map[string]any{
		"description": "launched then progressed", "isSequential": true, "isRepeatable": true,
		"waypoints": []any{wp("launched", verbLaunched, 1), wp("progressed", verbProgressed, 2)},
	}
}

// orderTraffic returns n statements of learners alternating at random
// between launched and progressed.
func orderTraffic(r *rand.Rand, prefix string, n, learners int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		verb := verbLaunched
		if r.Intn(2) == 0 {
			verb = verbProgressed
		}
		id := fmt.Sprintf("%s-0000-4000-8000-%012x", prefix, i)
		out[i] = statement(id, fmt.Sprintf("mailto:learner%02d@example.com", r.Intn(learners)), verb, "http://example.com/course/1", typeCourse, time.Now())
	}
	return out
}

// recalculate asks for journey id's recalculation and waits until it ran.
func recalculate(t *testing.T, d *proc, id string) {
	t.Helper()
	d.mustDo("POST", "/api/v2/journey/"+id+"/recalculate", nil, nil)
	waitRecalculated(t, d, id)
}

// TestLogOrderEqualsRecalculation posts large batches and single
// statements concurrently, then recalculates: stored and _id are stamped in
// log order, so the rebuilt progress documents are identical to the live
// ones (a sequential journey makes any difference in order visible).
func TestLogOrderEqualsRecalculation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	d := startProc(t, filepath.Join(t.TempDir(), "live"))
	defer d.stop()
	id := d.createJourney(launchedProgressed())
	sentinelID := d.createJourney(sentinelJourney())
	waitRecalculated(t, d, id)
	get := func() *proc { return d }
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	var wg sync.WaitGroup
	for g := range 6 {
		stmts := orderTraffic(r, fmt.Sprintf("%08x", g), 600, 12)
		batch := 1
		if g < 2 {
			batch = 200 // large batches racing single statements
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if batch == 1 {
				stmts = stmts[:150]
			}
			ingest(t, get, stmts, batch)
		}()
	}
	wg.Wait()
	ingest(t, get, []map[string]any{statement("ffffffff-0000-4000-8000-0000000000a1", "mailto:sentinel@example.com", verbSentinel, "http://example.com/sentinel", typeCourse, time.Now())}, 1)
	waitFor(t, 60*time.Second, "the sentinel", func() bool { return len(d.progress(sentinelID)) == 1 })
	live := d.progress(id)
	if len(live) != 12 {
		t.Fatalf("%d owners have progress, want 12", len(live))
	}
	recalculate(t, d, id)
	// The status says finished before the rebuilt progress is committed
	// with the request's position: a later statement, once counted, shows
	// that commit done.
	ingest(t, get, []map[string]any{statement("ffffffff-0000-4000-8000-0000000000a2", "mailto:sentinel2@example.com", verbSentinel, "http://example.com/sentinel", typeCourse, time.Now())}, 1)
	waitFor(t, 60*time.Second, "the second sentinel", func() bool { return len(d.progress(sentinelID)) == 2 })
	if again := d.progress(id); !reflect.DeepEqual(again, live) {
		for i := range min(len(live), len(again)) {
			if live[i] != again[i] {
				t.Fatalf("progress after a recalculation differs from the live progress (%d and %d owners); first difference:\n  live %s\nrecalc %s", len(live), len(again), live[i], again[i])
			}
		}
		t.Fatalf("progress after a recalculation differs from the live progress: %d and %d owners", len(live), len(again))
	}
}

// TestIngestAllOrNothing SIGKILLs the daemon while clients post batches:
// afterwards the log holds every batch whole or not at all, and every batch
// that was acknowledged.
func TestIngestAllOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "live")
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	const batch = 100
	type sent struct {
		ids   []string
		acked bool
	}
	var (
		mu      sync.Mutex
		batches []*sent
	)
	for round := range 3 {
		d := startProc(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					prefix := fmt.Sprintf("%02x%02x%04x", round, c, n)
					stmts := orderTraffic(rand.New(rand.NewSource(int64(n))), prefix, batch, 20)
					s := &sent{}
					for _, st := range stmts {
						s.ids = append(s.ids, st["id"].(string))
					}
					mu.Lock()
					batches = append(batches, s)
					mu.Unlock()
					code, _ := d.do("POST", "/data/xAPI/statements", stmts, nil)
					if code == http.StatusOK {
						mu.Lock()
						s.acked = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(300+r.Intn(700)) * time.Millisecond)
		d.kill()
		cancel()
		wg.Wait()
	}
	sl, err := statementlog.Open(filepath.Join(dir, statementlog.Dir), statementlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	store := adminStore(t, dir)
	whole, acked := 0, 0
	for i, b := range batches {
		found := 0
		for _, id := range b.ids {
			if _, _, err := sl.Statement(context.Background(), store, id); err == nil {
				found++
			} else if err != lrs.ErrNotFound {
				t.Fatal(err)
			}
		}
		if found != 0 && found != len(b.ids) {
			t.Errorf("batch %d: %d of %d statements stored", i, found, len(b.ids))
		}
		if b.acked && found != len(b.ids) {
			t.Errorf("batch %d was acknowledged but is not stored", i)
		}
		if found > 0 {
			whole++
		}
		if b.acked {
			acked++
		}
	}
	t.Logf("%d batches sent, %d stored whole, %d acknowledged", len(batches), whole, acked)
	if acked == 0 {
		t.Fatal("no batch was acknowledged: nothing tested")
	}
}

// TestVoiding posts a statement that completes a journey, then a voiding
// statement: the voided statement stops counting (its owner's progress is
// rebuilt without it), also after a restart and after a recalculation,
// and GET ?voidedStatementId= returns it.
func TestVoiding(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "live")
	d := startProc(t, dir)
	id := d.createJourney(map[string]any{
		"description": "complete the course",
		"waypoints":   []any{map[string]any{"description": "completed", "conditions": fmt.Sprintf(`{"statement.verb.id": %q}`, verbCompleted), "count": 1}},
	})
	waitRecalculated(t, d, id)
	const target = "0000000a-0000-4000-8000-000000000001"
	get := func() *proc { return d }
	ingest(t, get, []map[string]any{
		statement(target, "mailto:ada@example.com", verbCompleted, "http://example.com/course/1", typeCourse, time.Now()),
		statement("0000000a-0000-4000-8000-000000000002", "mailto:bob@example.com", verbCompleted, "http://example.com/course/1", typeCourse, time.Now()),
	}, 2)
	waitFor(t, 30*time.Second, "both learners' progress", func() bool { return len(d.progress(id)) == 2 })

	voiding := map[string]any{
		"id":     "0000000a-0000-4000-8000-000000000003",
		"actor":  map[string]any{"mbox": "mailto:admin@example.com"},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided"},
		"object": map[string]any{"objectType": "StatementRef", "id": target},
	}
	ingest(t, get, []map[string]any{voiding}, 1)
	onlyBob := func(p *proc) bool {
		docs := p.progress(id)
		return len(docs) == 1 && bytes.Contains([]byte(docs[0]), []byte("bob@example.com"))
	}
	waitFor(t, 60*time.Second, "the voided statement to stop counting", func() bool { return onlyBob(d) })
	var got map[string]any
	d.mustDo("GET", "/data/xAPI/statements?voidedStatementId="+target, nil, &got)
	if got["id"] != target {
		t.Errorf("GET voidedStatementId: %v", got)
	}
	if code, _ := d.do("GET", "/data/xAPI/statements?statementId="+target, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET statementId of a voided statement: %d, want 404", code)
	}

	d.stop()
	d.start()
	defer d.stop()
	if !onlyBob(d) {
		t.Fatalf("after a restart: %v", d.progress(id))
	}
	recalculate(t, d, id)
	// The status says finished just before the rebuilt progress commits.
	waitFor(t, 30*time.Second, "only bob's progress after a recalculation", func() bool { return onlyBob(d) })
}
