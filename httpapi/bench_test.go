package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
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

// BenchmarkProgressFiltered: progress filters over one journey with ten
// thousand owners. "owner" pins one owner by mbox (the last listed), so
// the other records are skipped by their key; "view" matches nothing, so
// every record is decoded, viewed and matched: the cost per record of a
// filter on createdAt, updatedAt or completion state.
func BenchmarkProgressFiltered(b *testing.B) {
	h := newHarness(b)
	j := h.create(credA, journeyBody("bench", true))
	g := xapitest.New(2, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 10000})
	seedOwners(b, h, j.ID, g, 10000)
	mbox := ""
	for i := 9999; mbox == ""; i-- {
		mbox = g.Actor(i).Mbox
	}
	for _, c := range []struct{ name, filter string }{
		{"owner", `{"owner.ident.mbox": "` + mbox + `", "createdAt": {"$gte": "2000-01-01"}}`},
		{"view", `{"updatedAt": {"$lt": "2000-01-01"}}`},
		{"completions", `{"completions.isCompleted": true}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			serveBench(b, h, "/api/v2/journeyprogress?"+url.Values{"filter": {c.filter}}.Encode())
		})
	}
}

// BenchmarkProgressByID: GET /api/v2/journeyprogress/:id of the last of
// ten thousand owners of one journey: the id is
// found by walking the progress records (there is no index from the
// derived id to its record).
func BenchmarkProgressByID(b *testing.B) {
	h := newHarness(b)
	j := h.create(credA, journeyBody("bench", true))
	g := xapitest.New(2, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 10000})
	seedOwners(b, h, j.ID, g, 10000)
	var last string
	err := h.store.ScanProgress(mustOID(j.ID), func(owner, _ []byte) error {
		last = processor.ProgressID(mustOID(j.ID), owner).Hex()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	serveBench(b, h, "/api/v2/journeyprogress/"+last)
}
