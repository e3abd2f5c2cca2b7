package ops

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/source"
	"github.com/journeys/journeys/state"
)

// gather returns every sample of reg by series: "name{k="v",...}" with the
// labels sorted, histograms as their _count and _sum series.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			series := func(name string) string {
				if len(labels) == 0 {
					return name
				}
				return name + "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[series(mf.GetName())] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[series(mf.GetName())] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[series(mf.GetName()+"_count")] = float64(m.GetHistogram().GetSampleCount())
				out[series(mf.GetName()+"_sum")] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// journeysSeries returns the series of got whose name starts with
// "journeys_", sorted, for failure messages.
func journeysSeries(got map[string]float64) []string {
	var out []string
	for s, v := range got {
		if strings.HasPrefix(s, "journeys_") {
			out = append(out, fmt.Sprintf("%s %g", s, v))
		}
	}
	slices.Sort(out)
	return out
}

func TestMetricsExportSources(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var es processor.Stats
	// Distinct values, so that two swapped fields cannot pass.
	for i, c := range []interface{ Store(uint64) }{
		&es.Processed, &es.Malformed, &es.Voided, &es.Untracked, &es.Matched, &es.Completions, &es.Deliveries, &es.Deferred,
	} {
		c.Store(uint64(100 + i))
	}
	var ps processor.PipelineStats
	ps.LastEventTime.Store(now.Add(-42 * time.Second).Unix())
	ps.LastCommit.Store(now.Add(-1500 * time.Millisecond).UnixMilli())
	ps.Recalculations.Store(3)
	ps.RecalcRemaining.Store(1234)
	ps.RecalcRunning.Store(2)
	ps.ScanPasses.Store(4)
	ps.Scanned.Store(5000)
	ps.HistoryLost.Store(2)
	ps.OwnerRecomputes.Store(4)
	stream := source.Stats{Events: 200, Ignored: 201, Failures: 202, Reconnects: 203, HistoryLost: 204, Invalidates: 205, Lookups: 206, Fragments: 207}
	ready := errors.New("change stream not connected")

	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewMetrics(Sources{
		Engine:   &es,
		Pipeline: &ps,
		Ready:    func() error { return ready },
		Stream:   func() source.Stats { return stream },
		Pebble:   st.Metrics,
		Now:      func() time.Time { return now },
	})
	if ps.CommitDuration == nil {
		t.Fatal("NewMetrics did not set the pipeline's CommitDuration hook")
	}
	ps.CommitDuration(0.003)
	ps.CommitDuration(0.5)

	got := gather(t, m.Registry())
	want := map[string]float64{
		"journeys_statements_processed_total":                   100,
		`journeys_statements_skipped_total{reason="malformed"}`: 101,
		`journeys_statements_skipped_total{reason="voided"}`:    102,
		`journeys_statements_skipped_total{reason="untracked"}`: 103,
		"journeys_statements_matched_total":                     104,
		"journeys_completions_total":                            105,
		"journeys_callback_queued_total":                        106,
		"journeys_statements_deferred_total":                    107,
		"journeys_stream_lag_seconds":                           42,
		"journeys_checkpoint_age_seconds":                       1.5,
		"journeys_recalculation_remaining_statements":           1234,
		"journeys_recalculations_total":                         3,
		"journeys_recalculations_running":                       2,
		"journeys_recalculation_scan_passes_total":              4,
		"journeys_recalculation_scanned_statements_total":       5000,
		"journeys_stream_history_lost_total":                    2,
		"journeys_owner_recomputes_total":                       4,
		"journeys_stream_ready":                                 0,
		"journeys_stream_events_total":                          200,
		"journeys_stream_ignored_events_total":                  201,
		"journeys_stream_failures_total":                        202,
		"journeys_stream_reconnects_total":                      203,
		"journeys_stream_invalidations_total":                   205,
		"journeys_stream_postimage_lookups_total":               206,
		"journeys_stream_split_fragments_total":                 207,
		"journeys_commit_duration_seconds_count":                2,
		"journeys_commit_duration_seconds_sum":                  0.503,
	}
	for series, v := range want {
		g, ok := got[series]
		if !ok || g != v {
			t.Errorf("%s = %g (present %v), want %g", series, g, ok, v)
		}
	}

	// A fresh store already holds files; its metrics come from Pebble, so
	// only their presence and sanity are checked.
	if v := got["journeys_pebble_disk_usage_bytes"]; v <= 0 {
		t.Errorf("journeys_pebble_disk_usage_bytes = %g, want > 0", v)
	}
	for _, s := range []string{"journeys_pebble_compactions_total", "journeys_pebble_read_amplification", "journeys_pebble_compaction_debt_bytes"} {
		if v, ok := got[s]; !ok || v < 0 {
			t.Errorf("%s = %g (present %v), want >= 0", s, v, ok)
		}
	}

	ready = nil
	if v := gather(t, m.Registry())["journeys_stream_ready"]; v != 1 {
		t.Errorf("journeys_stream_ready = %g once ready, want 1", v)
	}
}

// TestMetricsOmitUnknown: what is not known yet is absent, not zero, and a
// clock behind the database's does not make ages negative.
func TestMetricsOmitUnknown(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var ps processor.PipelineStats
	m := NewMetrics(Sources{
		Pipeline: &ps,
		Pebble:   func() *pebble.Metrics { return nil }, // a closed store
		Now:      func() time.Time { return now },
	})
	got := gather(t, m.Registry())
	for _, s := range []string{"journeys_stream_lag_seconds", "journeys_checkpoint_age_seconds", "journeys_pebble_disk_usage_bytes"} {
		if _, ok := got[s]; ok {
			t.Errorf("%s exported before it is known", s)
		}
	}
	if v, ok := got["journeys_recalculation_remaining_statements"]; !ok || v != 0 {
		t.Errorf("journeys_recalculation_remaining_statements = %g (present %v), want 0", v, ok)
	}

	ps.LastEventTime.Store(now.Add(3 * time.Second).Unix())
	ps.LastCommit.Store(now.UnixMilli())
	got = gather(t, m.Registry())
	if v, ok := got["journeys_stream_lag_seconds"]; !ok || v != 0 {
		t.Errorf("journeys_stream_lag_seconds = %g (present %v) for an event 3 s ahead of the clock, want 0", v, ok)
	}
	if v, ok := got["journeys_checkpoint_age_seconds"]; !ok || v != 0 {
		t.Errorf("journeys_checkpoint_age_seconds = %g (present %v), want 0", v, ok)
	}
}

// TestMetricsNoSources: with no parts, only the runtime's metrics remain.
func TestMetricsNoSources(t *testing.T) {
	got := gather(t, NewMetrics(Sources{}).Registry())
	if s := journeysSeries(got); len(s) > 0 {
		t.Errorf("journeys_ series without sources: %v", s)
	}
	for _, s := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := got[s]; !ok {
			t.Errorf("%s missing", s)
		}
	}
}

// TestMetricsLive reads the metrics of a real pipeline after traffic.
func TestMetricsLive(t *testing.T) {
	d := startDaemon(t)
	tr := traffic{voided: 3, malformed: 2, anonymous: 4}
	d.insert(t, 400, tr)
	es := d.pipeline.Engine().Stats()
	waitFor(t, "callbacks delivered", func() bool {
		return es.Completions.Load() > 0 && d.received.Load() == int64(es.Completions.Load())
	})
	got := gather(t, d.metrics.Registry())
	want := map[string]float64{
		"journeys_statements_processed_total":                   400,
		`journeys_statements_skipped_total{reason="voided"}`:    float64(tr.voided),
		`journeys_statements_skipped_total{reason="malformed"}`: float64(tr.malformed),
		// Each anonymous statement completes a waypoint of the one journey.
		`journeys_statements_skipped_total{reason="untracked"}`:  float64(tr.anonymous),
		"journeys_statements_matched_total":                      float64(es.Matched.Load()),
		"journeys_completions_total":                             float64(es.Completions.Load()),
		"journeys_callback_queued_total":                         float64(d.received.Load()),
		`journeys_callback_deliveries_total{result="delivered"}`: float64(d.received.Load()),
		`journeys_callback_deliveries_total{result="retry"}`:     0,
		`journeys_callback_deliveries_total{result="dead"}`:      0,
		`journeys_callback_deliveries_total{result="refused"}`:   0,
		"journeys_callback_attempt_duration_seconds_count":       float64(d.received.Load()),
		"journeys_dead_letters":                                  0,
		"journeys_outbox_unscheduled":                            0,
		"journeys_outbox_oldest_pending_age_seconds":             0,
		"journeys_commit_duration_seconds_count":                 float64(d.pipeline.Stats().Commits.Load()),
		"journeys_stream_ready":                                  1,
		"journeys_outbox_pending":                                0,
		"journeys_recalculation_remaining_statements":            0,
		"journeys_recalculations_total":                          1, // the journey, at the fresh start
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %g (present %v), want %g", series, g, ok, v)
		}
	}
	if m := got["journeys_statements_matched_total"]; m < 100 {
		t.Errorf("journeys_statements_matched_total = %g: the traffic should advance progress often", m)
	}
	// The embedded engine stamps events with the wall clock.
	if lag, ok := got["journeys_stream_lag_seconds"]; !ok || lag > 10 {
		t.Errorf("journeys_stream_lag_seconds = %g (present %v), want a few seconds at most", lag, ok)
	}
	if n := got["journeys_stream_events_total"]; n < 400 {
		t.Errorf("journeys_stream_events_total = %g, want >= 400 (every insert is an event)", n)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", strings.Join(journeysSeries(got), "\n"))
	}
}
