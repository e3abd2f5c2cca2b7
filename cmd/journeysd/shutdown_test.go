package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// slowReceiver is a callback endpoint that takes a while to answer and
// records the webhook-ids it acknowledged.
type slowReceiver struct {
	srv   *httptest.Server
	delay time.Duration
	mu    sync.Mutex
	ids   map[string]int
	start chan struct{}
	once  sync.Once
}

func newSlowReceiver(delay time.Duration) *slowReceiver {
	r := &slowReceiver{delay: delay, ids: map[string]int{}, start: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.once.Do(func() { close(r.start) })
		time.Sleep(r.delay)
		r.mu.Lock()
		r.ids[req.Header.Get("webhook-id")]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	return r
}

func (r *slowReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

// TestGracefulShutdown sends SIGTERM while statements are being processed
// and a callback is in flight: the daemon exits cleanly, the callback
// finishes (or stays pending and is delivered after a restart, once), and
// the progress after a restart equals a from-scratch replay.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	recv := newSlowReceiver(700 * time.Millisecond)
	defer recv.srv.Close()
	dir := filepath.Join(t.TempDir(), "live")
	args := []string{"--callback-allow-private"}
	d := startProc(t, dir, args...)
	j := crashJourneys()[2] // unordered, repeatable: completes often
	j["outcomes"] = []any{map[string]any{"type": "callback", "callback": recv.srv.URL + "/hook"}}
	id := d.createJourney(j)
	sentinelID := d.createJourney(sentinelJourney())
	stmts := crashTraffic(11, 600, 20)
	ingest(t, func() *proc { return d }, stmts, 100)

	select {
	case <-recv.start:
	case <-time.After(30 * time.Second):
		t.Fatal("no callback started")
	}
	d.stop() // SIGTERM; fails the test unless the exit is clean and timely
	if !containsLog(d, `"msg":"stopped"`) {
		t.Errorf("no orderly stop in the log:\n%s", d.log)
	}

	d = startProc(t, dir, args...)
	defer d.stop()
	ingest(t, func() *proc { return d }, []map[string]any{statement("ffffffff-0000-4000-8000-000000000003", "mailto:sentinel@example.com", verbSentinel, "http://example.com/sentinel", typeCourse, time.Now())}, 1)
	waitFor(t, 60*time.Second, "the sentinel", func() bool { return len(d.progress(sentinelID)) == 1 })
	got := map[string][]string{id: d.progress(id)}

	// Every completion is called back exactly once across the restart.
	var completions int
	for _, doc := range got[id] {
		completions += countCompleted(doc)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d callbacks", completions), func() bool { return recv.count() == completions })
	recv.mu.Lock()
	for wid, n := range recv.ids {
		if n != 1 {
			t.Errorf("callback %s received %d times", wid, n)
		}
	}
	recv.mu.Unlock()
	if completions == 0 {
		t.Fatal("no completions: the test exercised nothing")
	}
	d.stop() // the log is copied at rest
	compareProgress(t, got, freshReplay(t, dir, []string{id}, sentinelID))
}

// countCompleted counts the completed attempts in a progress document.
func countCompleted(doc string) int {
	var p struct {
		Completions []struct {
			IsCompleted bool `json:"isCompleted"`
		} `json:"completions"`
	}
	if err := jsonUnmarshal(doc, &p); err != nil {
		return 0
	}
	n := 0
	for _, c := range p.Completions {
		if c.IsCompleted {
			n++
		}
	}
	return n
}
