package dispatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/journeys/journeys/state"
)

// childEnv names the environment variable that turns the test binary into
// a dispatcher daemon on the store directory it holds (see runChild).
const childEnv = "JOURNEYS_DISPATCH_CHILD_STORE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(m.Run())
}

// runChild runs a dispatcher on the durable (synced) store in dir until
// SIGTERM, logging JSON at debug level to stderr, and returns the exit
// status.
func runChild(dir string) int {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := state.Open(dir, state.Options{})
	if err != nil {
		log.Error("open store", "err", err)
		return 1
	}
	d, err := New(Config{
		Store: st, Logger: log, SigningSecret: testSecret,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	if err != nil {
		log.Error("new dispatcher", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := d.Run(ctx); err != nil {
		log.Error("run", "err", err)
		return 1
	}
	if err := st.Close(); err != nil {
		log.Error("close store", "err", err)
		return 1
	}
	return 0
}

// child is a running dispatcher subprocess.
type child struct {
	cmd  *exec.Cmd
	msgs chan string // the msg of each log line
}

// startChild starts a dispatcher subprocess on the store in dir.
func startChild(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, msgs: make(chan string, 1024)}
	go func() {
		defer close(c.msgs)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Err string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				line.Msg = sc.Text()
			}
			if line.Err != "" {
				line.Msg += ": " + line.Err
			}
			c.msgs <- line.Msg
		}
	}()
	return c
}

// await waits for n log lines starting with msg, failing on timeout or if
// the child exits first.
func (c *child) await(t *testing.T, msg string, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for n > 0 {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				t.Fatalf("child exited while waiting for %q", msg)
			}
			if strings.HasPrefix(m, msg) {
				n--
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %q from the child", msg)
		}
	}
}

func TestSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	// An address where nothing listens yet: the receiver is down.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	del := newDelivery("http://"+addr+"/hook", 2000)
	st, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	enqueueStored(t, st, del)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	c := startChild(t, dir)
	c.await(t, "callback attempt failed; will retry", 2)
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()

	// The attempts made before the kill are on disk.
	st, err = state.Open(dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := lookup(st, false, del.ID)
	if err != nil || rec == nil {
		t.Fatalf("delivery lost by SIGKILL: %v", err)
	}
	if rec.Tries < 2 || rec.LastStatus != 0 || !strings.Contains(rec.LastError, "connection refused") || !rec.NextAttemptAt.After(del.CreatedAt) {
		t.Errorf("after SIGKILL the store holds tries %d, status %d, error %q, next %s", rec.Tries, rec.LastStatus, rec.LastError, rec.NextAttemptAt)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// The receiver comes up, then the daemon restarts.
	rcv := &receiver{respond: status(http.StatusOK)}
	rcv.Server = httptest.NewUnstartedServer(rcv)
	rcv.Listener.Close()
	if rcv.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Fatalf("receiver cannot take back %s: %v", addr, err)
	}
	rcv.Start()
	defer rcv.Close()
	c = startChild(t, dir)
	c.await(t, "callback delivered", 1)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child after SIGTERM: %v", err)
	}

	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.header.Get("webhook-id") != del.ID || !bytes.Equal(r.body, del.Body) {
		t.Errorf("delivered webhook-id %q with %d body bytes; want %q and the queued body", r.header.Get("webhook-id"), len(r.body), del.ID)
	}
	if err := verifyWebhook(testSecret, r.header, r.body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
	st, err = state.Open(dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := len(records(t, st, false)) + len(records(t, st, true)); n != 0 {
		t.Errorf("%d records left after delivery", n)
	}
}
