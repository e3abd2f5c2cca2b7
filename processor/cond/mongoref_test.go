package cond_test

// TestMongoReference: our matcher against the results that MongoDB's own
// regression tests (jstests) require of a real server.

import (
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/cond"
)

// TestMongoReference checks our matcher against the results MongoDB's own
// regression tests (jstests) require of a real server. It anchors the
// known-difference rows (diff_known_test.go), whose cases the differential
// test cannot check, in MongoDB's behaviour rather than in our reading of it.
// Documents holding undefined are left out of the transcription (statements
// never contain it), as are queries whose expectations depend on them.
func TestMongoReference(t *testing.T) {
	for _, ref := range mongoReferences() {
		docs := make([]bson.Raw, len(ref.docs))
		ids := make([]string, len(ref.docs))
		for i, src := range ref.docs {
			if err := bson.UnmarshalExtJSON([]byte(src), false, &docs[i]); err != nil {
				t.Fatalf("%s: parse %s: %v", ref.source, src, err)
			}
			ids[i] = refID(docs[i].Lookup("_id"))
		}
		for _, q := range ref.queries {
			m, err := cond.CompileString(q.query)
			if err != nil {
				t.Errorf("%s: compile %s: %v", ref.source, q.query, err)
				continue
			}
			want := expectedIDs(q.want, ids)
			var got []string
			for i, doc := range docs {
				if m.Match(doc) {
					got = append(got, ids[i])
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s\n  query %s\n  got  %v\n  want %v", ref.source, q.query, got, want)
			}
		}
	}
}

// mongoRef is a document set and queries with the documents MongoDB returns.
type mongoRef struct {
	source  string
	docs    []string
	queries []mongoRefQuery
}

// mongoRefQuery.want lists the _id values (see refID) of the documents a
// query returns; a leading "!" means every document except those.
type mongoRefQuery struct {
	query string
	want  string
}

// refID renders an integer _id as its digits and a string _id quoted.
func refID(v bson.RawValue) string {
	if i, ok := v.Int32OK(); ok {
		return strconv.Itoa(int(i))
	}
	return strconv.Quote(v.StringValue())
}

// expectedIDs resolves want against the document ids, in document order.
func expectedIDs(want string, ids []string) []string {
	negate := strings.HasPrefix(want, "!")
	listed := map[string]bool{}
	for _, id := range strings.Fields(strings.TrimPrefix(want, "!")) {
		listed[id] = true
	}
	var out []string
	for _, id := range ids {
		if listed[id] != negate {
			out = append(out, id)
		}
	}
	return out
}

func mongoReferences() []mongoRef {
	const jstests = "https://github.com/mongodb/mongo/blob/master/jstests/core/query/"
	const found = `1 2 4 5 9`
	return []mongoRef{{
		source: jstests + "match_numeric_components.js",
		docs: []string{
			`{"_id": 0, "a": 42}`, `{"_id": 1, "a": [42]}`, `{"_id": 2, "a": {"0": 42}}`,
			`{"_id": 3, "a": [[42]]}`, `{"_id": 4, "a": [{"0": 42}]}`, `{"_id": 5, "a": {"0": [42]}}`,
			`{"_id": 6, "a": {"0": {"0": 42}}}`, `{"_id": 7, "a": [[[42]]]}`, `{"_id": 8, "a": [[{"0": 42}]]}`,
			`{"_id": 9, "a": [{"0": [42]}]}`, `{"_id": 10, "a": [{"0": {"0": 42}}]}`, `{"_id": 11, "a": {"0": [[42]]}}`,
			`{"_id": 12, "a": {"0": [{"0": 42}]}}`, `{"_id": 13, "a": {"0": {"0": [42]}}}`,
			`{"_id": 14, "a": {"0": {"0": {"0": 42}}}}`, `{"_id": 15, "a": [[[[42]]]]}`,
			`{"_id": 16, "a": [[[{"0": 42}]]]}`, `{"_id": 17, "a": [[{"0": [42]}]]}`,
			`{"_id": 18, "a": [[{"0": {"0": 42}}]]}`, `{"_id": 19, "a": [{"0": [[42]]}]}`,
			`{"_id": 20, "a": [{"0": [{"0": 42}]}]}`, `{"_id": 21, "a": [{"0": {"0": [42]}}]}`,
			`{"_id": 22, "a": [{"0": {"0": {"0": 42}}}]}`, `{"_id": 23, "a": {"0": [[[42]]]}}`,
			`{"_id": 24, "a": {"0": [[{"0": 42}]]}}`, `{"_id": 25, "a": {"0": [{"0": [42]}]}}`,
			`{"_id": 26, "a": {"0": [{"0": {"0": 42}}]}}`, `{"_id": 27, "a": {"0": {"0": [[42]]}}}`,
			`{"_id": 28, "a": {"0": {"0": [{"0": 42}]}}}`, `{"_id": 29, "a": {"0": {"0": {"0": [42]}}}}`,
			`{"_id": 30, "a": {"0": {"0": {"0": {"0": 42}}}}}`,
		},
		queries: []mongoRefQuery{
			{`{"a.0": 42}`, found},
			{`{"a.0": {"$ne": 42}}`, "!" + found},
			{`{"a.0.0": 42}`, `3 4 5 6 8 9 10 12 13 17 20 21 25`},
			{`{"a.0": {"$gt": 41}}`, found},
			{`{"a.0": {"$in": [41, 42, 43]}}`, found},
			{`{"a.0": {"$nin": [41, 42, 43]}}`, "!" + found},
			{`{"a.0": {"$exists": false}}`, `0`},
			{`{"a.0": {"$exists": true}}`, `!0`},
			{`{"a": {"$elemMatch": {"0.0": {"$eq": 42}}}}`, `7 8 9 10 16 17 20 21`},
			{`{"a.0": {"$all": [42]}}`, found},
			{`{"a.0": {"$all": [{"$elemMatch": {"0": 42}}]}}`, `7 8 11 12 15 17 19 20 23 25`},
			{`{"a.0": {"$type": "number"}}`, found},
			{`{"a.0": {"$mod": [42, 0]}}`, found},
			{`{"$or": [{"a.0": 42}, {"notARealField": 123}]}`, found},
		},
	}, {
		source: jstests + "match_numeric_components.js (regular expressions)",
		docs:   []string{`{"_id": 1, "b": "hello"}`, `{"_id": 2, "b": {"0": "hello"}}`, `{"_id": 3, "b": ["hello", "abc", "abc"]}`},
		queries: []mongoRefQuery{
			{`{"b.0": {"$regex": "hello"}}`, `2 3`},
			{`{"b.0": {"$all": [{"$regularExpression": {"pattern": "^hello", "options": ""}}]}}`, `2 3`},
			{`{"b.0": {"$not": {"$regularExpression": {"pattern": "^h", "options": ""}}}}`, `1`},
		},
	}, {
		source: jstests + "match_numeric_components.js (nested arrays)",
		docs: []string{
			`{"_id": 0, "f1": 5}`, `{"_id": 1, "f1": [3, 5]}`, `{"_id": 4, "f1": [3, 5, [7, 9]]}`,
			`{"_id": 2, "f1": [[3, 5], [5, 7]]}`, `{"_id": 3, "f1": [[[0], [3, 5]], [[0], [5, 7]]]}`,
		},
		queries: []mongoRefQuery{
			{`{"f1.0": {"$elemMatch": {"$eq": 5}}}`, `2`},
			{`{"f1.0": {"$elemMatch": {"$eq": [3, 5]}}}`, `3`},
			{`{"f1.0.1": {"$elemMatch": {"$eq": 3}}}`, `3`},
		},
	}, {
		source: jstests + "null_query_semantics.js",
		docs: []string{
			`{"_id": "a_empty_subobject", "a": {}}`, `{"_id": "a_null", "a": null}`, `{"_id": "a_number", "a": 4}`,
			`{"_id": "a_subobject_b_not_null", "a": {"b": "hi"}}`, `{"_id": "a_subobject_b_null", "a": {"b": null}}`,
			`{"_id": "no_a"}`, `{"_id": "a_double_array", "a": [[]]}`, `{"_id": "a_empty_array", "a": []}`,
			`{"_id": "a_object_array_no_b_nulls", "a": [{"b": 1}, {"b": 3}, {"b": "string"}]}`,
			`{"_id": "a_object_array_some_b_nulls", "a": [{"b": null}, {"b": 3}, {"b": null}]}`,
			`{"_id": "a_object_array_some_b_missing", "a": [{"b": 3}, {}]}`,
			`{"_id": "a_value_array_all_nulls", "a": [null, null]}`,
			`{"_id": "a_value_array_no_nulls", "a": [1, "string", 4]}`,
			`{"_id": "a_value_array_with_null", "a": [1, "string", null, 4]}`,
		},
		queries: func() []mongoRefQuery {
			const isNull = `"a_null" "no_a" "a_value_array_all_nulls" "a_value_array_with_null"`
			const dottedNull = `"a_empty_subobject" "a_null" "a_number" "a_subobject_b_null" "no_a" "a_object_array_some_b_nulls" "a_object_array_some_b_missing"`
			return []mongoRefQuery{
				{`{"a": {"$eq": null}}`, isNull},
				{`{"a": {"$ne": null}}`, "!" + isNull},
				{`{"a": {"$in": [null, 75]}}`, isNull},
				{`{"a": {"$nin": [null, 75]}}`, "!" + isNull},
				{`{"a": {"$nin": [null, []]}}`, `!"a_null" "no_a" "a_double_array" "a_empty_array" "a_value_array_all_nulls" "a_value_array_with_null"`},
				{`{"a": {"$not": {"$gte": null}}}`, "!" + isNull},
				{`{"a.b": {"$eq": null}}`, dottedNull},
				{`{"a.b": {"$ne": null}}`, "!" + dottedNull},
				{`{"a.b": {"$in": [null, 75]}}`, dottedNull},
				{`{"$or": [{"a.b": null}, {"a.b": 75}]}`, dottedNull},
				{`{"a.b": {"$nin": [null, 75]}}`, "!" + dottedNull},
				{`{"a": {"$elemMatch": {"$eq": null}}}`, `"a_value_array_all_nulls" "a_value_array_with_null"`},
				{`{"a": {"$elemMatch": {"$ne": null}}}`, `"a_double_array" "a_object_array_no_b_nulls" "a_object_array_some_b_nulls" "a_object_array_some_b_missing" "a_value_array_no_nulls" "a_value_array_with_null"`},
			}
		}(),
	}, {
		source: jstests + "min_max_key.js",
		docs: []string{
			`{"_id": "a_max_key", "a": {"$maxKey": 1}}`, `{"_id": "a_min_key", "a": {"$minKey": 1}}`,
			`{"_id": "a_null", "a": null}`, `{"_id": "a_number", "a": 4}`,
			`{"_id": "a_subobject", "a": {"b": "hi"}}`, `{"_id": "a_string", "a": "hello"}`,
		},
		queries: []mongoRefQuery{
			{`{"a": {"$eq": {"$minKey": 1}}}`, `"a_min_key"`},
			{`{"a": {"$gt": {"$minKey": 1}}}`, `"a_max_key" "a_null" "a_number" "a_subobject" "a_string"`},
			{`{"a": {"$lt": {"$minKey": 1}}}`, ``},
			{`{"a": {"$lte": {"$minKey": 1}}}`, `"a_min_key"`},
			{`{"a": {"$eq": {"$maxKey": 1}}}`, `"a_max_key"`},
			{`{"a": {"$gt": {"$maxKey": 1}}}`, ``},
			{`{"a": {"$gte": {"$maxKey": 1}}}`, `"a_max_key"`},
			{`{"a": {"$gt": 3}}`, `"a_number"`},
			{`{"a": {"$lt": 3}}`, ``},
			{`{"a": {"$gt": "best"}}`, `"a_string"`},
		},
	}, {
		source: jstests + "min_max_key.js (subdocuments)",
		docs:   []string{`{"_id": 1, "outer": {"a": {"b": {"$minKey": 1}}}}`, `{"_id": 2, "outer": {"a": {"b": {"$maxKey": 1}}}}`},
		queries: []mongoRefQuery{
			{`{"outer": {"$lt": {"a": {"c": 1}}}}`, `1`},
			{`{"outer": {"$gte": {"a": {"c": 1}}}}`, `2`},
		},
	}, {
		source: jstests + "array/arrayfind10.js",
		docs: []string{
			`{"_id": 1, "a": 1}`, `{"_id": 2, "a": 2}`, `{"_id": 3, "a": 3}`, `{"_id": 4, "a": [1]}`,
			`{"_id": 5, "a": [1, 2]}`, `{"_id": 6, "a": [2]}`, `{"_id": 7, "a": [3]}`, `{"_id": 8, "a": [3, 1]}`,
			`{"_id": 9, "a": [3, 2]}`, `{"_id": 10, "a": [3, 2, 1]}`, `{"_id": 11, "a": [[1]]}`,
			`{"_id": 12, "a": [[2]]}`, `{"_id": 13, "a": [[3]]}`, `{"_id": 14, "a": [[[1]]]}`,
			`{"_id": 15, "a": [[[2]]]}`, `{"_id": 16, "a": [[[3]]]}`, `{"_id": 17, "a": [1, [[2]]]}`,
			`{"_id": 18, "a": [3, [1]]}`, `{"_id": 19, "a": [3, [[2]]]}`, `{"_id": 20, "a": [3, [[2]], 1]}`,
			`{"_id": 21, "a": [[1], 2]}`, `{"_id": 22, "a": [[1], [2]]}`, `{"_id": 23, "a": [[3], 1]}`,
			`{"_id": 24, "a": [[3], 2]}`, `{"_id": 25, "a": [[3], 2, 1]}`, `{"_id": 26, "a": [[3], [1]]}`,
			`{"_id": 27, "a": [[3], [[2]]]}`, `{"_id": 28, "a": [[3], [[2]], 1]}`,
		},
		queries: []mongoRefQuery{
			{`{"a": {"$eq": [2]}}`, `6 12 22`},
			{`{"a": {"$lt": [2]}}`, `4 5 11 17 18 21 22 26`},
			{`{"a": {"$gt": [2]}}`, `7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28`},
			{`{"a": {"$eq": [1, 2]}}`, `5`},
			{`{"a": {"$lt": [1, 2]}}`, `4 11 18 21 22 26`},
			{`{"a": {"$gt": [1, 2]}}`, `6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28`},
		},
	}, {
		source: jstests + "array/arrayfind10.js (paths through arrays)",
		docs: []string{
			`{"_id": 1, "a": "foo"}`, `{"_id": 2, "a": ["foo"]}`, `{"_id": 3, "a": [["foo"]]}`, `{"_id": 4, "a": [[["foo"]]]}`,
			`{"_id": 5, "b": [{"c": [{"d": [5, 7]}]}]}`, `{"_id": 6, "b": [{"c": []}, {"c": [{"d": [5, 7]}]}]}`,
		},
		queries: []mongoRefQuery{
			{`{"a": "foo"}`, `1 2`},
			{`{"b.c.d": 5}`, `5 6`},
			{`{"b.c.d": {"$in": [5]}}`, `5 6`},
			{`{"b.c.d": {"$size": 2}}`, `5 6`},
			{`{"b.c.d": {"$elemMatch": {"$eq": 5}}}`, `5 6`},
		},
	}}
}
