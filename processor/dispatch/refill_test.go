package dispatch

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/outbox"
)

// With a schedule bound far below the outbox, every delivery is still
// delivered exactly once, those stored before Run and those enqueued while
// the schedule is full, and the schedule never holds more than its bound.
func TestBoundedScheduleDeliversEverything(t *testing.T) {
	const bound, stored, enqueued = 10, 100, 50
	st := openStore(t)
	var mu sync.Mutex
	got := map[string]int{}
	rcv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	var want []string
	for range stored {
		del := newDelivery(rcv.URL, 200)
		enqueueStored(t, st, del)
		want = append(want, del.ID)
	}
	cfg := fastRetries()
	cfg.MaxScheduled = bound
	d, _ := start(t, st, cfg)

	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			d.mu.Lock()
			n := int64(len(d.items))
			d.mu.Unlock()
			if n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	for range enqueued {
		del := newDelivery(rcv.URL, 200)
		enqueueStored(t, st, del)
		d.Enqueue(del)
		want = append(want, del.ID)
	}
	waitFor(t, 30*time.Second, "every delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(want) && d.Pending() == 0
	})
	close(stop)
	<-sampled
	mu.Lock()
	defer mu.Unlock()
	for _, id := range want {
		if got[id] != 1 {
			t.Errorf("delivery %s received %d times", id, got[id])
		}
	}
	if p := peak.Load(); p > bound {
		t.Errorf("the schedule held %d deliveries, bound %d", p, bound)
	}
	if n := len(records(t, st, false)); n != 0 {
		t.Errorf("%d deliveries left in the outbox", n)
	}
}

// refill schedules the earliest-due deliveries and counts the others.
func TestRefillTakesEarliestDue(t *testing.T) {
	st := openStore(t)
	t0 := time.Now().Add(time.Hour)
	dues := map[string]time.Time{}
	for _, k := range []int{7, 3, 9, 0, 5, 1, 8, 2, 6, 4} {
		del := newDelivery("https://hooks.example.com/x", 100)
		del.NextAttemptAt = t0.Add(time.Duration(k) * time.Minute)
		del.CreatedAt = t0.Add(-time.Duration(k) * time.Hour)
		enqueueStored(t, st, del)
		dues[del.ID] = del.NextAttemptAt
	}
	d, err := New(Config{Store: st, MaxScheduled: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.load(); err != nil {
		t.Fatal(err)
	}
	var scheduled []time.Time
	for id, it := range d.items {
		if !it.due.Equal(dues[id]) {
			t.Errorf("%s scheduled at %s, stored due %s", id, it.due, dues[id])
		}
		scheduled = append(scheduled, it.due)
	}
	slices.SortFunc(scheduled, func(a, b time.Time) int { return a.Compare(b) })
	for i, due := range scheduled {
		if want := t0.Add(time.Duration(i) * time.Minute); !due.Equal(want) {
			t.Errorf("scheduled[%d] due %s, want the %d-th earliest %s", i, due, i, want)
		}
	}
	if len(scheduled) != 4 || d.Pending() != 10 || d.Unscheduled() != 6 {
		t.Errorf("%d scheduled, %d unscheduled, Pending %d; want 4, 6, 10", len(scheduled), d.Unscheduled(), d.Pending())
	}
	// The oldest pending delivery is among the unscheduled ones.
	if got, want := d.oldest(), t0.Add(-9*time.Hour); !got.Equal(want) {
		t.Errorf("oldest = %s, want %s", got, want)
	}
}

// TestMemoryBoundedPastMaxScheduled: 10,000 pending deliveries with room
// for 1,000 in the schedule: the heap grows by the 1,000, not the 10,000.
func TestMemoryBoundedPastMaxScheduled(t *testing.T) {
	const n, bound = 10000, 1000
	st := openStore(t)
	later := time.Now().Add(time.Hour)
	for i := 0; i < n; i += 1000 {
		ds := make([]outbox.Delivery, 1000)
		for j := range ds {
			ds[j] = newDelivery(fmt.Sprintf("https://hooks%d.example.com/journeys", j%50), 3000)
			ds[j].NextAttemptAt = later
		}
		enqueueStored(t, st, ds...)
	}
	before := heapInUse()
	d, _ := start(t, st, Config{MaxScheduled: bound})
	waitFor(t, 30*time.Second, "loading", func() bool { return d.Pending() == n })
	grown := int64(heapInUse()) - int64(before)
	t.Logf("%d pending, %d scheduled: heap +%d bytes", n, bound, grown)
	if grown > bound*1000 {
		t.Errorf("heap grew by %d bytes for a schedule of %d: more than the bound is held", grown, bound)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.items) != bound {
		t.Errorf("%d scheduled, want %d", len(d.items), bound)
	}
}
