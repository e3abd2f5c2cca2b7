package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/journeys/journeys/internal/xapitest"
)

// serveBench runs one authenticated GET against the handler per iteration.
func serveBench(b *testing.B, h *harness, target string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.SetBasicAuth(credA.key, credA.secret)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
		}
	}
}

// BenchmarkJourneyConnectionPage: a page of 10 of an organisation's 250
// journeys, filtered and sorted by description — the whole organisation
// is read, filtered, keyed and sorted per request.
func BenchmarkJourneyConnectionPage(b *testing.B) {
	h := newHarness(b)
	for i := range 250 {
		h.create(credA, journeyBody(fmt.Sprintf("journey %03d", (i*37)%250), i%2 == 0))
	}
	q := url.Values{"first": {"10"}, "sort": {"description"}, "filter": {`{"isActive": true}`}}
	serveBench(b, h, "/api/connection/journey?"+q.Encode())
}

// BenchmarkProgressPage: a page of 100 progress documents of one journey
// with 1000 owners.
func BenchmarkProgressPage(b *testing.B) {
	h := newHarness(b)
	j := h.create(credA, journeyBody("bench", true))
	g := xapitest.New(2, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 1000})
	seedOwners(b, h, j.ID, g, 1000)
	serveBench(b, h, "/api/v2/journeyprogress?limit=100&journey="+j.ID)
}
