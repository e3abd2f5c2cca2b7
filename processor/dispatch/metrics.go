package dispatch

import (
	"sync/atomic"
	"time"
)

// Stats counts what the dispatcher did. It is exported as metrics by the
// collector in package ops, which loads the counters when scraped while the
// dispatcher adds to them.
type Stats struct {
	// Delivered, Retried, Dead and Refused count delivery attempts by
	// outcome: delivered (2xx); retried (5xx, 408, 429, a timeout or a
	// network error: to be retried); dead (dead-lettered: a permanent
	// failure, or the retry window ran out); refused (the target address is
	// not allowed; dead-lettered).
	Delivered, Retried, Dead, Refused atomic.Uint64
	// AttemptDuration, when set, observes the duration in seconds of each
	// attempt, from sending the request to reading the response. Set it
	// before Run (ops.NewMetrics does).
	AttemptDuration func(seconds float64)
}

// count records the outcome of one attempt.
func (s *Stats) count(v verdict) {
	switch v {
	case delivered:
		s.Delivered.Add(1)
	case retry:
		s.Retried.Add(1)
	case dead:
		s.Dead.Add(1)
	default:
		s.Refused.Add(1)
	}
}

// observe records the duration of one attempt.
func (s *Stats) observe(d time.Duration) {
	if f := s.AttemptDuration; f != nil {
		f(d.Seconds())
	}
}

// Stats returns the dispatcher's counters.
func (d *Dispatcher) Stats() *Stats { return &d.stats }

// DeadLetters returns the number of dead-lettered deliveries in the store.
func (d *Dispatcher) DeadLetters() int64 { return d.deadLetters.Load() }

// OldestPendingAge returns the age of the oldest pending delivery, 0 when
// none is pending.
func (d *Dispatcher) OldestPendingAge() time.Duration {
	d.mu.Lock()
	t := d.oldest()
	d.mu.Unlock()
	if t.IsZero() {
		return 0
	}
	return max(d.cfg.Now().Sub(t), 0)
}
