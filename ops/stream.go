package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeys/journeys/processor/source"
)

// streamCollector exports the change stream's counters, read when
// scraped.
type streamCollector struct {
	stats func() source.Stats

	events, ignored, failures, reconnects, invalidations *prometheus.Desc
	lookups, fragments                                   *prometheus.Desc
}

func newStreamCollector(stats func() source.Stats) *streamCollector {
	return &streamCollector{
		stats: stats,
		events: prometheus.NewDesc("journeys_stream_events_total",
			"Change events that matter to journeysd read from the stream: statement inserts, journey changes, invalidations.", nil, nil),
		ignored: prometheus.NewDesc("journeys_stream_ignored_events_total",
			"Change events read and ignored (other collections, statement updates and deletes).", nil, nil),
		failures: prometheus.NewDesc("journeys_stream_failures_total",
			"Transient change stream failures, each followed by a reconnection attempt.", nil, nil),
		reconnects: prometheus.NewDesc("journeys_stream_reconnects_total",
			"Change streams reopened after a failure or an invalidation.", nil, nil),
		invalidations: prometheus.NewDesc("journeys_stream_invalidations_total",
			"Invalidate events (the LRS database was dropped).", nil, nil),
		lookups: prometheus.NewDesc("journeys_stream_postimage_lookups_total",
			"Updates that arrived without their post-image (not enabled on the collection, or expired) and were looked up.", nil, nil),
		fragments: prometheus.NewDesc("journeys_stream_split_fragments_total",
			"Fragments of change events over 16 MB split by MongoDB and reassembled.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.events
	ch <- c.ignored
	ch <- c.failures
	ch <- c.reconnects
	ch <- c.invalidations
	ch <- c.lookups
	ch <- c.fragments
}

// Collect implements prometheus.Collector.
func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter(ch, c.events, s.Events)
	counter(ch, c.ignored, s.Ignored)
	counter(ch, c.failures, s.Failures)
	counter(ch, c.reconnects, s.Reconnects)
	counter(ch, c.invalidations, s.Invalidates)
	counter(ch, c.lookups, s.Lookups)
	counter(ch, c.fragments, s.Fragments)
}
