package processor

// Reproduce (one op is both scenarios; writing the log comes first, untimed):
//
//	go test -run='^$' -bench=BenchmarkCoalescedRecalculationLog -benchtime=1x ./processor/
//	JOURNEYS_BENCH_N=100000 go test -run='^$' -bench=BenchmarkCoalescedRecalculationLog -benchtime=1x ./processor/

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/statementlog"
	"github.com/journeys/journeys/state"
)

// The statement log writes the statuses of journeys recalculating together
// in one write (see statusWriter).
var _ StatusesSetter = (*statementlog.Log)(nil)

// writeBenchLog writes n statements of the engine benchmark's pool into a
// new statement log at dir, through the log's Import (documents kept as
// they are, in ascending stored order): copy i is the synthetic scanner's
// statement i (its own _id and stored) with its own statement.id.
func writeBenchLog(b *testing.B, dir string, org primitive.ObjectID, n int) *statementlog.Log {
	b.Helper()
	sl, err := statementlog.Open(dir, statementlog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sl.Close() })
	s := newSynthScanner(b, org, 1000, n)
	// The offset of each pool statement's statement.id text (a 36-byte
	// UUID), whose last 12 hex digits become the copy's number.
	idOff := make([]int, len(s.pool))
	for k, doc := range s.pool {
		v := doc.Lookup("statement", "id")
		off := bytes.Index(doc, v.Value)
		if sv, ok := v.StringValueOK(); !ok || len(sv) != 36 || off < 0 {
			b.Fatalf("pool statement %d: statement.id %v", k, v)
		}
		idOff[k] = off + 4 + 24
	}
	const batch = 1000
	docs := make([]bson.Raw, 0, batch)
	for i := 0; i < n; i++ {
		doc := s.doc(nil, i)
		copy(doc[idOff[i%len(s.pool)]:], fmt.Sprintf("%012x", i))
		docs = append(docs, doc)
		if len(docs) == batch || i == n-1 {
			if err := sl.Import(docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	return sl
}

// settle waits until the process has used under 5% of a core for half a
// second (at most two minutes): the log's flushes and compactions after
// the import, or a previous case's, are then not counted in the next case.
func settle(b *testing.B) {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		c := cpuTime(b)
		time.Sleep(500 * time.Millisecond)
		if cpuTime(b)-c < 25*time.Millisecond {
			return
		}
	}
}

// startLogPipeline runs a pipeline on the statement log as serve wires it
// (the log's reader as the stream, its scanner, its journey store) and a
// synced Pebble store on disk.
func startLogPipeline(b *testing.B, sl *statementlog.Log) *benchPipeline {
	b.Helper()
	st, err := state.Open(b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPipeline(PipelineConfig{
		Store: st,
		OpenStream: func(ctx context.Context, after bson.Raw) (Stream, error) {
			r, err := sl.Open(ctx, after)
			if err != nil {
				return nil, err
			}
			return r, nil
		},
		Scanner: sl.Scanner(), JourneyStore: sl,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bp := &benchPipeline{store: st, p: p, cancel: cancel, done: make(chan error, 1)}
	go func() { bp.done <- p.Run(ctx) }()
	for p.Ready() != nil {
		time.Sleep(time.Millisecond)
	}
	return bp
}

// insertLogJourneys creates journeys in the log from 16 concurrent
// writers, as concurrent API requests would (they share group commits).
func insertLogJourneys(b *testing.B, sl *statementlog.Log, js []*journey.Journey) {
	var wg sync.WaitGroup
	ch := make(chan *journey.Journey)
	for range min(16, len(js)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := sl.InsertJourney(context.Background(), j); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for _, j := range js {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

// BenchmarkCoalescedRecalculationLog is BenchmarkCoalescedRecalculation
// on the product's default LRS, the embedded statement log on disk:
// JOURNEYS_BENCH_N statements (default 1,000,000) of the same pool are
// written into one log before the timer, and its compactions are let
// finish. Then one journey, and 1,000 journeys, are created in the log
// (through its journey store, as the API does) while no pipeline runs, and
// a fresh pipeline wired as serve wires it (the log as stream, scanner and
// journey store) is started and timed until every recalculation is done:
// the daemon starting with that many new journeys, all pending at once.
// (Created while a pipeline runs, API request by request, the first ones
// would start a pass before the others arrive, and those would wait for a
// second pass.) Reading the log is part of every real recalculation, so
// here it is in both terms of the ratio. Reported: wall and CPU time of
// each case, and their ratios.
func BenchmarkCoalescedRecalculationLog(b *testing.B) {
	n := 1000000
	if s := os.Getenv("JOURNEYS_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			b.Fatalf("JOURNEYS_BENCH_N=%q: want a number ≥ 1000", s)
		}
		n = v
	}
	org := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
	sl := writeBenchLog(b, filepath.Join(b.TempDir(), statementlog.Dir), org, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each case twice, in the order 1, 1,000, 1,000, 1, so that neither
		// always runs first (a page cache or a compaction the first run
		// leaves could favour the second); the figures are the means.
		var wall, cpu [2]time.Duration
		for r, k := range []int{1, 1000, 1000, 1} {
			c := min(r, 3-r) // 0 for the 1-journey runs, 1 for the others
			js := benchJourneys(org, 1000)[:k]
			for _, j := range js {
				j.ID = primitive.NewObjectID()
			}
			insertLogJourneys(b, sl, js)
			settle(b)
			start, cpu0 := time.Now(), cpuTime(b)
			bp := startLogPipeline(b, sl)
			wall[c] += bp.waitRecalculated(b, uint64(k), start) / 2
			cpu[c] += (cpuTime(b) - cpu0) / 2
			scanned, passes := bp.p.Stats().Scanned.Load(), bp.p.Stats().ScanPasses.Load()
			bp.stop(b)
			if passes != 1 || scanned != uint64(n) {
				b.Fatalf("%d journeys: %d passes scanned %d statements; want 1 pass over %d", k, passes, scanned, n)
			}
			for _, j := range js {
				if _, err := sl.DeleteJourney(context.Background(), org, j.ID); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(wall[0].Seconds(), "1j-s")
		b.ReportMetric(cpu[0].Seconds(), "1j-cpu-s")
		b.ReportMetric(wall[1].Seconds(), "1000j-s")
		b.ReportMetric(cpu[1].Seconds(), "1000j-cpu-s")
		b.ReportMetric(wall[1].Seconds()/wall[0].Seconds(), "ratio")
		b.ReportMetric(cpu[1].Seconds()/cpu[0].Seconds(), "cpu-ratio")
		b.ReportMetric(float64(n)/wall[0].Seconds(), "1j-stmts/s")
	}
}
