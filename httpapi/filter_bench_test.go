package httpapi

import (
	"strings"
	"testing"

	"github.com/journeys/journeys/processor"
)

// BenchmarkProgressFilterCompletions: a filter on the completion state
// reads every archived attempt of each progress document it looks at (a
// filter matches any attempt, not only those a document lists). One
// learner with 20,000 completed attempts of a repeatable journey; each
// iteration asks for that learner's progress with completions.isCompleted
// true. B/op is the memory one such request costs.
func BenchmarkProgressFilterCompletions(b *testing.B) {
	const attempts = 20_000
	h := newHarness(b)
	id := h.create(credA, `{"description": "course", "isRepeatable": true, "waypoints": [
		{"conditions": "{\"statement.verb.id\": \"http://adlnet.gov/expapi/verbs/launched\"}"}]}`).ID
	e := processor.NewEngine(h.store, processor.Options{})
	e.SetJourney(compileStored(b, h.db, id), 0)
	sb := newStatementBuilder()
	for i := range attempts {
		if _, err := e.Statement(sb.launched(0, 0)); err != nil {
			b.Fatal(err)
		}
		if (i+1)%1000 == 0 {
			if err := e.Commit(nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	target := "/api/v2/journeyprogress/count?journey=" + id + "&filter=%7B%22completions.isCompleted%22%3Atrue%7D"
	if body := get(b, h, target); strings.TrimSpace(string(body)) != `{"count":1}` {
		b.Fatalf("GET %s: %s", target, body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		get(b, h, target)
	}
}
