package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// llForward sends stmt exactly as Learning Locker's statement forwarder
// does (worker/src/handlers/statement/statementForwarding/
// statementForwardingRequestHandler.js and lib/helpers/statementForwarding.js
// in LearningLocker/learninglocker, 2021): with axios, a POST of the stored
// xAPI statement (the document's `statement` with extension keys decoded,
// LL's stored, authority and version included) as JSON to
// <protocol>://<url>, with Content-Type application/json, Content-Length,
// Authorization "Basic base64(basicUsername:basicPassword)" (authType
// "basic auth") and X-Experience-API-Version set to the statement's
// version, 1.0.3 when it has none (unless the forwarder's configured
// headers set one); redirects followed, 5 s timeout. It returns the status
// and body.
func llForward(t *testing.T, url, user, password string, stmt map[string]any) (int, string) {
	t.Helper()
	body, err := json.Marshal(stmt)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	version, _ := stmt["version"].(string)
	if version == "" {
		version = "1.0.3"
	}
	req.Header.Set("X-Experience-API-Version", version)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// llStored is a statement as LL stores and forwards it: LL has set stored,
// its client's authority and the version.
func llStored(id, mbox, verb string, at time.Time, version string) map[string]any {
	s := statement(id, mbox, verb, "http://example.com/course/1", typeCourse, at)
	s["stored"] = at.Add(time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	s["authority"] = map[string]any{"objectType": "Agent", "name": "New Client", "mbox": "mailto:hello@learninglocker.net"}
	if version != "" {
		s["version"] = version
	}
	// An extension key with dots, as LL forwards it (decoded from &46;).
	s["result"] = map[string]any{"completion": true, "extensions": map[string]any{"http://example.com/xapi/score.v2": 0.9}}
	return s
}

// TestLLStatementForwardingVersionHeader: Learning Locker's forwarder since
// its 2021 helper sends X-Experience-API-Version itself, the statement's
// version (1.0.0 as LL stores it) or 1.0.3 when it has none, with no
// header configured. Every forward gets a 2xx (LL retries anything outside
// 200–399), a retried forward of the same statement included, and the
// retry counts nothing twice. (TestLearningLockerForwarding covers the
// header configured in the forwarder, as the README recipe sets it.)
func TestLLStatementForwardingVersionHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	d := startProc(t, t.TempDir())
	defer d.stop()
	id := d.createJourney(map[string]any{
		"description": "complete twice",
		"waypoints": []any{map[string]any{
			"description": "completed", "conditions": fmt.Sprintf(`{"statement.verb.id": %q}`, verbCompleted), "count": 2,
		}},
	})
	url := "http://" + d.addr + "/data/xAPI/statements"
	at := time.Now().Add(-time.Minute)
	first := llStored("6fa1b2c3-0000-4000-8000-000000000001", "mailto:ann@example.com", verbCompleted, at, "1.0.0")
	second := llStored("6fa1b2c3-0000-4000-8000-000000000002", "mailto:ann@example.com", verbCompleted, at.Add(time.Second), "")

	for i, s := range []map[string]any{first, first, second} {
		code, body := llForward(t, url, testAdminKey, testAdminSecret, s)
		if code < 200 || code > 299 {
			t.Fatalf("forward %d: %d %s, want a 2xx (LL retries otherwise)", i, code, body)
		}
		switch i {
		case 0:
			waitFor(t, 10*time.Second, "the first statement", func() bool { return waypointCount(t, d, id) == 1 })
		case 1:
			time.Sleep(300 * time.Millisecond) // the retry is applied, if it ever would be
			if got := waypointCount(t, d, id); got != 1 {
				t.Fatalf("after a retried forward: waypoint count %d, want 1 (the retry must not count)", got)
			}
		}
	}
	waitFor(t, 10*time.Second, "the completion", func() bool { return completed(t, d, id) })
	if got := waypointCount(t, d, id); got != 2 {
		t.Errorf("waypoint count %d, want 2", got)
	}

	// Wrong credentials: a 401, which LL logs and retries.
	if code, _ := llForward(t, url, testAdminKey, "wrong", second); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", code)
	}
}

// progressDoc is the part of a progress document the forwarding test reads.
type progressDoc struct {
	Completions []struct {
		IsCompleted bool `json:"isCompleted"`
		Waypoints   map[string]struct {
			Statements []any `json:"statements"`
		} `json:"waypoints"`
	} `json:"completions"`
}

func progressDocs(t *testing.T, d *proc, id string) []progressDoc {
	t.Helper()
	var docs []progressDoc
	d.mustDo("GET", "/api/v2/journeyprogress?journey="+id, nil, &docs)
	return docs
}

// waypointCount returns the statements counted toward the journey's only
// waypoint in the only owner's latest attempt (0 when none).
func waypointCount(t *testing.T, d *proc, id string) int {
	docs := progressDocs(t, d, id)
	if len(docs) == 0 || len(docs[0].Completions) == 0 {
		return 0
	}
	last := docs[0].Completions[len(docs[0].Completions)-1]
	for _, w := range last.Waypoints {
		return len(w.Statements)
	}
	return 0
}

func completed(t *testing.T, d *proc, id string) bool {
	docs := progressDocs(t, d, id)
	return len(docs) == 1 && len(docs[0].Completions) > 0 && docs[0].Completions[0].IsCompleted
}
