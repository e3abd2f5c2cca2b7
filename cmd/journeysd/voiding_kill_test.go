package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestVoidedByUpdateAcrossKill, on the real daemon and its statement log:
// a learner completes a journey (one callback); the daemon is SIGKILLed
// between that insert and the voiding statement, and again at random
// moments while it applies the voiding (which the log delivers as an update
// of voided, as a change stream delivers Learning Locker's). The voided
// statement stops counting, and when the learner completes again, attempt 1
// (which already fired) sends no second callback.
func TestVoidedByUpdateAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	var callbacks atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callbacks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "live")
	args := []string{"--callback-allow-private"}
	d := startProc(t, dir, args...)
	id := d.createJourney(map[string]any{
		"description": "complete the course",
		"waypoints":   []any{map[string]any{"description": "completed", "conditions": fmt.Sprintf(`{"statement.verb.id": %q}`, verbCompleted), "count": 1}},
		"outcomes":    []any{map[string]any{"type": "callback", "callback": "http://" + ln.Addr().String() + "/hook"}},
	})
	waitRecalculated(t, d, id)
	const target = "0000000b-0000-4000-8000-000000000001"
	ingest(t, func() *proc { return d }, []map[string]any{
		statement(target, "mailto:ada@example.com", verbCompleted, "http://example.com/course/1", typeCourse, time.Now()),
	}, 1)
	waitFor(t, 30*time.Second, "the completion's callback", func() bool { return callbacks.Load() == 1 })
	d.kill() // between the insert and the update

	d = startProc(t, dir, args...)
	ingest(t, func() *proc { return d }, []map[string]any{{
		"id":     "0000000b-0000-4000-8000-000000000002",
		"actor":  map[string]any{"mbox": "mailto:admin@example.com"},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided"},
		"object": map[string]any{"objectType": "StatementRef", "id": target},
	}}, 1)
	d.kill() // right after the voiding is stored
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for range 3 {
		d = startProc(t, dir, args...)
		time.Sleep(time.Duration(r.IntN(40)) * time.Millisecond)
		d.kill()
	}
	d = startProc(t, dir, args...)
	defer d.stop()
	waitFor(t, 30*time.Second, "the voided statement to stop counting", func() bool { return len(d.progress(id)) == 0 })

	ingest(t, func() *proc { return d }, []map[string]any{
		statement("0000000b-0000-4000-8000-000000000003", "mailto:ada@example.com", verbCompleted, "http://example.com/course/1", typeCourse, time.Now()),
	}, 1)
	waitFor(t, 30*time.Second, "the second completion", func() bool { return len(d.progress(id)) == 1 })
	time.Sleep(500 * time.Millisecond) // a callback, if one were queued, would have been sent
	if n := callbacks.Load(); n != 1 {
		t.Errorf("%d callbacks, want 1: attempt 1 fired before the voiding", n)
	}
	var docs []progressDoc
	d.mustDo("GET", "/api/v2/journeyprogress?journey="+id, nil, &docs)
	if len(docs) != 1 || len(docs[0].Completions) != 1 || !docs[0].Completions[0].IsCompleted {
		t.Errorf("progress %+v, want one completed attempt", docs)
	}
}
