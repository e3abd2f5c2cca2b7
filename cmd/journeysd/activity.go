package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/journeys/journeys/processor"
)

// activityEvery is how often the daemon logs its activity summary. Each
// completion is logged at debug (at tens of thousands of completions a
// second a line each would drown the log and cost the daemon a write per
// completion); an operator at info sees this summary instead, and the
// exact counts are on /metrics.
const activityEvery = time.Minute

// activityCounts are the engine's counters an activity summary reports.
type activityCounts struct {
	statements, completions, callbacks uint64
}

// readActivity reads the counters of s.
func readActivity(s *processor.Stats) activityCounts {
	return activityCounts{
		statements:  s.Processed.Load(),
		completions: s.Completions.Load(),
		callbacks:   s.Deliveries.Load(),
	}
}

// activityAttrs returns the attributes of the summary of what happened
// between prev and cur, over interval, and false when nothing did (an idle
// daemon logs nothing).
func activityAttrs(prev, cur activityCounts, interval time.Duration) ([]slog.Attr, bool) {
	d := activityCounts{
		statements:  cur.statements - prev.statements,
		completions: cur.completions - prev.completions,
		callbacks:   cur.callbacks - prev.callbacks,
	}
	if d == (activityCounts{}) {
		return nil, false
	}
	return []slog.Attr{
		slog.Duration("interval", interval),
		slog.Uint64("statements", d.statements),
		slog.Uint64("completions", d.completions),
		slog.Uint64("callbacks", d.callbacks),
	}, true
}

// activityLog logs the daemon's activity summaries.
type activityLog struct {
	log   *slog.Logger
	stats *processor.Stats
	prev  activityCounts
	last  time.Time
}

// newActivityLog returns an activity log over s whose first summary counts
// from now.
func newActivityLog(log *slog.Logger, s *processor.Stats) *activityLog {
	return &activityLog{log: log, stats: s, prev: readActivity(s), last: time.Now()}
}

// run logs, every interval until ctx ends, an info line "activity" with the
// statements processed, attempts completed and callbacks queued since the
// previous line, when there were any.
func (a *activityLog) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cur := readActivity(a.stats)
			if attrs, ok := activityAttrs(a.prev, cur, now.Sub(a.last).Round(time.Second)); ok {
				a.log.LogAttrs(ctx, slog.LevelInfo, "activity", attrs...)
			}
			a.prev, a.last = cur, now
		}
	}
}
