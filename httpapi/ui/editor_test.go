package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/journeys/journeys/internal/xapitest"
)

// The editor test's daemon credential and organisation.
const (
	daemonKey    = "editor-admin"
	daemonSecret = "editor-secret"
	daemonOrg    = "5e0000000000000000000001"
)

// daemon is the real journeysd binary serving the page, the API and its
// pipeline on the embedded store, as a subprocess.
type daemon struct {
	t    *testing.T
	url  string
	cmd  *exec.Cmd
	log  bytes.Buffer
	done chan struct{}
}

// startDaemon builds journeysd and starts it on a fresh data directory.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "journeysd")
	build := exec.Command("go", "build", "-o", bin, "github.com/journeys/journeys/cmd/journeysd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build journeysd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := &daemon{t: t, url: "http://" + addr, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--listen", addr,
		"--admin-key", daemonKey, "--admin-secret", daemonSecret, "--admin-organisation", daemonOrg,
		"--log-format", "json")
	d.cmd.Stdout, d.cmd.Stderr = &d.log, &d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(d.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-d.done:
			t.Fatalf("journeysd exited early:\n%s", d.log.String())
		default:
		}
		if res, err := http.Get(d.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("journeysd not ready after 30 s:\n%s", d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	if d.t.Failed() {
		d.t.Logf("journeysd log:\n%s", d.log.String())
	}
}

// post stores xAPI statements through the daemon's statement resource.
func (d *daemon) post(statements []map[string]any) {
	d.t.Helper()
	body, err := json.Marshal(statements)
	if err != nil {
		d.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, d.url+"/data/xAPI/statements", bytes.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	req.SetBasicAuth(daemonKey, daemonSecret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		d.t.Fatalf("POST statements: %d %s", res.StatusCode, b)
	}
}

// statement is an xAPI statement of learner n doing verb on activity.
func statement(learner int, verb, activity string) map[string]any {
	return map[string]any{
		"actor": map[string]any{"objectType": "Agent", "name": fmt.Sprintf("Learner %d", learner),
			"mbox": fmt.Sprintf("mailto:learner%d@example.org", learner)},
		"verb":   map[string]any{"id": verb, "display": map[string]any{"en-US": filepath.Base(verb)}},
		"object": map[string]any{"objectType": "Activity", "id": activity, "definition": map[string]any{"name": map[string]any{"en-US": filepath.Base(activity)}}},
	}
}

// editorConfig is handed to e2e/editor.test.mjs as JSON in E2E_CONFIG.
type editorConfig struct {
	URL         string `json:"url"`
	Key         string `json:"key"`
	Secret      string `json:"secret"`
	Chromium    string `json:"chromium"`
	Screenshots string `json:"screenshots"`
	Launched    string `json:"launched"`
	Completed   string `json:"completed"`
	Passed      string `json:"passed"`
	Activity    string `json:"activity"`
	// Stored is how many statements the daemon holds before the script
	// starts; LaunchedCount how many of them are launched statements.
	Stored        int `json:"stored"`
	LaunchedCount int `json:"launchedCount"`
	// Funnel is what the funnel of a journey "launched, then completed"
	// (not sequential, count 1 each) must show over the seeded statements.
	Funnel struct {
		Owners    int   `json:"owners"`
		Waypoints []int `json:"waypoints"`
		Completed int   `json:"completed"`
	} `json:"funnel"`
}

// TestEditorBrowser drives the journey editor in headless Chromium against
// the real daemon: journeys built through the page are computed by its
// pipeline from statements stored through its xAPI resource. Set
// UI_SCREENSHOTS to a directory to keep the screenshots it takes.
func TestEditorBrowser(t *testing.T) {
	node := browserPrerequisites(t)
	d := startDaemon(t)

	course := xapitest.ActivityBase + "course/editor"
	// Learner 1 launches twice and completes; learner 2 launches; learner 3
	// only completes; learner 4 passes.
	seed := []map[string]any{
		statement(1, xapitest.VerbLaunched, course),
		statement(2, xapitest.VerbLaunched, course),
		statement(1, xapitest.VerbLaunched, course),
		statement(3, xapitest.VerbCompleted, course),
		statement(1, xapitest.VerbCompleted, course),
		statement(4, xapitest.VerbPassed, course),
	}
	d.post(seed)
	cfg := editorConfig{
		URL: d.url + "/ui/", Key: daemonKey, Secret: daemonSecret, Chromium: chromium,
		Launched: xapitest.VerbLaunched, Completed: xapitest.VerbCompleted, Passed: xapitest.VerbPassed,
		Activity: course, Stored: len(seed), LaunchedCount: 3,
	}
	// Learners 1, 2 and 3 have progress; 1 and 2 launched, 1 and 3
	// completed; 1 did both.
	cfg.Funnel.Owners, cfg.Funnel.Waypoints, cfg.Funnel.Completed = 3, []int{2, 2}, 1

	cfg.Screenshots = os.Getenv("UI_SCREENSHOTS")
	if cfg.Screenshots == "" {
		cfg.Screenshots = t.TempDir()
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runScript(t, node, "editor.test.mjs", b)
}

// TestConditionModel runs the table tests of the condition builder's model
// (static/condition.js) in node.
func TestConditionModel(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipping: node is not installed (apt-get install -y nodejs)")
	}
	cmd := exec.Command(node, "--test", "condition.test.mjs")
	cmd.Dir = "e2e"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test condition.test.mjs: %v\n%s", err, out)
	}
}
