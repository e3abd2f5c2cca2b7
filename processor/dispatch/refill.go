package dispatch

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/journeys/journeys/processor/outbox"
)

// The in-memory schedule holds at most Config.MaxScheduled deliveries, so
// the dispatcher's memory does not grow with the outbox (docs/design.md
// §11). Deliveries past the bound stay in the store only, counted in
// unscheduled; when the schedule has drained to half the bound, refill
// scans the outbox and schedules the earliest-due of them. Nothing is
// lost by leaving a delivery unscheduled: it is durable in the outbox, and
// the schedule only ever decides when to attempt it.

// candidate is an outbox delivery considered by refill.
type candidate struct {
	id, url      string
	due, created time.Time
}

// latestFirst is a max-heap of candidates by due time: its root is the
// candidate refill drops first when a more urgent one comes along.
type latestFirst []candidate

func (h latestFirst) Len() int           { return len(h) }
func (h latestFirst) Less(i, j int) bool { return h[i].due.After(h[j].due) }
func (h latestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *latestFirst) Push(x any)        { *h = append(*h, x.(candidate)) }
func (h *latestFirst) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// needsRefill reports whether deliveries wait in the store only and the
// schedule has room for them. d.mu must be held.
func (d *Dispatcher) needsRefill() bool {
	return d.unscheduled > 0 && len(d.items) <= d.cfg.MaxScheduled/2
}

// refill schedules the earliest-due outbox deliveries that are not
// scheduled, as many as fit under Config.MaxScheduled, and counts the rest
// as unscheduled. It reads the whole outbox once; the schedule keeps
// running meanwhile.
func (d *Dispatcher) refill() error {
	d.mu.Lock()
	room := d.cfg.MaxScheduled - len(d.items)
	// Deliveries enqueued past the bound from now on may or may not be in
	// the scan's view: they are counted again below, so the count errs on
	// the high side, which only costs a later refill that finds less.
	overflowedBefore := d.overflowed
	d.mu.Unlock()

	var pick latestFirst
	rest := 0
	var restOldest time.Time
	leave := func(c candidate) {
		rest++
		if restOldest.IsZero() || c.created.Before(restOldest) {
			restOldest = c.created
		}
	}
	err := d.store.ScanOutbox(func(id, v []byte) error {
		d.mu.Lock()
		_, scheduled := d.items[string(id)]
		d.mu.Unlock()
		if scheduled {
			return nil
		}
		del, err := outbox.Decode(v)
		if err != nil {
			// One unreadable record must not stop every other delivery;
			// it stays in the store for an operator to inspect.
			d.cfg.Logger.Error("skipping unreadable outbox record", "id", string(id), "err", err)
			return nil
		}
		c := candidate{id: del.ID, url: del.URL, due: del.NextAttemptAt, created: del.CreatedAt}
		switch {
		case len(pick) < room:
			heap.Push(&pick, c)
		case room > 0 && c.due.Before(pick[0].due):
			leave(pick[0])
			pick[0] = c
			heap.Fix(&pick, 0)
		default:
			leave(c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("dispatch: load outbox: %w", err)
	}
	d.mu.Lock()
	d.unscheduled, d.unscheduledOldest = rest+(d.overflowed-overflowedBefore), restOldest
	for _, c := range pick {
		d.add(c.id, c.url, c.due, c.created)
	}
	d.mu.Unlock()
	return nil
}
