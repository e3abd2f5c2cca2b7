package dispatch

import (
	"slices"
	"testing"
	"time"
)

// newSchedule returns a dispatcher with only its schedule set up.
func newSchedule(concurrency, perHost int) *Dispatcher {
	return &Dispatcher{
		cfg:   Config{Concurrency: concurrency, PerHost: perHost, MaxScheduled: DefaultMaxScheduled},
		items: map[string]*item{},
		hosts: map[string]*host{},
	}
}

func ids(its []*item) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = it.id
	}
	return out
}

func TestScheduleLimits(t *testing.T) {
	d := newSchedule(3, 2)
	t0 := time.Unix(1000, 0)
	// Due in this order; a1..a3 share a host (case-insensitively).
	d.add("a1", "https://a.example/x", t0, t0)
	d.add("a2", "https://A.example/y", t0.Add(1), t0)
	d.add("a3", "https://a.example/z", t0.Add(2), t0)
	d.add("b1", "https://b.example/", t0.Add(3), t0)
	d.add("c1", "https://c.example/", t0.Add(time.Minute), t0)

	start, wait := d.takeDue(t0.Add(time.Second))
	// a3 is parked (its host has 2 in flight); b1 takes the third slot.
	if got := ids(start); !slices.Equal(got, []string{"a1", "a2", "b1"}) {
		t.Fatalf("started %v", got)
	}
	if wait != 0 {
		t.Errorf("all slots taken, yet told to wait %s", wait)
	}
	if d.items["a3"].state != parked || len(d.hosts) != 3 {
		t.Fatalf("a3 state %d, %d hosts", d.items["a3"].state, len(d.hosts))
	}

	// b1 finishes for good: a slot frees, but a's host is still full.
	d.finish(d.items["b1"], time.Time{})
	start, wait = d.takeDue(t0.Add(time.Second))
	if len(start) != 0 || wait != time.Minute-time.Second {
		t.Fatalf("started %v, wait %s; want nothing until c1 is due", ids(start), wait)
	}
	if _, ok := d.hosts["b.example"]; ok {
		t.Error("host b kept after its last delivery left")
	}

	// a1 will be retried later: its slot goes to the parked a3.
	d.finish(d.items["a1"], t0.Add(time.Hour))
	start, _ = d.takeDue(t0.Add(time.Second))
	if got := ids(start); !slices.Equal(got, []string{"a3"}) {
		t.Fatalf("after a1 finished, started %v, want [a3]", got)
	}
	if len(d.items) != 4 || d.inFlight != 2 {
		t.Errorf("%d items, %d in flight; want 4 and 2", len(d.items), d.inFlight)
	}
}

func TestScheduleRequeue(t *testing.T) {
	d := newSchedule(4, 4)
	t0 := time.Unix(1000, 0)
	d.add("x", "https://x.example/", t0, t0)
	d.add("x", "https://x.example/", t0.Add(-time.Second), t0)
	if due := d.items["x"].due; !due.Equal(t0.Add(-time.Second)) {
		t.Errorf("an earlier due time did not win: %s", due)
	}
	d.add("x", "https://x.example/", t0.Add(time.Hour), t0)
	if due := d.items["x"].due; !due.Equal(t0.Add(-time.Second)) {
		t.Errorf("a later due time replaced an earlier one: %s", due)
	}
	start, _ := d.takeDue(t0)
	if len(start) != 1 {
		t.Fatalf("started %d", len(start))
	}
	// Replayed while in flight: the attempt may have moved it out of the
	// outbox, so it must not be forgotten when the attempt ends.
	d.add("x", "https://x.example/", t0.Add(time.Minute), t0)
	d.finish(start[0], time.Time{})
	it := d.items["x"]
	if it == nil || it.state != queued || !it.due.Equal(t0.Add(time.Minute)) {
		t.Fatalf("replayed in-flight delivery: %+v", it)
	}
	if len(d.queue) != 1 {
		t.Errorf("queue holds %d items", len(d.queue))
	}
}
