package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeys/journeys/processor"
)

// Values of the reason label of journeys_statements_skipped_total.
const (
	reasonMalformed = "malformed"
	reasonVoided    = "voided"
	reasonUntracked = "untracked"
)

// engineCollector exports the engine's statement counters, loaded when
// scraped.
type engineCollector struct {
	stats                                            *processor.Stats
	processed, skipped, matched, completions, queued *prometheus.Desc
	deferred                                         *prometheus.Desc
}

func newEngineCollector(s *processor.Stats) *engineCollector {
	return &engineCollector{
		stats: s,
		processed: prometheus.NewDesc("journeys_statements_processed_total",
			"Statements read from the change stream and handed to the engine, skipped ones included (recalculation scans excluded).", nil, nil),
		skipped: prometheus.NewDesc("journeys_statements_skipped_total",
			"Statements skipped by reason: malformed (not a well-formed statement document) and voided count statements; "+
				"untracked counts (statement, journey) pairs where the statement has no owner of the journey's trackBy kind.",
			[]string{"reason"}, nil),
		matched: prometheus.NewDesc("journeys_statements_matched_total",
			"(Statement, journey) pairs where the statement advanced the owner's progress, recalculations included.", nil, nil),
		completions: prometheus.NewDesc("journeys_completions_total",
			"Journey attempts completed, recalculations included.", nil, nil),
		queued: prometheus.NewDesc("journeys_callback_queued_total",
			"Callback deliveries queued by completed attempts (one per active callback outcome), before delivery.", nil, nil),
		deferred: prometheus.NewDesc("journeys_statements_deferred_total",
			"(Statement, journey) pairs held back, durably, for a journey that is recalculating: applied after its scan.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.processed
	ch <- c.skipped
	ch <- c.matched
	ch <- c.completions
	ch <- c.queued
	ch <- c.deferred
}

// Collect implements prometheus.Collector.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats
	counter(ch, c.processed, s.Processed.Load())
	counter(ch, c.skipped, s.Malformed.Load(), reasonMalformed)
	counter(ch, c.skipped, s.Voided.Load(), reasonVoided)
	counter(ch, c.skipped, s.Untracked.Load(), reasonUntracked)
	counter(ch, c.matched, s.Matched.Load())
	counter(ch, c.completions, s.Completions.Load())
	counter(ch, c.queued, s.Deliveries.Load())
	counter(ch, c.deferred, s.Deferred.Load())
}

// counter sends a counter sample of desc.
func counter(ch chan<- prometheus.Metric, desc *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
}

// gauge sends a gauge sample of desc.
func gauge(ch chan<- prometheus.Metric, desc *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
}
