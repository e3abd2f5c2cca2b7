package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// forwardedStatement is a statement as Learning Locker's statement
// forwarder sends it (fullDocument off): the xAPI statement LL stored, with
// the id, stored, authority and version LL gave it, and extension keys
// decoded from LL's "&46;" back to dots (its mapDot).
const forwardedStatement = `{
  "id": "6b0c2f3e-1d5a-4c1b-9e0f-3b8f5a7d2c11",
  "actor": {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"},
  "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
  "object": {"objectType": "Activity", "id": "http://example.com/course/1",
    "definition": {"type": "http://adlnet.gov/expapi/activities/course", "name": {"en-US": "Course 1"}}},
  "context": {"extensions": {"http://example.com/ext.session": "s-1"}},
  "timestamp": "2024-01-31T10:00:00.000Z",
  "stored": "2024-01-31T10:00:00.125Z",
  "authority": {"objectType": "Agent", "name": "New Client",
    "mbox": "mailto:hello@learninglocker.net"},
  "version": "1.0.0"
}`

// forward sends body the way Learning Locker's forwarder does
// (lib/services/statementForwarding: axios POST of the statement,
// Content-Type application/json, Authorization from authType "basic auth",
// then the forwarder's configured headers) and returns the status and body.
func forward(t *testing.T, d *proc, headers map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+d.addr+"/data/xAPI/statements", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(testAdminKey+":"+testAdminSecret)))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLearningLockerForwarding replays the README's recipe: the request
// Learning Locker's statement forwarder sends, configured as the README
// says, is stored and counts; a retry of it (LL retries up to maxRetries
// when it sees no 2xx/3xx) stores nothing more; without the version header
// in the forwarder's headers it is a 400 naming the header, which LL logs
// in the statement's failedForwardingLog.
func TestLearningLockerForwarding(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	d := startProc(t, filepath.Join(t.TempDir(), "data"))
	defer d.stop()
	id := d.createJourney(map[string]any{
		"description": "complete the course",
		"waypoints":   []any{map[string]any{"conditions": fmt.Sprintf(`{"statement.verb.id": %q, "statement.context.extensions.http://example&46;com/ext&46;session": "s-1"}`, verbCompleted)}},
	})
	waitRecalculated(t, d, id)

	code, body := forward(t, d, nil, forwardedStatement)
	if code != http.StatusBadRequest || !strings.Contains(body, "X-Experience-API-Version") {
		t.Fatalf("without the version header: %d %s, want a 400 naming X-Experience-API-Version", code, body)
	}
	headers := map[string]string{"X-Experience-API-Version": "1.0.3"} // the forwarder's "headers" setting
	for attempt := 1; attempt <= 2; attempt++ {
		code, body := forward(t, d, headers, forwardedStatement)
		if code < 200 || code >= 300 || !strings.Contains(body, "6b0c2f3e-1d5a-4c1b-9e0f-3b8f5a7d2c11") {
			t.Fatalf("forward attempt %d: %d %s, want a 2xx with the statement's id", attempt, code, body)
		}
	}
	var completed []string
	waitFor(t, 30*time.Second, "the forwarded statement's completion", func() bool {
		completed = d.progress(id)
		return len(completed) == 1 && strings.Contains(completed[0], `"isCompleted":true`)
	})
	if n := strings.Count(completed[0], `"statement":`); n != 1 {
		t.Errorf("the retried statement counted %d times: %s", n, completed[0])
	}
	var stored map[string]any
	d.mustDo("GET", "/data/xAPI/statements?statementId=6b0c2f3e-1d5a-4c1b-9e0f-3b8f5a7d2c11", nil, &stored)
	if stored["stored"] == "2024-01-31T10:00:00.125Z" {
		t.Errorf("stored kept the forwarder's value; the log stamps its own: %v", stored)
	}
	if !bytes.Contains([]byte(fmt.Sprint(stored["context"])), []byte("http://example.com/ext.session")) {
		t.Errorf("extension key not served back as sent: %v", stored["context"])
	}
}
