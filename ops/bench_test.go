package ops

// Reproduce:
//
//	go test -run='^$' -bench=BenchmarkScrape -benchmem ./ops/
//
// One op is one scrape of a daemon's whole registry (journeysd, dispatcher,
// Pebble, Go and process collectors) in the text format: what a Prometheus
// scrape costs the daemon. Nothing in this package runs per statement.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkScrape(b *testing.B) {
	d := startDaemon(b)
	d.insert(b, 200, traffic{})
	h := d.metrics.Handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		io.Copy(io.Discard, w.Body)
	}
}
