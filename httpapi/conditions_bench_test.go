package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/lrs"
)

// BenchmarkConditionTester: one test of a verb condition against the
// newest 10,000 of an organisation's statements (the tester's bound), read
// from the embedded lungo engine, which sorts the organisation's
// statements in memory per request (MongoDB walks an index instead).
func BenchmarkConditionTester(b *testing.B) {
	h := newHarness(b, func(c *Config) {
		c.Statements = lrs.CollectionStatements{Coll: c.DB.Collection("statements")}
	})
	gen := xapitest.New(5, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 500})
	docs := make([]any, 0, MaxTestStatements)
	for range MaxTestStatements {
		docs = append(docs, gen.Next())
	}
	if _, err := h.db.Collection("statements").InsertMany(context.Background(), docs); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, conditions string }{
		{"verb", `{\"statement.verb.id\": \"` + xapitest.VerbPassed + `\"}`},
		{"regex", `{\"statement.object.id\": {\"$regex\": \"course/1\"}}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := `{"conditions": "` + tc.conditions + `", "limit": 10000, "samples": 5}`
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, testerPath, strings.NewReader(body))
				req.SetBasicAuth(credA.key, credA.secret)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"scanned":10000`) {
					b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
				}
			}
		})
	}
}
