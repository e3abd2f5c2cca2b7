package cond

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// statementDoc is a stored Learning Locker statement of typical size.
const statementDoc = `{
	"_id": {"$oid": "650000000000000000000001"},
	"organisation": {"$oid": "650000000000000000000002"},
	"lrs_id": {"$oid": "650000000000000000000003"},
	"person": {"_id": {"$oid": "650000000000000000000004"}, "display": "Ann"},
	"voided": false, "active": true,
	"timestamp": {"$date": "2024-01-02T03:04:05Z"},
	"stored": {"$date": "2024-01-02T03:04:06Z"},
	"statement": {
		"id": "0b7b5d4a-4b8a-4d0e-9a5e-1c2d3e4f5a6b",
		"actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
		"verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
		"object": {"id": "http://example.com/course/1/module/3", "objectType": "Activity",
			"definition": {"name": {"en-US": "Module 3"}, "type": "http://adlnet.gov/expapi/activities/module"}},
		"result": {"completion": true, "success": true, "score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100},
			"duration": "PT1H2M"},
		"context": {"registration": "6b7b5d4a-4b8a-4d0e-9a5e-1c2d3e4f5a6b",
			"contextActivities": {"parent": [{"id": "http://example.com/course/1"}],
				"grouping": [{"id": "http://example.com/program"}, {"id": "http://example.com/course/1"}]},
			"extensions": {"http://example&46;com/ext": {"$numberDecimal": "1.5"}}},
		"timestamp": "2024-01-02T03:04:05Z", "stored": "2024-01-02T03:04:06Z"
	}
}`

// Match allocates nothing for equality, $in and $exists (and, as it
// happens, for the other operators below).
func TestMatchAllocations(t *testing.T) {
	doc := mustDoc(t, statementDoc)
	queries := []struct {
		query string
		want  bool
	}{
		{`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`, true},
		{`{"statement.verb.id": {"$eq": "http://adlnet.gov/expapi/verbs/attempted"}}`, false},
		{`{"lrs_id": {"$oid": "650000000000000000000003"}, "voided": false}`, true},
		{`{"statement.object.id": {"$in": ["http://example.com/course/1/module/1", "http://example.com/course/1/module/3"]}}`, true},
		{`{"statement.context.contextActivities.grouping.id": {"$in": ["p0","p1","p2","p3","p4","p5","p6","p7","p8","http://example.com/program"]}}`, true},
		{`{"person._id": {"$in": [{"$oid": "650000000000000000000009"}, {"$oid": "650000000000000000000004"}]}}`, true},
		{`{"statement.result.completion": {"$exists": true}, "statement.result.response": {"$exists": false}}`, true},
		{`{"statement.result.score.raw": 85}`, true},
		{`{"statement.result.score.scaled": {"$gte": {"$numberDecimal": "0.8"}}}`, true},
		{`{"statement.context.extensions.http://example&46;com/ext": 1.5}`, true},
		{`{"statement.result.score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100}}`, true},
		{`{"$or": [{"statement.verb.id": "x"}, {"statement.actor.mbox": {"$ne": null}}]}`, true},
		{`{"statement.context.contextActivities.parent": {"$elemMatch": {"id": "http://example.com/course/1"}}}`, true},
		{`{"statement.object.id": {"$regex": "^http://example\\.com/course/1/", "$options": "i"}}`, true},
		{`{"stored": {"$gt": {"$date": "2024-01-01T00:00:00Z"}}}`, true},
	}
	for _, q := range queries {
		m := mustCompile(t, q.query)
		if got := m.Match(doc); got != q.want {
			t.Errorf("%s: Match = %v, want %v", q.query, got, q.want)
		}
		if n := testing.AllocsPerRun(100, func() { m.Match(doc) }); n != 0 {
			t.Errorf("%s: %v allocations per Match, want 0", q.query, n)
		}
	}
}

func TestVisitAllocations(t *testing.T) {
	doc := mustDoc(t, statementDoc)
	p := ParsePath("statement.context.contextActivities.grouping.id")
	n := 0
	fn := func(v bson.RawValue) bool { n++; return true }
	if a := testing.AllocsPerRun(100, func() { p.Visit(doc, fn) }); a != 0 {
		t.Errorf("%v allocations per Visit, want 0", a)
	}
	if n != 2*101 {
		t.Errorf("visited %d values in 101 runs, want 2 per run", n)
	}
}
