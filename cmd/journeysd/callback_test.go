package main

import (
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCallbackSurvivesKill: a learner completes a journey while its
// callback receiver is down; the daemon retries, is SIGKILLed, and is
// restarted; once the receiver is up the callback arrives — once, with the
// webhook-id the failed attempts carried.
func TestCallbackSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	// Reserve a port for the receiver, and leave it closed for now.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	recvAddr := ln.Addr().String()
	ln.Close()

	dir := filepath.Join(t.TempDir(), "live")
	args := []string{"--callback-allow-private"}
	d := startProc(t, dir, args...)
	j := sentinelJourney()
	j["description"] = "complete once"
	j["outcomes"] = []any{map[string]any{"type": "callback", "callback": "http://" + recvAddr + "/hook"}}
	id := d.createJourney(j)
	ingest(t, func() *proc { return d }, []map[string]any{statement("ffffffff-0000-4000-8000-0000000000aa", "mailto:learner@example.com", verbSentinel, "http://example.com/x", typeCourse, time.Now())}, 1)

	type delivery struct {
		ID        string `json:"id"`
		Tries     int    `json:"tries"`
		LastError string `json:"lastError"`
	}
	var pending []delivery
	waitFor(t, 30*time.Second, "a failed delivery attempt", func() bool {
		pending = nil
		_, err := d.do("GET", "/api/v2/journey/"+id+"/deliveries?status=pending", nil, &pending)
		return err == nil && len(pending) == 1 && pending[0].Tries >= 1
	})
	webhookID := pending[0].ID
	t.Logf("delivery %s pending after %d tries: %s", webhookID, pending[0].Tries, pending[0].LastError)
	d.kill()

	var mu sync.Mutex
	got := map[string]int{}
	srvLn, err := net.Listen("tcp", recvAddr)
	if err != nil {
		t.Fatalf("reopen the receiver's port: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(srvLn)
	defer srv.Close()

	d = startProc(t, dir, args...)
	defer d.stop()
	waitFor(t, 60*time.Second, "the callback after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got[webhookID] == 1
	})
	waitFor(t, 10*time.Second, "the outbox to empty", func() bool {
		pending = nil
		_, err := d.do("GET", "/api/v2/journey/"+id+"/deliveries?status=pending", nil, &pending)
		return err == nil && len(pending) == 0
	})
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[webhookID] != 1 {
		t.Errorf("callbacks received: %v, want exactly one with id %s", got, webhookID)
	}
}
