package dispatch

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus metrics.
type metrics struct {
	// results counts attempts by verdict
	// (journeys_callback_deliveries_total{result}).
	results  [refused + 1]prometheus.Counter
	duration prometheus.Histogram
}

// newMetrics creates the metrics of d and registers them with reg unless
// reg is nil.
func newMetrics(d *Dispatcher, reg prometheus.Registerer) (*metrics, error) {
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "journeys_callback_deliveries_total",
		Help: "Callback delivery attempts by result: delivered (2xx), retry (will be retried), " +
			"dead (dead-lettered: permanent failure or retry window expired), refused (target address not allowed; dead-lettered).",
	}, []string{"result"})
	m := &metrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "journeys_callback_attempt_duration_seconds",
			Help:    "Duration of callback delivery attempts, from sending the request to reading the response.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	// Creating every label value up front exports zeros, so rate() and
	// alerts work before the first failure.
	for v := range m.results {
		m.results[v] = deliveries.WithLabelValues(verdict(v).String())
	}
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{
		deliveries,
		m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "journeys_outbox_pending",
			Help: "Callback deliveries waiting to be delivered, including those in flight.",
		}, func() float64 { return float64(d.Pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "journeys_outbox_unscheduled",
			Help: "Pending callback deliveries waiting in the store for room in the in-memory schedule (its bound was hit).",
		}, func() float64 { return float64(d.Unscheduled()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "journeys_outbox_oldest_pending_age_seconds",
			Help: "Age of the oldest pending callback delivery (0 when none is pending).",
		}, d.oldestAge),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "journeys_dead_letters",
			Help: "Dead-lettered callback deliveries kept for inspection and replay.",
		}, func() float64 { return float64(d.deadLetters.Load()) }),
	}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			// Leave the registry as it was, so a caller may retry.
			for _, r := range collectors[:i] {
				reg.Unregister(r)
			}
			return nil, fmt.Errorf("dispatch: register metrics: %w", err)
		}
	}
	return m, nil
}

// oldestAge returns the age in seconds of the oldest pending delivery.
func (d *Dispatcher) oldestAge() float64 {
	d.mu.Lock()
	t := d.oldest()
	d.mu.Unlock()
	if t.IsZero() {
		return 0
	}
	return max(d.cfg.Now().Sub(t).Seconds(), 0)
}
