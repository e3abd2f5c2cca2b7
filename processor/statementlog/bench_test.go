package statementlog

// Reproduce:
//
//	go test -run '^$' -bench . -benchtime 1x ./processor/statementlog/

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/lrs"
)

// fill stores n statements in batches of 100 from 8 writers.
func fill(b *testing.B, l *Log, n int) {
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
	for i := 0; i < n; i += 100 {
		ch <- i
	}
	close(ch)
	wg.Wait()
}

// BenchmarkIngest measures the log's own write path (prepare, group
// commit, fsync) for 100,000 statements posted as 8 concurrent writers'
// batches of 100.
func BenchmarkIngest(b *testing.B) {
	const n = 100_000
	l := openLog(b, b.TempDir())
	b.ResetTimer()
	cpu0 := cpuTime()
	fill(b, l, n)
	b.ReportMetric(n/b.Elapsed().Seconds(), "stmts/s")
	// The process's CPU time per statement (the benchmark's body
	// building included), which a shared machine does not inflate.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/stmt")
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
	fill(b, l, n)
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
