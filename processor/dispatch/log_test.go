package dispatch

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects JSON log lines from concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the decoded lines whose msg is msg.
func (l *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestLogLines(t *testing.T) {
	st := openStore(t)
	var logs logBuffer
	failing := newReceiver(t, status(http.StatusServiceUnavailable))
	rejecting := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		http.Error(w, "no such hook", http.StatusNotFound)
	})
	withSecret := func(u string) string {
		return strings.Replace(u, "http://", "http://hookuser:hookpass@", 1) + "/hook?token=qs3cret"
	}
	retried := newDelivery(withSecret(failing.URL), 100)
	deadDel := newDelivery(withSecret(rejecting.URL), 100)
	enqueueStored(t, st, retried, deadDel)
	cfg := fastRetries()
	cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 20*time.Millisecond
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	began := time.Now()
	_, _ = start(t, st, cfg)
	// Several failed attempts to the failing target, one dead letter.
	waitFor(t, 5*time.Second, "failed attempts and a dead letter", func() bool {
		return len(failing.requests()) >= 4 && len(logs.lines(t, "callback dead-lettered")) == 1
	})

	warns := logs.lines(t, "callback attempt failed; will retry")
	// Rate-limited per target: the attempts within warnInterval after the
	// first are not logged at warn (debug is below the level here).
	if len(warns) != 1 {
		t.Fatalf("%d failed-attempt warnings for %d failed attempts to one target, want 1 (rate-limited)", len(warns), len(failing.requests()))
	}
	w := warns[0]
	if w["level"] != "WARN" || w["status"] != float64(503) || w["tries"] != float64(1) || w["id"] != retried.ID ||
		w["journey"] != retried.Journey.Hex() || w["attempt"] != float64(1) || w["suppressed"] != float64(0) {
		t.Errorf("failed-attempt line %v", w)
	}
	if reason, _ := w["reason"].(string); !strings.HasPrefix(reason, "HTTP 503") {
		t.Errorf("reason %q, want the HTTP status", w["reason"])
	}
	next, err := time.Parse(time.RFC3339Nano, w["next_attempt"].(string))
	if err != nil || next.Before(began) || next.After(time.Now().Add(time.Minute)) {
		t.Errorf("next_attempt %v (%v), want an RFC 3339 time shortly after the attempt", w["next_attempt"], err)
	}
	if _, ok := w["retry_in"]; !ok {
		t.Errorf("no retry_in in %v", w)
	}

	d := logs.lines(t, "callback dead-lettered")[0]
	if d["level"] != "ERROR" || d["status"] != float64(404) || d["result"] != "dead" || d["id"] != deadDel.ID {
		t.Errorf("dead-letter line %v", d)
	}
	if reason, _ := d["reason"].(string); !strings.Contains(reason, "HTTP 404") || !strings.Contains(reason, "no such hook") {
		t.Errorf("dead-letter reason %q, want the status and the receiver's answer", d["reason"])
	}
	for _, l := range []map[string]any{w, d} {
		u, _ := l["url"].(string)
		if !strings.Contains(u, "REDACTED@127.0.0.1") || !strings.Contains(u, "token=REDACTED") {
			t.Errorf("url %q not redacted", u)
		}
	}
	logs.mu.Lock()
	all := logs.b.String()
	logs.mu.Unlock()
	for _, secret := range []string{"hookpass", "hookuser", "qs3cret"} {
		if strings.Contains(all, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
