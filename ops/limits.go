package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeys/journeys/processor/journey"
)

// limitsCollector exports how often each journey size limit refused a
// save (docs/design.md §11), read when scraped.
type limitsCollector struct {
	stats *journey.LimitStats
	hits  *prometheus.Desc
}

func newLimitsCollector(stats *journey.LimitStats) *limitsCollector {
	return &limitsCollector{
		stats: stats,
		hits: prometheus.NewDesc("journeys_limit_hits_total",
			"Journey saves refused with a 400 because they exceeded a configured limit, and progress documents served with older attempts left to paging, by limit.", []string{"limit"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *limitsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.hits }

// Collect implements prometheus.Collector.
func (c *limitsCollector) Collect(ch chan<- prometheus.Metric) {
	counter(ch, c.hits, c.stats.Waypoints.Load(), journey.LimitWaypoints)
	counter(ch, c.hits, c.stats.Outcomes.Load(), journey.LimitOutcomes)
	counter(ch, c.hits, c.stats.ConditionBytes.Load(), journey.LimitConditionBytes)
	counter(ch, c.hits, c.stats.Count.Load(), journey.LimitCount)
	counter(ch, c.hits, c.stats.ProgressAttempts.Load(), journey.LimitProgressAttempts)
}
