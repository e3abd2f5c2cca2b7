package dispatch

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/state"
)

// testSecret is a Standard Webhooks secret (24 key bytes).
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// openStore opens a store in a temporary directory, closed at cleanup.
func openStore(t testing.TB) *state.Store {
	t.Helper()
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newDelivery returns a delivery to url, due now, whose body is JSON of
// about size bytes shaped like a callback.
func newDelivery(url string, size int) outbox.Delivery {
	j, o := primitive.NewObjectID(), primitive.NewObjectID()
	owner := []byte("mailto:" + primitive.NewObjectID().Hex() + "@example.com")
	body, err := json.Marshal(map[string]any{
		"owner":       map[string]any{"trackBy": "actor", "ident": map[string]any{"mbox": string(owner), "objectType": "Agent"}},
		"journey":     map[string]any{"_id": j.Hex(), "name": "Onboarding <&>", "padding": strings.Repeat("x", max(size-200, 0))},
		"completedAt": "2024-05-01T10:00:00.000Z",
	})
	if err != nil {
		panic(err)
	}
	now := time.Now()
	return outbox.Delivery{
		ID: outbox.ID(j, owner, 1, o), Journey: j, Organisation: primitive.NewObjectID(), Owner: owner,
		Attempt: 1, Outcome: o, URL: url, Body: body, CreatedAt: now, NextAttemptAt: now,
	}
}

// enqueueStored commits ds to the outbox, as the engine does with a completion.
func enqueueStored(t testing.TB, st *state.Store, ds ...outbox.Delivery) {
	t.Helper()
	b := st.NewBatch()
	defer b.Close()
	for i := range ds {
		v, err := ds[i].Encode()
		if err != nil {
			t.Fatal(err)
		}
		b.PutOutbox([]byte(ds[i].ID), v)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

// lookup returns the delivery id from the outbox (dead false) or the dead
// letters (dead true), or nil when it is not there.
func lookup(st *state.Store, dead bool, id string) (*outbox.Delivery, error) {
	var out *outbox.Delivery
	scan := st.ScanOutbox
	if dead {
		scan = st.ScanDead
	}
	err := scan(func(k, v []byte) error {
		if string(k) != id {
			return nil
		}
		var err error
		out, err = outbox.Decode(v)
		return err
	})
	return out, err
}

// records returns the deliveries of the outbox (dead false) or of the dead
// letters (dead true), by id.
func records(t testing.TB, st *state.Store, dead bool) map[string]*outbox.Delivery {
	t.Helper()
	out := map[string]*outbox.Delivery{}
	scan := st.ScanOutbox
	if dead {
		scan = st.ScanDead
	}
	if err := scan(func(id, v []byte) error {
		d, err := outbox.Decode(v)
		if err != nil {
			return err
		}
		if d.ID != string(id) {
			return fmt.Errorf("record %s holds delivery %s", id, d.ID)
		}
		out[d.ID] = d
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// start creates a dispatcher for cfg (store st) and runs it until
// cleanup, which cancels it and waits for Run to return. The probe counts
// the attempt durations the dispatcher reports.
func start(t testing.TB, st *state.Store, cfg Config) (*Dispatcher, *probe) {
	t.Helper()
	cfg.Store = st
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &probe{d: d}
	d.Stats().AttemptDuration = func(float64) { p.durations.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return d, p
}

// probe reads what a dispatcher reports for its metrics.
type probe struct {
	d         *Dispatcher
	durations atomic.Int64
}

// fastRetries is a test configuration with millisecond backoff that may
// reach the httptest receivers, which listen on 127.0.0.1.
func fastRetries() Config {
	return Config{
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, SigningSecret: testSecret,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}
}

// metric returns what the dispatcher reports for the metric name (with
// label result=result when result is not empty), as package ops exports
// it.
func metric(t testing.TB, p *probe, name, result string) float64 {
	t.Helper()
	s := p.d.Stats()
	switch {
	case name == "journeys_callback_deliveries_total" && result == "delivered":
		return float64(s.Delivered.Load())
	case name == "journeys_callback_deliveries_total" && result == "retry":
		return float64(s.Retried.Load())
	case name == "journeys_callback_deliveries_total" && result == "dead":
		return float64(s.Dead.Load())
	case name == "journeys_callback_deliveries_total" && result == "refused":
		return float64(s.Refused.Load())
	case name == "journeys_callback_attempt_duration_seconds":
		return float64(p.durations.Load())
	case name == "journeys_dead_letters":
		return float64(p.d.DeadLetters())
	}
	t.Fatalf("metric %s{result=%q} not known", name, result)
	return 0
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// request is one request a receiver got.
type request struct {
	at     time.Time
	method string
	header http.Header
	body   []byte
}

// receiver is an HTTP endpoint that records requests and answers each
// with respond, n counting requests from 1.
type receiver struct {
	*httptest.Server
	respond func(n int, req *http.Request, w http.ResponseWriter)

	mu   sync.Mutex
	reqs []request
}

// newReceiver starts a receiver, closed at cleanup.
func newReceiver(t testing.TB, respond func(n int, req *http.Request, w http.ResponseWriter)) *receiver {
	r := &receiver{respond: respond}
	r.Server = httptest.NewServer(r)
	t.Cleanup(r.Close)
	return r
}

// ServeHTTP implements http.Handler.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, request{at: time.Now(), method: req.Method, header: req.Header.Clone(), body: body})
	n := len(r.reqs)
	r.mu.Unlock()
	r.respond(n, req, w)
}

// requests returns a copy of the requests received so far.
func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// status answers every request with code.
func status(code int) func(int, *http.Request, http.ResponseWriter) {
	return func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(code) }
}

// verifyWebhook verifies a request the way a Standard Webhooks receiver
// does, independently of the dispatcher's signer: the key is the base64
// after "whsec_", the signed content is "id.timestamp.body", any of the
// space-separated "v1,<base64>" signatures may match (compared in constant
// time), and the timestamp must be within tolerance of now.
func verifyWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %s off by %s", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}
