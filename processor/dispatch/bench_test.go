package dispatch

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/state"
)

// BenchmarkDeliver measures deliveries per second to a fast local receiver
// on a durable (fsynced) store, one delivery per operation. Deliveries are
// committed and enqueued in chunks as the pipeline does, keeping the
// backlog near one chunk.
func BenchmarkDeliver(b *testing.B) {
	for _, perHost := range []int{DefaultPerHost, DefaultConcurrency} {
		b.Run(fmt.Sprintf("perhost=%d", perHost), func(b *testing.B) {
			st, err := state.Open(b.TempDir(), state.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer rcv.Close()
			cfg := fastRetries()
			cfg.PerHost = perHost
			d, _ := start(b, st, cfg)

			const chunk = 256
			ds := make([]outbox.Delivery, 0, chunk)
			b.ReportAllocs()
			b.ResetTimer()
			began := time.Now()
			for i := 0; i < b.N; i += chunk {
				ds = ds[:0]
				for range min(chunk, b.N-i) {
					ds = append(ds, newDelivery(rcv.URL, 2500))
				}
				enqueueStored(b, st, ds...)
				d.Enqueue(ds...)
				// Keep at most two chunks pending.
				for d.Pending() > chunk {
					time.Sleep(100 * time.Microsecond)
				}
			}
			waitFor(b, time.Minute, "all deliveries", func() bool { return d.Pending() == 0 })
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "deliveries/s")
		})
	}
}

// TestMemoryWith10kPending measures the heap the dispatcher holds for
// 10,000 pending deliveries (none due) and checks it is a small fraction
// of their bodies, which stay in the store.
func TestMemoryWith10kPending(t *testing.T) {
	const (
		n        = 10000
		bodySize = 3000 // a journey with a few waypoints and outcomes
	)
	st := openStore(t)
	later := time.Now().Add(time.Hour)
	for i := 0; i < n; i += 1000 {
		ds := make([]outbox.Delivery, 1000)
		for j := range ds {
			ds[j] = newDelivery(fmt.Sprintf("https://hooks%d.example.com/journeys", j%50), bodySize)
			ds[j].NextAttemptAt = later
		}
		enqueueStored(t, st, ds...)
	}
	before := heapInUse()
	d, _ := start(t, st, Config{})
	waitFor(t, 30*time.Second, "loading", func() bool { return d.Pending() == n })
	after := heapInUse()
	grown := int64(after) - int64(before)
	t.Logf("%d pending deliveries (%d-byte bodies): heap %d -> %d bytes, +%d (%d bytes per delivery)",
		n, bodySize, before, after, grown, grown/n)
	if grown > n*bodySize/10 {
		t.Errorf("heap grew by %d bytes for %d pending deliveries of %d bytes: bodies are being held", grown, n, bodySize)
	}
	// Nothing was due, so nothing was attempted.
	got := 0
	if err := st.ScanOutbox(func(_, _ []byte) error { got++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("outbox holds %d deliveries, want %d", got, n)
	}
	if d.Pending() != n {
		t.Errorf("Pending() = %d, want %d", d.Pending(), n)
	}
}
