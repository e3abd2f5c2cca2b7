package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeys/journeys/processor"
)

// pipelineCollector exports the pipeline's position in the stream, its
// checkpoint and its recalculations, loaded when scraped.
type pipelineCollector struct {
	stats *processor.PipelineStats
	now   func() time.Time

	lag, ckptAge, remaining, recalcs, lost *prometheus.Desc
}

func newPipelineCollector(s *processor.PipelineStats, now func() time.Time) *pipelineCollector {
	return &pipelineCollector{
		stats: s,
		now:   now,
		lag: prometheus.NewDesc("journeys_stream_lag_seconds",
			"Now minus the cluster time of the last change event applied (1 s resolution). Also grows while the LRS is idle; absent until the first event.", nil, nil),
		ckptAge: prometheus.NewDesc("journeys_checkpoint_age_seconds",
			"Time since the pipeline last committed its progress and stream checkpoint. Also grows while the LRS is idle; absent until the first commit.", nil, nil),
		remaining: prometheus.NewDesc("journeys_recalculation_remaining_statements",
			"Statements left to scan in the running recalculation; 0 when none runs.", nil, nil),
		recalcs: prometheus.NewDesc("journeys_recalculations_total",
			"Journey recalculations started (one per journey recalculated).", nil, nil),
		lost: prometheus.NewDesc("journeys_stream_history_lost_total",
			"Times the change stream's resume point had left the oplog, so every active journey was recalculated.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.ckptAge
	ch <- c.remaining
	ch <- c.recalcs
	ch <- c.lost
}

// Collect implements prometheus.Collector.
func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats
	now := c.now()
	// Zero means not known yet; an age measured from the Unix epoch would
	// fire every alert at once.
	if t := s.LastEventTime.Load(); t > 0 {
		gauge(ch, c.lag, age(now, time.Unix(t, 0)))
	}
	if t := s.LastCommit.Load(); t > 0 {
		gauge(ch, c.ckptAge, age(now, time.UnixMilli(t)))
	}
	gauge(ch, c.remaining, float64(max(s.RecalcRemaining.Load(), 0)))
	counter(ch, c.recalcs, s.Recalculations.Load())
	counter(ch, c.lost, s.HistoryLost.Load())
}

// age returns the seconds from t to now, or 0 if t is in the future: the
// cluster time comes from the database's clock, which may run slightly
// ahead of this host's, and a negative age means "caught up".
func age(now, t time.Time) float64 {
	return max(now.Sub(t).Seconds(), 0)
}
