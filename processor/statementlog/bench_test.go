package statementlog

// Reproduce:
//
//	go test -run '^$' -bench . -benchtime 1x ./processor/statementlog/
//
// JOURNEYS_BENCH_N sets BenchmarkIngest's statements (default 100,000):
//
//	JOURNEYS_BENCH_N=1000000 go test -run '^$' -bench BenchmarkIngest -benchtime 1x ./processor/statementlog/

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/lrs"
)

// fill stores statements from, from+1, … from+n-1 (their ids and actors
// follow from the number) in batches of 100 from 8 writers.
func fill(b *testing.B, l *Log, from, n int) {
	b.Helper()
	var wg sync.WaitGroup
	ch := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range ch {
				parts := make([]string, 0, 100)
				for i := first; i < first+100; i++ {
					parts = append(parts, stmt(uuid(i), i%10_000))
				}
				if _, err := l.Ingest(context.Background(), org, store, []byte("["+strings.Join(parts, ",")+"]")); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := from; i < from+n; i += 100 {
		ch <- i
	}
	close(ch)
	wg.Wait()
}

// BenchmarkIngest measures the log's own write path (prepare, group
// commit, fsync) for JOURNEYS_BENCH_N statements (default 100,000) posted
// as 8 concurrent writers' batches of 100. Besides the rate and the CPU
// per statement it reports what Pebble wrote per statement: flushed
// (memtables to L0) and compacted bytes, and the rate over the last tenth
// of the statements against the first (flatness in store size).
func BenchmarkIngest(b *testing.B) {
	n := 100_000
	if s := os.Getenv("JOURNEYS_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 || v%1000 != 0 {
			b.Fatalf("JOURNEYS_BENCH_N=%q: want a multiple of 1000", s)
		}
		n = v
	}
	l := openLog(b, b.TempDir())
	b.ResetTimer()
	cpu0 := cpuTime()
	tenth := n / 10
	var rates [10]float64
	for d := range 10 {
		start := time.Now()
		fill(b, l, d*tenth, tenth)
		rates[d] = float64(tenth) / time.Since(start).Seconds()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "stmts/s")
	// The process's CPU time per statement (the benchmark's body
	// building included), which a shared machine does not inflate.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/stmt")
	b.ReportMetric(rates[9]/rates[0], "last/first")
	m := l.db.Metrics()
	var flushed, compacted uint64
	for _, lv := range m.Levels {
		flushed += lv.BytesFlushed
		compacted += lv.BytesCompacted
	}
	b.ReportMetric(float64(flushed)/float64(n), "flushed-B/stmt")
	b.ReportMetric(float64(compacted)/float64(n), "compacted-B/stmt")
	b.ReportMetric(float64(m.Compact.Count), "compactions")
	b.ReportMetric(float64(m.Compact.MoveCount), "moves")
	b.ReportMetric(float64(m.Levels[0].NumFiles), "L0-tables")
	b.Logf("deciles (statements/s): %.0f", rates)
	b.Logf("pebble:\n%s", m)
	mi := l.idx.Metrics()
	flushed, compacted = 0, 0
	for _, lv := range mi.Levels {
		flushed += lv.BytesFlushed
		compacted += lv.BytesCompacted
	}
	b.ReportMetric(float64(flushed)/float64(n), "idx-flushed-B/stmt")
	b.ReportMetric(float64(compacted)/float64(n), "idx-compacted-B/stmt")
	b.Logf("index:\n%s", mi)
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScan measures a recalculation's read of the log: 100,000
// statements in order.
func BenchmarkScan(b *testing.B) {
	const n = 100_000
	l := openLog(b, b.TempDir())
	fill(b, l, 0, n)
	b.ReportAllocs()
	b.ResetTimer()
	got := 0
	err := l.Scanner().Scan(context.Background(), lrs.ScanQuery{Organisation: org}, func(bson.Raw) error {
		got++
		return nil
	})
	if err != nil || got != n {
		b.Fatalf("scanned %d: %v", got, err)
	}
	b.ReportMetric(n/b.Elapsed().Seconds(), "stmts/s")
}
