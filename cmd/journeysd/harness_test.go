package main

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
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the journeysd binary built once for the tests that run it as a
// subprocess (crash, shutdown and history tests): the real thing, not the
// test binary.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "journeysd-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "journeysd")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build journeysd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testAdminKey    = "test-key"
	testAdminSecret = "test-secret"
	testOrg         = "5f0000000000000000000001"
)

// proc is a journeysd subprocess.
type proc struct {
	t       testing.TB
	dataDir string
	addr    string
	extra   []string
	cmd     *exec.Cmd
	log     *syncBuffer
	exited  chan struct{}
}

// startProc starts journeysd serve on dataDir, on a fresh loopback port,
// and waits until it is ready.
func startProc(t testing.TB, dataDir string, extra ...string) *proc {
	t.Helper()
	p := &proc{t: t, dataDir: dataDir, extra: extra}
	p.start()
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.launch()
	p.waitReady(30 * time.Second)
}

// launch starts the daemon without waiting for it to be ready.
func (p *proc) launch() {
	p.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	ln.Close()
	args := append([]string{"serve",
		"--data-dir", p.dataDir, "--listen", p.addr,
		"--admin-key", testAdminKey, "--admin-secret", testAdminSecret, "--admin-organisation", testOrg,
		"--log-format", "json", "--log-level", "info",
	}, p.extra...)
	p.cmd = exec.Command(binary, args...)
	p.log = &syncBuffer{}
	log := p.log
	p.t.Cleanup(func() {
		if p.t.Failed() && os.Getenv("JOURNEYS_TEST_LOGS") != "" {
			p.t.Logf("journeysd log (%s):\n%s", p.dataDir, log)
		}
	})
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.exited) }()
}

func (p *proc) waitReady(limit time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			p.t.Fatalf("journeysd exited early:\n%s", p.log)
		default:
		}
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("journeysd not ready after %s:\n%s", limit, p.log)
}

// kill SIGKILLs the daemon: no shutdown code runs.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("journeysd did not stop on SIGTERM:\n%s", p.log)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Fatalf("journeysd exited with %d after SIGTERM:\n%s", code, p.log)
	}
}

// do sends an authenticated API request and decodes a JSON response into
// out (when not nil). It returns the status code.
func (p *proc) do(method, path string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+p.addr+path, r)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(testAdminKey, testAdminSecret)
	if strings.HasPrefix(path, "/data/xAPI/") {
		req.Header.Set("X-Experience-API-Version", "1.0.3")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", b, err)
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, nil
}

func (p *proc) mustDo(method, path string, body any, out any) {
	p.t.Helper()
	if _, err := p.do(method, path, body, out); err != nil {
		p.t.Fatal(err)
	}
}

// createJourney creates a journey through the API and returns its id.
func (p *proc) createJourney(doc map[string]any) string {
	p.t.Helper()
	var out struct {
		ID string `json:"_id"`
	}
	p.mustDo("POST", "/api/v2/journey", doc, &out)
	return out.ID
}

// progress returns every progress document of a journey, sorted by owner,
// as canonical JSON values.
func (p *proc) progress(journeyID string) []string {
	p.t.Helper()
	var docs []map[string]any
	p.mustDo("GET", "/api/v2/journeyprogress?limit=1000&journey="+journeyID, nil, &docs)
	var out []string
	for _, d := range docs {
		b, err := json.Marshal(d) // map keys are sorted: canonical
		if err != nil {
			p.t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// waitFor polls cond until it holds or the time limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statement builds an xAPI statement.
func statement(id, mbox, verb, object, objectType string, ts time.Time) map[string]any {
	return map[string]any{
		"id":        id,
		"actor":     map[string]any{"objectType": "Agent", "mbox": mbox, "name": strings.TrimPrefix(mbox, "mailto:")},
		"verb":      map[string]any{"id": verb, "display": map[string]any{"en-US": verb[strings.LastIndex(verb, "/")+1:]}},
		"object":    map[string]any{"id": object, "objectType": "Activity", "definition": map[string]any{"type": objectType}},
		"timestamp": ts.UTC().Format(time.RFC3339Nano),
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// syncBuffer is a bytes.Buffer safe for a daemon writing its log while a
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
