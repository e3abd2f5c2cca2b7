package processor

import (
	"testing"

	"github.com/journeys/journeys/processor/cond"
)

func TestIndexPath(t *testing.T) {
	for _, tc := range []struct {
		conditions string
		path       string
		ok         bool
	}{
		{`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`, "statement.verb.id", true},
		// The path with more distinct required values is the more selective.
		{`{"statement.verb.id": {"$in": ["a", "b"]}, "statement.object.id": "x"}`, "statement.verb.id", true},
		// A low-selectivity path is chosen only when nothing else is required.
		{`{"lrs_id": {"$oid": "5a00000000000000000000a1"}, "statement.verb.id": "v"}`, "statement.verb.id", true},
		{`{"lrs_id": {"$oid": "5a00000000000000000000a1"}}`, "lrs_id", true},
		{`{"$and": [{"statement.object.id": "x"}, {"result.score.scaled": {"$gte": 0.5}}]}`, "statement.object.id", true},
		{`{"statement.result.success": true}`, "statement.result.success", true},
		{`{}`, "", false},
		{`{"statement.result.score.scaled": {"$gte": 0.5}}`, "", false},
		{`{"$or": [{"statement.verb.id": "a"}, {"statement.verb.id": "b"}]}`, "", false},
		{`{"statement.verb.id": {"$regex": "^http"}}`, "", false},
		{`{"statement.verb.id": {"$in": ["a", 1]}}`, "", false},
		{`{"statement.verb.id": {"$ne": "a"}}`, "", false},
	} {
		m, err := cond.CompileString(tc.conditions)
		if err != nil {
			t.Fatalf("%s: %v", tc.conditions, err)
		}
		path, ok := IndexPath(m)
		if path != tc.path || ok != tc.ok {
			t.Errorf("IndexPath(%s) = %q, %v; want %q, %v", tc.conditions, path, ok, tc.path, tc.ok)
		}
	}
}
