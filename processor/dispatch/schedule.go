package dispatch

import (
	"container/heap"
	"net/url"
	"strings"
	"time"
)

// item is the in-memory schedule entry of one pending delivery. It holds
// what scheduling needs and nothing more: the body and the rest of the
// record stay in the store until the attempt starts.
type item struct {
	id      string
	due     time.Time
	created time.Time // Delivery.CreatedAt, for the oldest-age gauge
	host    *host
	state   itemState
	// requeue is set when the delivery was enqueued again (by Replay)
	// while its attempt was in flight: the attempt may have moved it out
	// of the outbox before the replay put it back, so finish must
	// schedule it again at this time instead of forgetting it.
	requeue time.Time
}

// itemState tells where an item is: in the queue heap, parked on its host
// while the host is at its concurrency limit, or in flight.
type itemState uint8

const (
	queued itemState = iota
	parked
	inFlight
)

// host counts the attempts in flight to one URL host and parks the due
// items that wait for a slot there. Hosts are shared by their items, so a
// host name is held once however many deliveries go to it.
type host struct {
	name     string
	inFlight int
	refs     int // items referring to the host
	parked   []*item
}

// queue is a min-heap of queued items by due time.
type queue []*item

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(*item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return it
}

// hostOf returns the scheduling key of a callback URL: its host and port,
// lowercased. A URL that does not parse gets the empty host; its attempt
// dead-letters it.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// add schedules the delivery id, due at due. If it is already scheduled,
// the earlier due time wins; if it is in flight, it is scheduled again when
// the attempt ends. When the schedule is full, it is left to a refill.
// d.mu must be held.
func (d *Dispatcher) add(id, rawURL string, due, created time.Time) {
	if it, ok := d.items[id]; ok {
		switch it.state {
		case inFlight:
			if it.requeue.IsZero() || due.Before(it.requeue) {
				it.requeue = due
			}
		case queued:
			if due.Before(it.due) {
				it.due = due
				heap.Init(&d.queue)
			}
		case parked:
			// Parked items are already due; they start when their host
			// has a free slot.
		}
		return
	}
	if len(d.items) >= d.cfg.MaxScheduled {
		// The delivery is durable in the outbox; a refill schedules it
		// once there is room.
		d.unscheduled++
		d.overflowed++
		if d.unscheduledOldest.IsZero() || created.Before(d.unscheduledOldest) {
			d.unscheduledOldest = created
		}
		return
	}
	name := hostOf(rawURL)
	h := d.hosts[name]
	if h == nil {
		h = &host{name: name}
		d.hosts[name] = h
	}
	h.refs++
	it := &item{id: id, due: due, created: created, host: h}
	d.items[id] = it
	heap.Push(&d.queue, it)
}

// takeDue marks the items due at now as in flight and returns them, as far
// as the overall and per-host limits allow, and the time until the next
// queued item is due (0 when nothing is queued or every slot is taken; a
// finishing attempt wakes Run in that case). d.mu must be held.
func (d *Dispatcher) takeDue(now time.Time) ([]*item, time.Duration) {
	var start []*item
	for d.inFlight < d.cfg.Concurrency && len(d.queue) > 0 {
		it := d.queue[0]
		if it.due.After(now) {
			return start, it.due.Sub(now)
		}
		heap.Pop(&d.queue)
		if it.host.inFlight >= d.cfg.PerHost {
			it.state = parked
			it.host.parked = append(it.host.parked, it)
			continue
		}
		it.state = inFlight
		it.host.inFlight++
		d.inFlight++
		start = append(start, it)
	}
	return start, 0
}

// finish ends the attempt of it: it is scheduled again at next, or forgotten
// when next is zero (delivered, dead-lettered, or no longer in the outbox),
// and the first item parked on its host goes back to the queue to take the
// freed slot. d.mu must be held.
func (d *Dispatcher) finish(it *item, next time.Time) {
	h := it.host
	h.inFlight--
	d.inFlight--
	if len(h.parked) > 0 {
		p := h.parked[0]
		h.parked[0] = nil
		h.parked = h.parked[1:]
		p.state = queued
		heap.Push(&d.queue, p)
	}
	if !it.requeue.IsZero() && (next.IsZero() || it.requeue.Before(next)) {
		next = it.requeue
	}
	it.requeue = time.Time{}
	if !next.IsZero() {
		it.due = next
		it.state = queued
		heap.Push(&d.queue, it)
		return
	}
	delete(d.items, it.id)
	if h.refs--; h.refs == 0 {
		delete(d.hosts, h.name)
	}
}

// oldest returns the creation time of the oldest pending delivery, or the
// zero time when none is pending; for deliveries left in the store it is
// the oldest the last refill saw. d.mu must be held.
func (d *Dispatcher) oldest() time.Time {
	var t time.Time
	if d.unscheduled > 0 {
		t = d.unscheduledOldest
	}
	for _, it := range d.items {
		if t.IsZero() || it.created.Before(t) {
			t = it.created
		}
	}
	return t
}
