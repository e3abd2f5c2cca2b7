package dispatch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/outbox"
)

// snapshot is the stored state of a delivery as a receiver saw it when a
// request arrived.
type snapshot struct {
	tries, status int
	lastError     string
	next          time.Time
	err           error
}

func TestRetriesUntilDelivered(t *testing.T) {
	st := openStore(t)
	var (
		mu    sync.Mutex
		snaps []snapshot
	)
	rcv := newReceiver(t, func(n int, req *http.Request, w http.ResponseWriter) {
		// The outcome of the previous attempt must be durable before the
		// next one is made.
		rec, err := lookup(st, false, req.Header.Get("webhook-id"))
		s := snapshot{err: err}
		if rec != nil {
			s = snapshot{tries: rec.Tries, status: rec.LastStatus, lastError: rec.LastError, next: rec.NextAttemptAt}
		}
		mu.Lock()
		snaps = append(snaps, s)
		mu.Unlock()
		if n <= 3 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "database unavailable")
		}
	})
	del := newDelivery(rcv.URL+"/hook?x=1", 2000)
	enqueueStored(t, st, del)
	d, reg := start(t, st, fastRetries())
	d.Enqueue(del)

	waitFor(t, 5*time.Second, "delivery", func() bool { return d.Pending() == 0 })
	reqs := rcv.requests()
	if len(reqs) != 4 {
		t.Fatalf("receiver got %d requests, want 4 (three 500s, then 200)", len(reqs))
	}
	for i, r := range reqs {
		if got := r.header.Get("webhook-id"); got != del.ID {
			t.Errorf("request %d: webhook-id %q, want %q", i+1, got, del.ID)
		}
		if !bytes.Equal(r.body, del.Body) {
			t.Errorf("request %d: body differs from the queued body", i+1)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %d: Content-Type %q", i+1, ct)
		}
		if err := verifyWebhook(testSecret, r.header, r.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("request %d: signature: %v", i+1, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range snaps {
		switch {
		case s.err != nil:
			t.Errorf("request %d: reading the store: %v", i+1, s.err)
		case s.tries != i:
			t.Errorf("request %d: store says %d tries before it, want %d", i+1, s.tries, i)
		case i > 0 && (s.status != 500 || !strings.Contains(s.lastError, "500") || !strings.Contains(s.lastError, "database unavailable")):
			t.Errorf("request %d: stored last status %d, error %q; want the 500 and its body", i+1, s.status, s.lastError)
		case i > 0 && s.next.After(reqs[i].at):
			t.Errorf("request %d at %s, before the stored next attempt %s",
				i+1, reqs[i].at.Format(time.StampMicro), s.next.Format(time.StampMicro))
		case i > 0 && !s.next.After(snaps[i-1].next):
			t.Errorf("request %d: stored next attempt %s does not follow the previous one %s",
				i+1, s.next.Format(time.StampMicro), snaps[i-1].next.Format(time.StampMicro))
		}
	}
	if n := len(records(t, st, false)) + len(records(t, st, true)); n != 0 {
		t.Errorf("%d records left in the outbox and dead letters after delivery", n)
	}
	for result, want := range map[string]float64{"delivered": 1, "retry": 3, "dead": 0, "refused": 0} {
		if got := metric(t, reg, "journeys_callback_deliveries_total", result); got != want {
			t.Errorf("deliveries_total{result=%s} = %v, want %v", result, got, want)
		}
	}
	if got := metric(t, reg, "journeys_callback_attempt_duration_seconds", ""); got != 4 {
		t.Errorf("attempt duration histogram counts %v attempts, want 4", got)
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	del := newDelivery(rcv.URL, 500)
	enqueueStored(t, st, del)
	// The first attempt starts after this, so honouring Retry-After puts
	// the second at least a second after it. Without Retry-After the retry
	// would follow within MaxBackoff (20ms).
	began := time.Now()
	d, _ := start(t, st, fastRetries())
	d.Enqueue(del)

	waitFor(t, 5*time.Second, "delivery", func() bool { return d.Pending() == 0 })
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(began); gap < time.Second {
		t.Errorf("retried %s after the start, with a 429 with Retry-After: 1 in between", gap)
	}
}

func TestPermanentFailureIsDeadLetteredAndReplayable(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "unknown journey")
		}
	})
	del := newDelivery(rcv.URL, 500)
	enqueueStored(t, st, del)
	d, reg := start(t, st, fastRetries())
	d.Enqueue(del)

	waitFor(t, 5*time.Second, "dead letter", func() bool { return d.Pending() == 0 })
	dead := records(t, st, true)[del.ID]
	switch {
	case dead == nil:
		t.Fatal("400 response not dead-lettered")
	case dead.Tries != 1 || dead.LastStatus != 400 || !strings.Contains(dead.LastError, "unknown journey") || dead.DeadAt == nil:
		t.Errorf("dead letter: tries %d, status %d, error %q, deadAt %v", dead.Tries, dead.LastStatus, dead.LastError, dead.DeadAt)
	case !bytes.Equal(dead.Body, del.Body) || dead.URL != del.URL:
		t.Error("dead letter lost the body or URL")
	}
	if n := len(records(t, st, false)); n != 0 {
		t.Errorf("outbox still holds %d records", n)
	}
	if got := metric(t, reg, "journeys_dead_letters", ""); got != 1 {
		t.Errorf("journeys_dead_letters = %v, want 1", got)
	}
	// Many retry intervals later there is still just the one request.
	time.Sleep(50 * time.Millisecond)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("a 400 was retried: %d requests", n)
	}

	if err := d.Replay(context.Background(), del.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "replayed delivery", func() bool { return len(rcv.requests()) == 2 && d.Pending() == 0 })
	if got := rcv.requests()[1].header.Get("webhook-id"); got != del.ID {
		t.Errorf("replay sent webhook-id %q, want %q", got, del.ID)
	}
	if n := len(records(t, st, false)) + len(records(t, st, true)); n != 0 {
		t.Errorf("%d records left after the replay was delivered", n)
	}
	if got := metric(t, reg, "journeys_dead_letters", ""); got != 0 {
		t.Errorf("journeys_dead_letters = %v after replay, want 0", got)
	}
	if err := d.Replay(context.Background(), del.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("replaying a delivered id: %v, want ErrNotFound", err)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	st := openStore(t)
	var (
		mu    sync.Mutex
		first string
	)
	rcv := newReceiver(t, func(n int, req *http.Request, w http.ResponseWriter) {
		if n == 1 {
			// Hang until the dispatcher gives up on the request.
			<-req.Context().Done()
			return
		}
		if rec, err := lookup(st, false, req.Header.Get("webhook-id")); err == nil && rec != nil {
			mu.Lock()
			first = rec.LastError
			mu.Unlock()
		}
	})
	cfg := fastRetries()
	cfg.Timeout = 50 * time.Millisecond
	del := newDelivery(rcv.URL, 500)
	enqueueStored(t, st, del)
	d, _ := start(t, st, cfg)
	d.Enqueue(del)

	waitFor(t, 5*time.Second, "delivery", func() bool { return d.Pending() == 0 })
	if n := len(rcv.requests()); n != 2 {
		t.Fatalf("receiver got %d requests, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(first, "no response within 50ms") {
		t.Errorf("stored error after the timeout: %q", first)
	}
}

func TestRetryWindowExpiry(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, status(http.StatusServiceUnavailable))
	cfg := fastRetries()
	cfg.RetryWindow = 150 * time.Millisecond
	del := newDelivery(rcv.URL, 500)
	enqueueStored(t, st, del)
	d, reg := start(t, st, cfg)
	d.Enqueue(del)

	waitFor(t, 5*time.Second, "dead letter", func() bool { return d.Pending() == 0 })
	dead := records(t, st, true)[del.ID]
	if dead == nil {
		t.Fatal("not dead-lettered after the retry window")
	}
	end := del.CreatedAt.Add(cfg.RetryWindow)
	reqs := rcv.requests()
	if len(reqs) < 3 || dead.Tries != len(reqs) {
		t.Errorf("%d requests, %d tries recorded; want several, equal", len(reqs), dead.Tries)
	}
	if last := reqs[len(reqs)-1].at; last.Before(end) {
		t.Errorf("last attempt at %s, before the window's end %s", last, end)
	}
	if !strings.Contains(dead.LastError, "503") || !strings.Contains(dead.LastError, "retry window") {
		t.Errorf("dead letter error %q", dead.LastError)
	}
	if got := metric(t, reg, "journeys_callback_deliveries_total", "dead"); got != 1 {
		t.Errorf("deliveries_total{result=dead} = %v, want 1", got)
	}
}

func TestResumesOnSchedule(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, status(http.StatusNoContent))
	later := newDelivery(rcv.URL, 500)
	later.Tries, later.LastStatus, later.LastError = 2, 502, "HTTP 502 Bad Gateway"
	later.NextAttemptAt = time.Now().Add(300 * time.Millisecond)
	now := newDelivery(rcv.URL, 500)
	// What a previous process left in the store; nothing is enqueued.
	enqueueStored(t, st, later, now)
	d, reg := start(t, st, fastRetries())

	waitFor(t, 5*time.Second, "delivery of both", func() bool { return len(rcv.requests()) == 2 && d.Pending() == 0 })
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	if got := reqs[0].header.Get("webhook-id"); got != now.ID {
		t.Errorf("first request was %s, want the delivery already due", got)
	}
	if reqs[1].at.Before(later.NextAttemptAt) {
		t.Errorf("delivery due at %s attempted at %s", later.NextAttemptAt, reqs[1].at)
	}
	if got := metric(t, reg, "journeys_callback_deliveries_total", "delivered"); got != 2 {
		t.Errorf("delivered = %v, want 2", got)
	}
}

func TestShutdownLeavesUnfinishedAttemptsPending(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	rcv := newReceiver(t, func(n int, req *http.Request, w http.ResponseWriter) {
		if n == 1 {
			select {
			case <-req.Context().Done():
			case <-release:
			}
		}
	})
	defer close(release)
	del := newDelivery(rcv.URL, 500)
	enqueueStored(t, st, del)

	cfg := fastRetries()
	cfg.Store, cfg.Drain = st, 50*time.Millisecond
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, 5*time.Second, "the attempt", func() bool { return len(rcv.requests()) == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancellation with a 50ms drain bound")
	}
	rec := records(t, st, false)[del.ID]
	if rec == nil || rec.Tries != 0 || rec.LastError != "" {
		t.Fatalf("abandoned attempt changed the stored delivery: %+v", rec)
	}

	// The next process delivers it.
	d2, _ := start(t, st, fastRetries())
	waitFor(t, 5*time.Second, "delivery after restart", func() bool { return len(rcv.requests()) == 2 && d2.Pending() == 0 })
}

func TestSlowReceiverThousandCompletions(t *testing.T) {
	const (
		n        = 1000
		bodySize = 16 << 10
		perHost  = 8
	)
	st := openStore(t)
	var (
		mu             sync.Mutex
		seen           = map[string]int{}
		active, maxAct int
	)
	// The receiver keeps ids only: holding 16 MB of bodies here would
	// hide what the dispatcher holds.
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		mu.Lock()
		active++
		maxAct = max(maxAct, active)
		seen[req.Header.Get("webhook-id")]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		active--
		mu.Unlock()
	}))
	defer rcv.Close()
	ds := make([]outbox.Delivery, n)
	for i := range ds {
		ds[i] = newDelivery(rcv.URL, bodySize)
	}
	for i := 0; i < n; i += 100 {
		enqueueStored(t, st, ds[i:i+100]...)
	}
	base := heapInUse()
	cfg := fastRetries()
	cfg.PerHost = perHost
	d, _ := start(t, st, cfg)

	waitFor(t, 30*time.Second, "half the deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= n/2 })
	// Mid-run, with 500 deliveries pending: the schedule must not hold
	// their bodies (8 MB).
	grown := int64(heapInUse()) - int64(base)
	if grown > n/2*bodySize/4 {
		t.Errorf("heap grew by %d bytes with %d bodies of %d bytes pending", grown, n/2, bodySize)
	}
	waitFor(t, 30*time.Second, "every delivery", func() bool { return d.Pending() == 0 })
	mu.Lock()
	defer mu.Unlock()
	for _, del := range ds {
		if seen[del.ID] != 1 {
			t.Errorf("delivery %s received %d times", del.ID, seen[del.ID])
		}
	}
	if maxAct > perHost {
		t.Errorf("%d requests in flight at once to one host, limit %d", maxAct, perHost)
	}
	t.Logf("%d deliveries, at most %d in flight; heap +%d bytes with %d pending", len(seen), maxAct, grown, n/2)
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	// Two collections: the first moves pooled buffers (Pebble's batches)
	// to sync.Pool's victim cache, the second frees them.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestEnqueueAndLoadDoNotDuplicate(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, status(http.StatusOK))
	del := newDelivery(rcv.URL, 500)
	enqueueStored(t, st, del)
	d, _ := start(t, st, fastRetries())
	// Enqueued while Run also loads it from the store.
	d.Enqueue(del, del)
	waitFor(t, 5*time.Second, "delivery", func() bool { return d.Pending() == 0 })
	time.Sleep(30 * time.Millisecond)
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("delivery sent %d times, want once", n)
	}
}
