package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The secrets of TestNoSecretsInLogs: each distinctive, so that finding
// one anywhere is a leak.
const (
	secretAdmin     = "AdminSecret-7f3a9c"
	secretSigning   = "whsec_am91cm5leXMtc2lnbmluZy1rZXktMGJkMTRlNy14eXo="
	secretHookPass  = "HookPass-51d2"
	secretHookUser  = "hookuser-a8e1"
	secretHookQuery = "QueryToken-93bc"
	secretMongoPass = "MongoPass-c47e"
)

// TestNoSecretsInLogs runs the real daemon with credentials in callback
// URLs, a signing secret, an admin secret, and (in runs that cannot
// connect) a MongoDB URI with a password, drives it through failing and
// dead-lettered callbacks, refused saves and failed logins at debug
// level, and checks that no log line and no error body holds any secret.
func TestNoSecretsInLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	secrets := []string{secretAdmin, secretSigning, strings.TrimPrefix(secretSigning, "whsec_"),
		secretHookPass, secretHookUser, secretHookQuery, secretMongoPass}
	var bodies bytes.Buffer // every error body the API answered

	// Receivers: one always failing (retried, logged at warn), one
	// refusing (dead-lettered, logged at error).
	failing := httpServer(t, http.StatusServiceUnavailable)
	refusing := httpServer(t, http.StatusNotFound)
	hook := func(addr string) string {
		return "http://" + secretHookUser + ":" + secretHookPass + "@" + addr + "/hook?token=" + secretHookQuery
	}

	d := startProc(t, filepath.Join(t.TempDir(), "data"),
		"--callback-allow-private", "--callback-signing-secret", secretSigning,
		"--admin-secret", secretAdmin, "--log-level", "debug")
	defer d.stop()
	call := func(method, path, secret string, body any) (int, []byte) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(method, "http://"+d.addr+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(testAdminKey, secret)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			fmt.Fprintf(&bodies, "%s %s → %d %s\n", method, path, resp.StatusCode, out)
		}
		return resp.StatusCode, out
	}

	j := sentinelJourney()
	j["outcomes"] = []any{
		map[string]any{"type": "callback", "callback": hook(failing)},
		map[string]any{"type": "callback", "callback": hook(refusing)},
	}
	if code, body := call("POST", "/api/v2/journey", secretAdmin, j); code != http.StatusCreated {
		t.Fatalf("create journey: %d %s", code, body)
	}
	// Refused saves whose messages are about the URL.
	for _, bad := range []string{
		"http://" + secretHookUser + ":" + secretHookPass + "@example.com:99999/hook?token=" + secretHookQuery,
		"http://" + secretHookUser + ":" + secretHookPass + "@exa mple.com/hook?token=" + secretHookQuery,
		"ftp://" + secretHookUser + ":" + secretHookPass + "@example.com/hook?token=" + secretHookQuery,
	} {
		bj := sentinelJourney()
		bj["outcomes"] = []any{map[string]any{"type": "callback", "callback": bad}}
		if code, body := call("POST", "/api/v2/journey", secretAdmin, bj); code != http.StatusBadRequest {
			t.Errorf("journey with callback %q: %d %s, want 400", bad, code, body)
		}
	}
	// A failed login with a wrong secret.
	if code, _ := call("GET", "/api/v2/journey", "wrong-"+secretAdmin, nil); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", code)
	}
	// A completion: both callbacks fire.
	st := statement("ffffffff-0000-4000-8000-0000000000b1", "mailto:learner@example.com", verbSentinel, "http://example.com/x", typeCourse, time.Now())
	if code, body := call("POST", "/data/xAPI/statements", secretAdmin, []any{st}); code != http.StatusOK {
		t.Fatalf("ingest: %d %s", code, body)
	}
	waitFor(t, 30*time.Second, "a failed-attempt warning and a dead letter in the log", func() bool {
		log := d.logText()
		return strings.Contains(log, "callback attempt failed; will retry") && strings.Contains(log, "callback dead-lettered")
	})
	// The deliveries as the API lists them (lastError included).
	call("GET", "/api/v2/deliveries?status=dead", secretAdmin, nil)

	// A daemon on MongoDB that cannot connect, and one with a malformed URI.
	for _, uri := range []string{
		"mongodb://lrs:" + secretMongoPass + "@127.0.0.1:1/lrs?serverSelectionTimeoutMS=500&connectTimeoutMS=500",
		"mongodb://lrs:" + secretMongoPass + "@127.0.0.1:notaport/lrs",
	} {
		cmd := exec.Command(binary, "serve", "--data-dir", filepath.Join(t.TempDir(), "m"), "--listen", "127.0.0.1:0",
			"--mongo-uri", uri, "--log-level", "debug", "--log-format", "json")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("journeysd on %s started", uri)
		}
		fmt.Fprintf(&bodies, "%s", out)
		if !strings.Contains(string(out), "journeysd:") {
			t.Errorf("no error message for an unusable MongoDB URI: %s", out)
		}
	}

	all := d.logText() + bodies.String()
	if testing.Verbose() {
		t.Logf("checked:\n%s", all)
	}
	for _, s := range secrets {
		for _, line := range strings.Split(all, "\n") {
			if strings.Contains(line, s) {
				t.Errorf("secret %q leaked: %s", s, line)
			}
		}
	}
	// The redacted forms are there: the test saw the lines it means to.
	for _, want := range []string{"REDACTED@127.0.0.1", "token=REDACTED"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the logs: the URLs were not logged at all?", want)
		}
	}
}

// httpServer starts a server answering every request with code and
// returns its address.
func httpServer(t *testing.T, code int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(code)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// logText returns what the daemon logged so far.
func (p *proc) logText() string { return p.log.String() }
