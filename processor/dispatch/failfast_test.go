package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Callbacks that can never succeed are dead-lettered at their first
// attempt, not retried for the retry window.
func TestUndeliverableTargetsFailFast(t *testing.T) {
	st := openStore(t)
	toFile := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	toBadPort := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		w.Header().Set("Location", "http://127.0.0.1:99999/hook")
		w.WriteHeader(http.StatusPermanentRedirect)
	})
	dels := map[string]string{ // URL → what the error must say
		toFile.URL:                    "file:///etc/passwd is not an absolute http(s) URL",
		toBadPort.URL:                 "port 99999",
		"http://127.0.0.1:99999/hook": "port 99999",
		"http://127.0.0.1:0/hook":     "port 0",
	}
	for u := range dels {
		enqueueStored(t, st, newDelivery(u, 100))
	}
	// A retry window of an hour: only a first-attempt verdict finishes
	// within the wait below.
	cfg := fastRetries()
	cfg.RetryWindow = time.Hour
	d, reg := start(t, st, cfg)
	waitFor(t, 5*time.Second, "all dead-lettered", func() bool { return len(records(t, st, true)) == len(dels) && d.Pending() == 0 })
	for _, del := range records(t, st, true) {
		want := dels[del.URL]
		if del.Tries != 1 || !strings.Contains(del.LastError, "invalid callback URL") || !strings.Contains(del.LastError, want) {
			t.Errorf("%s: tries %d, error %q; want one attempt failing with %q", del.URL, del.Tries, del.LastError, want)
		}
	}
	if got := metric(t, reg, "journeys_callback_deliveries_total", "dead"); got != float64(len(dels)) {
		t.Errorf("deliveries_total{result=dead} = %v, want %d", got, len(dels))
	}
}

// A connection that fails before any response (here: the first connection
// is closed unanswered) is retried within the attempt, so the delivery
// succeeds at its first attempt instead of waiting for the durable backoff.
func TestConnectionFailureRetriedWithinAttempt(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, status(http.StatusNoContent))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if conns.Add(1) == 1 {
				c.Close() // the first connection dies unanswered
				continue
			}
			go proxy(c, strings.TrimPrefix(rcv.URL, "http://"))
		}
	}()
	t.Cleanup(func() { ln.Close() })
	del := newDelivery("http://"+ln.Addr().String()+"/hook", 100)
	enqueueStored(t, st, del)
	cfg := fastRetries()
	cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour // a durable retry would not come in time
	d, reg := start(t, st, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, reg, "journeys_callback_deliveries_total", "delivered") != 1 || d.Pending() != 0 {
		if time.Now().After(deadline) {
			for _, del := range records(t, st, false) {
				t.Logf("pending: tries %d, status %d, error %q", del.Tries, del.LastStatus, del.LastError)
			}
			t.Fatalf("not delivered at the first attempt (%d connections)", conns.Load())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("receiver got %d requests, want 1; dead letters %+v", n, records(t, st, true))
	}
	if got := metric(t, reg, "journeys_callback_deliveries_total", "retry"); got != 0 {
		t.Errorf("a durable retry was scheduled (%v)", got)
	}
	if conns.Load() < 2 {
		t.Errorf("%d connections, want the failed one and the retry", conns.Load())
	}
}

// proxy copies between c and a new connection to addr until either closes.
func proxy(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = copyConn(up, c); done <- struct{}{} }()
	go func() { _, _ = copyConn(c, up); done <- struct{}{} }()
	<-done
}

func copyConn(dst, src net.Conn) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// staticResolver resolves every name to its addresses, or fails.
type staticResolver map[string][]netip.Addr

func (r staticResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckTarget(t *testing.T) {
	st := openStore(t)
	d, err := New(Config{Store: st, Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}})
	if err != nil {
		t.Fatal(err)
	}
	d.resolver = staticResolver{
		"public.example":  {netip.MustParseAddr("93.184.216.34")},
		"inside.example":  {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")},
		"allowed.example": {netip.MustParseAddr("10.9.1.1")},
	}
	tests := []struct {
		url  string
		want string // substring of the error; "" for accepted
	}{
		{"https://public.example/hook", ""},
		{"https://unknown.example/hook", ""}, // may resolve later; checked when dialled
		{"https://allowed.example/hook", ""},
		{"https://93.184.216.34/hook", ""},
		{"http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address (allowed only with --callback-allow-private"},
		{"http://user:s3cret@[::1]/hook", "::1 is a loopback address"},
		{"https://inside.example/hook", "inside.example resolves to callback target refused: 10.0.0.7 is a private address"},
		{"https://public.example:99999/hook", "port 99999"},
		{"ftp://public.example/hook", "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		err := d.CheckTarget(context.Background(), tt.url)
		if tt.want == "" {
			if err != nil {
				t.Errorf("CheckTarget(%q) = %v, want accepted", tt.url, err)
			}
			continue
		}
		if !errors.Is(err, ErrRefusedTarget) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckTarget(%q) = %v, want ErrRefusedTarget with %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("CheckTarget(%q) error leaks the password: %v", tt.url, err)
		}
	}
}

func TestConnectionFailure(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "http://x/", Err: err} }
	tests := []struct {
		err  error
		want bool
	}{
		{wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), true},
		{wrap(io.EOF), true},
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(errors.New("http: server closed idle connection")), true},
		{wrap(context.DeadlineExceeded), false},
		{wrap(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}), false},
		{wrap(fmt.Errorf("%w: 127.0.0.1 is a loopback address", errRefused)), false},
		{wrap(fmt.Errorf("redirect: %w", errInvalidTarget)), false},
		{wrap(errors.New("tls: failed to verify certificate")), false},
	}
	for _, tt := range tests {
		if got := connectionFailure(tt.err); got != tt.want {
			t.Errorf("connectionFailure(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
