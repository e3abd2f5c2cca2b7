package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeys/journeys/processor/dispatch"
)

// dispatchCollector exports the callback dispatcher's counters and outbox
// figures, read when scraped.
type dispatchCollector struct {
	d *dispatch.Dispatcher

	deliveries, pending, unscheduled, oldest, dead *prometheus.Desc
}

func newDispatchCollector(d *dispatch.Dispatcher) *dispatchCollector {
	return &dispatchCollector{
		d: d,
		deliveries: prometheus.NewDesc("journeys_callback_deliveries_total",
			"Callback delivery attempts by result: delivered (2xx), retry (will be retried), "+
				"dead (dead-lettered: permanent failure or retry window expired), refused (target address not allowed; dead-lettered).",
			[]string{"result"}, nil),
		pending: prometheus.NewDesc("journeys_outbox_pending",
			"Callback deliveries waiting to be delivered, including those in flight.", nil, nil),
		unscheduled: prometheus.NewDesc("journeys_outbox_unscheduled",
			"Pending callback deliveries waiting in the store for room in the in-memory schedule (its bound was hit).", nil, nil),
		oldest: prometheus.NewDesc("journeys_outbox_oldest_pending_age_seconds",
			"Age of the oldest pending callback delivery (0 when none is pending).", nil, nil),
		dead: prometheus.NewDesc("journeys_dead_letters",
			"Dead-lettered callback deliveries kept for inspection and replay.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *dispatchCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.deliveries
	ch <- c.pending
	ch <- c.unscheduled
	ch <- c.oldest
	ch <- c.dead
}

// Collect implements prometheus.Collector. Every result value is exported
// from the start, so rate() and alerts work before the first failure.
func (c *dispatchCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.d.Stats()
	for _, r := range []struct {
		label string
		n     uint64
	}{
		{"delivered", s.Delivered.Load()},
		{"retry", s.Retried.Load()},
		{"dead", s.Dead.Load()},
		{"refused", s.Refused.Load()},
	} {
		counter(ch, c.deliveries, r.n, r.label)
	}
	gauge(ch, c.pending, float64(c.d.Pending()))
	gauge(ch, c.unscheduled, float64(c.d.Unscheduled()))
	gauge(ch, c.oldest, c.d.OldestPendingAge().Seconds())
	gauge(ch, c.dead, float64(c.d.DeadLetters()))
}

// newAttemptHistogram returns the histogram of callback attempt durations,
// observed through dispatch.Stats.AttemptDuration.
func newAttemptHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "journeys_callback_attempt_duration_seconds",
		Help:    "Duration of callback delivery attempts, from sending the request to reading the response.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
}
