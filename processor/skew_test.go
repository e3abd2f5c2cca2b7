package processor

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/statementlog"
	"github.com/journeys/journeys/state"
)

// TestSkewMarginFollowsTheBackend checks that the pipeline drops the
// clock-skew margin on the embedded statement log, whose stored order is
// its stream order, and keeps the configured one on a database whose
// writers' clocks may differ.
func TestSkewMarginFollowsTheBackend(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sl, err := statementlog.Open(filepath.Join(t.TempDir(), statementlog.Dir), statementlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	db := newPipelineFixture(t).db
	open := func(ctx context.Context, after bson.Raw) (Stream, error) { return sl.Open(ctx, after) }
	for _, tc := range []struct {
		name string
		cfg  PipelineConfig
		want time.Duration
	}{
		{"embedded log", PipelineConfig{Store: st, OpenStream: open, Scanner: sl.Scanner(), JourneyStore: sl, SkewMargin: time.Minute}, 0},
		{"lungo", PipelineConfig{Store: st, DB: db, SkewMargin: time.Minute}, time.Minute},
		{"lungo, default", PipelineConfig{Store: st, DB: db}, 2 * time.Minute},
	} {
		p, err := NewPipeline(tc.cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.cfg.SkewMargin != tc.want {
			t.Errorf("%s: skew margin %v, want %v", tc.name, p.cfg.SkewMargin, tc.want)
		}
	}
}
