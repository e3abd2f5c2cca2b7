package cond_test

// Run the fuzzer with:
//
//	go test -run=^$ -fuzz=FuzzMatch -fuzztime=2m ./processor/cond/
//
// Crashers it finds land in testdata/fuzz/FuzzMatch and are then replayed by
// every plain `go test` as regression cases.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/cond"
)

// fuzzConditions seed the fuzzer with every operator of docs/design.md §5, the
// Extended JSON forms conditions may use, rejected operators and malformed
// input.
func fuzzConditions() []string {
	return []string{
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/commented"}`,
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed", "statement.object.definition.type": "http://adlnet.gov/expapi/activities/course"}`,
		`{"statement.verb.id": {"$eq": "http://adlnet.gov/expapi/verbs/passed"}, "voided": {"$ne": true}}`,
		`{"statement.result.score.scaled": {"$gt": 0.5, "$lte": {"$numberDecimal": "1"}}, "statement.result.score.raw": {"$gte": {"$numberLong": "50"}, "$lt": {"$numberInt": "101"}}}`,
		`{"statement.verb.id": {"$in": ["http://adlnet.gov/expapi/verbs/attempted", null]}, "lrs_id": {"$nin": [{"$oid": "5f0c0c0c0c0c0c0c0c0c0c0c"}]}}`,
		`{"person._id": {"$exists": true}, "statement.result": {"$exists": 0}}`,
		`{"statement.result.score.raw": {"$type": "number"}, "statement.actor": {"$type": ["object", 3]}, "timestamp": {"$type": "date"}}`,
		`{"relatedActivities": {"$size": 4}, "verbs": {"$all": ["http://adlnet.gov/expapi/verbs/answered"]}}`,
		`{"statement.context.contextActivities.parent": {"$elemMatch": {"id": {"$regex": "course"}, "objectType": {"$exists": false}}}}`,
		`{"statement.object.id": {"$regex": "^https://lms\\.example\\.org/activities/(course|module)/1", "$options": "imsx"}}`,
		`{"statement.object.definition.name.en-US": {"$regularExpression": {"pattern": "^course", "options": "i"}}}`,
		`{"statement.verb.display.en-US": {"$not": {"$regex": "^comm"}}, "statement.result.score.raw": {"$not": {"$gt": 50}}}`,
		`{"statement.result.score.raw": {"$mod": [{"$numberDouble": "4.5"}, 0]}}`,
		`{"$and": [{"voided": false}, {"$or": [{"statement.verb.id": "http://adlnet.gov/expapi/verbs/passed"}, {"$nor": [{"active": true}]}]}], "$comment": "seed"}`,
		`{"stored": {"$gte": {"$date": "2024-01-01T00:00:00Z"}, "$lt": {"$date": {"$numberLong": "1900000000000"}}}}`,
		`{"statement.context.extensions.http://id&46;tincanapi&46;com/extension/browser-info.code_name": "Mozilla"}`,
		`{"statement.context.contextActivities.parent.0.id": {"$eq": "https://lms.example.org/activities/course/3"}}`,
		`{"$where": "this.voided"}`,
		`{"$expr": {"$eq": ["$voided", false]}}`,
		`{"statement.verb.id": {"$foo": 1}}`,
		`{"loc": {"$near": [0, 0]}}`,
		`{"a": {"$regex": "(?<=x)y"}}`,
		`{"a": {"$size": -1}, "b": {"$mod": [0, 1]}}`,
		`{"a": {"$in": 1}}`,
		`{"a": {"$elemMatch": {"$and": [{"b": 1}]}}}`,
		`{"statement.verb.id": "missing quote}`,
		`[]`,
		``,
	}
}

func FuzzMatch(f *testing.F) {
	g := xapitest.New(1, xapitest.Options{})
	docs := [][]byte{{}, {5, 0, 0, 0, 0}, []byte("not bson")}
	for i := 0; i < 8; i++ {
		docs = append(docs, g.Next())
	}
	statement := g.Next()
	docs = append(docs, statement[:len(statement)/2]) // truncated mid-element
	for i, c := range fuzzConditions() {
		f.Add(c, docs[i%len(docs)])
	}

	f.Fuzz(func(t *testing.T, condition string, doc []byte) {
		m, err := cond.CompileString(condition)
		checkCompileErr(t, condition, err)
		// The document bytes double as a binary query, valid or not.
		_, rawErr := cond.Compile(bson.Raw(doc))
		checkCompileErr(t, "binary query", rawErr)
		if m == nil {
			return
		}
		first := m.Match(bson.Raw(doc))
		if !validDocument(doc) {
			return
		}
		if m.Match(bson.Raw(doc)) != first {
			t.Fatalf("Match is not deterministic for %s", condition)
		}
		if first {
			checkRequired(t, m, condition, doc)
		}
		checkSameAsDriverParse(t, condition, doc, first)
	})
}

// validDocument reports whether doc is well-formed BSON. It checks the
// length prefix itself first because the driver's Validate (v1.17.10) panics
// on a prefix below 1 (it indexes doc[length-1]).
func validDocument(doc []byte) bool {
	if len(doc) < 5 || int(int32(binary.LittleEndian.Uint32(doc))) != len(doc) {
		return false
	}
	return bson.Raw(doc).Validate() == nil
}

// checkCompileErr fails unless err is nil or a *cond.Error.
func checkCompileErr(t *testing.T, what string, err error) {
	t.Helper()
	var ce *cond.Error
	if err != nil && !errors.As(err, &ce) {
		t.Fatalf("compile %q: error %T (%v), want *cond.Error", what, err, err)
	}
}

// checkRequired asserts that Required is sound: a matching document holds,
// for every constraint, one of its values at its path.
func checkRequired(t *testing.T, m *cond.Matcher, condition string, doc []byte) {
	t.Helper()
	for _, c := range m.Required() {
		found := false
		cond.ParsePath(c.Path).Visit(bson.Raw(doc), func(v bson.RawValue) bool {
			for _, want := range c.Values {
				if v.Type == want.Type && bytes.Equal(v.Value, want.Value) {
					found = true
				}
			}
			return !found
		})
		if !found {
			t.Fatalf("%s matches %s but holds none of Required()'s values at %q", condition, bson.Raw(doc), c.Path)
		}
	}
}

// checkSameAsDriverParse compiles the condition as the Go driver parses it
// and asserts the result agrees with CompileString's matcher, which parses
// Extended JSON itself.
func checkSameAsDriverParse(t *testing.T, condition string, doc []byte, want bool) {
	t.Helper()
	var raw bson.Raw
	if bson.UnmarshalExtJSON([]byte(condition), false, &raw) != nil {
		return
	}
	m, err := cond.Compile(raw)
	if err != nil {
		t.Fatalf("CompileString accepts %s but Compile rejects the driver's parse: %v", condition, err)
	}
	if got := m.Match(bson.Raw(doc)); got != want {
		t.Fatalf("%s on %s: CompileString's matcher says %v, Compile of the driver's parse says %v", condition, bson.Raw(doc), want, got)
	}
}
