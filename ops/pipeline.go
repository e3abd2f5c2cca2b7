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
	running, passes, scanned               *prometheus.Desc
	ownerRecomputes                        *prometheus.Desc
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
			"Statements left to scan in the running recalculations (updated every second); 0 when none runs.", nil, nil),
		running: prometheus.NewDesc("journeys_recalculations_running",
			"Journeys recalculating beside the live stream (scanning or handing over).", nil, nil),
		passes: prometheus.NewDesc("journeys_recalculation_scan_passes_total",
			"Recalculation scan passes started; one serves every recalculation of an organisation pending when it starts.", nil, nil),
		scanned: prometheus.NewDesc("journeys_recalculation_scanned_statements_total",
			"Statements read by recalculation scans; its rate is the scan rate.", nil, nil),
		recalcs: prometheus.NewDesc("journeys_recalculations_total",
			"Journey recalculations started (one per journey recalculated).", nil, nil),
		lost: prometheus.NewDesc("journeys_stream_history_lost_total",
			"Times the change stream's resume point had left the oplog, so every active journey was recalculated.", nil, nil),
		ownerRecomputes: prometheus.NewDesc("journeys_owner_recomputes_total",
			"Owners whose progress was rebuilt from their stored statements after the LRS updated a statement: a persona assigned or merged, a statement voided.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.ckptAge
	ch <- c.remaining
	ch <- c.recalcs
	ch <- c.lost
	ch <- c.running
	ch <- c.passes
	ch <- c.scanned
	ch <- c.ownerRecomputes
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
	gauge(ch, c.running, float64(max(s.RecalcRunning.Load(), 0)))
	counter(ch, c.passes, s.ScanPasses.Load())
	counter(ch, c.scanned, s.Scanned.Load())
	counter(ch, c.ownerRecomputes, s.OwnerRecomputes.Load())
}

// newCommitHistogram returns the histogram of the pipeline's commit
// durations, observed through PipelineStats.CommitDuration.
func newCommitHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "journeys_commit_duration_seconds",
		Help: "Duration of the pipeline's batch commits: the state store write, fsync included, of the effects of a run of change events with their checkpoint.",
		// From a fraction of a millisecond (a small batch on a fast disk,
		// fsync included) to seconds (a full batch on a slow or saturated
		// volume, holding up the stream).
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
}

// newReadyGauge returns the gauge that is 1 while ready reports nil.
func newReadyGauge(ready func() error) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "journeys_stream_ready",
		Help: "1 while the pipeline is running on a live change stream, 0 otherwise (starting, recalculating every journey at a fresh start, reconnecting).",
	}, func() float64 {
		if ready() != nil {
			return 0
		}
		return 1
	})
}

// age returns the seconds from t to now, or 0 if t is in the future: the
// cluster time comes from the database's clock, which may run slightly
// ahead of this host's, and a negative age means "caught up".
func age(now, t time.Time) float64 {
	return max(now.Sub(t).Seconds(), 0)
}
