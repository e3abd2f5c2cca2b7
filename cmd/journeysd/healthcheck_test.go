package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// probe runs the healthcheck command and returns its output and error.
func probe(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runHealthcheck(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestHealthcheck(t *testing.T) {
	var readyErr string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.Write([]byte(`{"status":"ok"}`))
		case r.URL.Path == "/readyz" && readyErr != "":
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "message": readyErr})
		case r.URL.Path == "/readyz":
			w.Write([]byte(`{"status":"ready"}`))
		case r.URL.Path == "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	out, err := probe(t, "--listen", addr)
	if err != nil || !strings.Contains(out, "healthy: GET http://"+addr+"/healthz: 200") {
		t.Errorf("healthy daemon: err %v, output %q", err, out)
	}

	readyErr = "change stream not connected"
	_, err = probe(t, "--listen", addr, "--path", "/readyz")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), readyErr) {
		t.Errorf("unready daemon: err %v (exit %d), want exit 1 naming the status and the reason", err, exitCode(err))
	}
	readyErr = ""
	if _, err := probe(t, "--listen", addr, "--path", "/readyz"); err != nil {
		t.Errorf("ready daemon: %v", err)
	}

	start := time.Now()
	_, err = probe(t, "--listen", addr, "--path", "/slow", "--timeout", "100ms")
	if err == nil || exitCode(err) != 1 || time.Since(start) > 900*time.Millisecond {
		t.Errorf("hung daemon: err %v after %v, want exit 1 within the timeout", err, time.Since(start))
	}

	// The container's JOURNEYS_LISTEN tells the probe where the daemon is.
	t.Setenv("JOURNEYS_LISTEN", addr)
	if out, err := probe(t); err != nil || !strings.Contains(out, addr) {
		t.Errorf("address from JOURNEYS_LISTEN: err %v, output %q", err, out)
	}
}

func TestHealthcheckNoDaemon(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := probe(t, "--listen", addr); err == nil || exitCode(err) != 1 {
		t.Errorf("nothing listening: err %v (exit %d), want exit 1", err, exitCode(err))
	}
	// Usage errors are not health verdicts.
	for _, args := range [][]string{{"--listen", "8080"}, {"--path", "healthz"}, {"--bogus"}} {
		if _, err := probe(t, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("%q: err %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}

func TestProbeURL(t *testing.T) {
	for _, c := range []struct{ listen, want string }{
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz"},
		{"[::]:9000", "http://[::1]:9000/healthz"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/healthz"},
		{"10.1.2.3:8080", "http://10.1.2.3:8080/healthz"},
		{"[fd00::1]:8080", "http://[fd00::1]:8080/healthz"},
		{"localhost:8080", "http://localhost:8080/healthz"},
	} {
		got, err := probeURL(c.listen, "/healthz")
		if err != nil || got != c.want {
			t.Errorf("probeURL(%q) = %q, %v; want %q", c.listen, got, err, c.want)
		}
	}
}

// TestHealthcheckDaemon probes a real journeysd: alive and ready while it
// runs, unhealthy once it stopped.
func TestHealthcheckDaemon(t *testing.T) {
	p := startProc(t, t.TempDir())
	for _, path := range []string{"/healthz", "/readyz"} {
		if out, err := probe(t, "--listen", p.addr, "--path", path); err != nil {
			t.Errorf("%s of a running daemon: %v (%s)", path, err, out)
		}
	}
	p.stop()
	if _, err := probe(t, "--listen", p.addr); err == nil || exitCode(err) != 1 {
		t.Errorf("stopped daemon: err %v, want unhealthy", err)
	}
}

// TestDockerfileHealthcheck keeps the Dockerfile's HEALTHCHECK in step
// with this command: it must run this binary's healthcheck with flags it
// accepts, and reach the port the image exposes and the daemon listens on.
func TestDockerfileHealthcheck(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, then read the final stage's instructions.
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(raw), " ")
	stages := strings.Split(text, "\nFROM ")
	final := stages[len(stages)-1]
	instr := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + ` (.*)$`).FindStringSubmatch(final)
		if m == nil {
			t.Fatalf("final stage has no %s", name)
		}
		return m[1]
	}
	var entry, check []string
	if err := json.Unmarshal([]byte(instr("ENTRYPOINT")), &entry); err != nil || len(entry) != 1 {
		t.Fatalf("ENTRYPOINT %q: want an exec-form binary path", instr("ENTRYPOINT"))
	}
	hc := instr("HEALTHCHECK")
	i := strings.Index(hc, "CMD ")
	if i < 0 {
		t.Fatalf("HEALTHCHECK %q has no CMD", hc)
	}
	if err := json.Unmarshal([]byte(hc[i+len("CMD "):]), &check); err != nil || len(check) < 2 {
		t.Fatalf("HEALTHCHECK %q: want the exec form (the image has no shell)", hc)
	}
	if check[0] != entry[0] || check[1] != "healthcheck" {
		t.Errorf("HEALTHCHECK runs %q, want %s healthcheck", check, entry[0])
	}
	c, err := parseHealthcheck(check[2:], new(bytes.Buffer))
	if err != nil {
		t.Fatalf("HEALTHCHECK flags %q: %v", check[2:], err)
	}
	listen := regexp.MustCompile(`JOURNEYS_LISTEN=(\S+)`).FindStringSubmatch(instr("ENV"))
	if listen == nil {
		t.Fatal("the image does not set JOURNEYS_LISTEN: the default loopback address is unreachable from outside the container")
	}
	_, port, err := net.SplitHostPort(listen[1])
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\b` + port + `\b`).MatchString(instr("EXPOSE")) {
		t.Errorf("EXPOSE %s does not include the listening port %s", instr("EXPOSE"), port)
	}
	u, err := probeURL(listen[1], c.Path)
	if want := "http://127.0.0.1:" + port + "/healthz"; err != nil || u != want {
		t.Errorf("the image's health check probes %q (%v), want %q", u, err, want)
	}
	build := regexp.MustCompile(`(?m)^RUN .*go build.*$`).FindString(strings.Join(stages[:len(stages)-1], "\n"))
	if !strings.Contains(build, "CGO_ENABLED=1") || !strings.Contains(build, "-trimpath") {
		t.Errorf("build step %q: want CGO_ENABLED=1 (Pebble's caches off the Go heap) and -trimpath, as .ci/run builds", build)
	}
	// A cgo binary links glibc: the final base must carry it (distroless
	// static has no libc), from the build stage's Debian release.
	base := strings.Fields(final)[0]
	builder := strings.Fields(stages[len(stages)-2])[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/base-") && !strings.HasPrefix(base, "gcr.io/distroless/cc-") {
		t.Errorf("final base %q has no glibc for a cgo binary: want gcr.io/distroless/base-… or cc-…", base)
	}
	if release := regexp.MustCompile(`debian(\d+)`).FindStringSubmatch(base); release == nil || !strings.Contains(builder, map[string]string{"11": "bullseye", "12": "bookworm", "13": "trixie"}[release[1]]) {
		t.Errorf("final base %q and build image %q: want the same Debian release (the binary links the build stage's glibc)", base, builder)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`CGO_ENABLED=1 go build -trimpath`).Match(ci) {
		t.Error(".ci/run does not build the binary as the image does (CGO_ENABLED=1 go build -trimpath)")
	}
}
