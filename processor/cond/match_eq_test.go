package cond

import "testing"

// Equality and array traversal.
// https://www.mongodb.com/docs/manual/reference/operator/query/eq/
// https://www.mongodb.com/docs/manual/tutorial/query-arrays/
// https://www.mongodb.com/docs/manual/tutorial/query-embedded-documents/
func TestMatchEquality(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": 1}`, `{"a": 1}`, true},
		{`{"a": 1}`, `{"a": 2}`, false},
		{`{"a": 1}`, `{}`, false},
		{" \n\t{\"a\": 1} \n", `{"a": 1}`, true},
		{`{"a": {"$eq": 1}}`, `{"a": 1}`, true},
		{`{"a": "x"}`, `{"a": "x"}`, true},
		{`{"a": "x"}`, `{"a": "X"}`, false},
		{`{"a": "x"}`, `{"a": "xy"}`, false},
		{`{"a": "x"}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": true}`, `{"a": true}`, true},
		{`{"a": true}`, `{"a": 1}`, false},
		// An array field matches when an element equals the value…
		{`{"a": 1}`, `{"a": [2, 1]}`, true},
		{`{"a": "x"}`, `{"a": ["y", "x"]}`, true},
		// …or when the whole array equals an array value, in order…
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true},
		{`{"a": [1, 2]}`, `{"a": [2, 1]}`, false},
		{`{"a": [1, 2]}`, `{"a": [1, 2, 3]}`, false},
		// …or when an element is that array; deeper nesting is not searched.
		{`{"a": [1, 2]}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": 1}`, `{"a": [[1]]}`, false},
		{`{"a": []}`, `{"a": []}`, true},
		{`{"a": []}`, `{"a": [[]]}`, true},
		// Embedded documents compare exactly, field order included, and
		// numbers inside them by value.
		{`{"a": {"b": 1}}`, `{"a": {"b": 1}}`, true},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1, "c": 2}}`, false},
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"c": 2, "b": 1}}`, false},
		{`{"a": {"b": 1}}`, `{"a": {"b": {"$numberDouble": "1.0"}}}`, true},
		{`{"a": {"b": 1}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": {"$eq": {"b": 1}}}`, `{"a": {"b": 1}}`, true},
		// Dotted paths through documents and arrays of documents.
		{`{"a.b": 1}`, `{"a": {"b": 1}}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": [0, 1]}]}`, true},
		{`{"a.b.c": 1}`, `{"a": [{"b": [{"c": 2}, {"c": 1}]}]}`, true},
		{`{"a.b": 1}`, `{"a": [[{"b": 1}]]}`, false},
		{`{"a.b": 1}`, `{"a": 1}`, false},
		{`{"a.b": 1}`, `{"a": "b"}`, false},
		// A document holding a $-prefixed DBRef is a literal, not operators.
		{`{"a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 1}}`, true},
		{`{"a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 2}}`, false},
	})
}

// Numeric path segments index arrays (and still name document fields).
// https://www.mongodb.com/docs/manual/tutorial/query-arrays/#query-for-an-element-by-the-array-index-position
// https://www.mongodb.com/docs/manual/tutorial/query-array-of-documents/#use-the-array-index-to-query-for-a-field-in-the-embedded-document
func TestMatchNumericPathSegments(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a.0": 5}`, `{"a": [5, 6]}`, true},
		{`{"a.1": 5}`, `{"a": [5, 6]}`, false},
		{`{"a.1": 6}`, `{"a": [5, 6]}`, true},
		{`{"a.2": 6}`, `{"a": [5, 6]}`, false},
		{`{"a.0": 1}`, `{"a": {"0": 1}}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 1}]}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, false},
		{`{"a.1.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"0": {"b": 1}}]}`, true},
		{`{"a.b.0": 1}`, `{"a": [{"b": [1]}]}`, true},
		{`{"a.b.1": 1}`, `{"a": [{"b": [1]}]}`, false},
		// An index into a nested array continues inside it…
		{`{"a.0.0": 1}`, `{"a": [[1, 2]]}`, true},
		{`{"a.0.1": 1}`, `{"a": [[1, 2]]}`, false},
		{`{"a.0.b": 1}`, `{"a": [[{"b": 1}]]}`, true},
		// …but the element an index selects is not itself traversed.
		{`{"a.0": 1}`, `{"a": [[1, 2]]}`, false},
		{`{"a.0": [1, 2]}`, `{"a": [[1, 2]]}`, true},
		// Only the canonical spelling of an index selects an element.
		{`{"a.01": 1}`, `{"a": [1]}`, false},
		{`{"a.01": 1}`, `{"a": {"01": 1}}`, true},
	})
}

// null matches null and missing fields, not undefined (MongoDB 8.0).
// https://www.mongodb.com/docs/manual/tutorial/query-for-null-fields/
func TestMatchNullAndMissing(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": null}`, `{"a": null}`, true},
		{`{"a": null}`, `{}`, true},
		{`{"a": null}`, `{"a": 1}`, false},
		{`{"a": null}`, `{"a": {"$undefined": true}}`, false},
		{`{"a": null}`, `{"a": [1, null]}`, true},
		{`{"a": null}`, `{"a": []}`, false},
		{`{"a": null}`, `{"a": [1]}`, false},
		{`{"a": {"$eq": null}}`, `{}`, true},
		{`{"a": {"$in": [null]}}`, `{}`, true},
		{`{"a": {"$in": [null]}}`, `{"a": null}`, true},
		{`{"a": {"$in": [null]}}`, `{"a": 1}`, false},
		{`{"a": {"$in": [null, 1]}}`, `{"a": 1}`, true},
		{`{"a": {"$gte": null}}`, `{}`, true},
		{`{"a": {"$lte": null}}`, `{"a": null}`, true},
		{`{"a": {"$lt": null}}`, `{}`, false},
		{`{"a": {"$gt": null}}`, `{"a": null}`, false},
		// A path that runs into a scalar, or into a document without the
		// field, ends in a missing value.
		{`{"a.b": null}`, `{"a": 1}`, true},
		{`{"a.b": null}`, `{"a": [{"c": 1}]}`, true},
		{`{"a.b": null}`, `{"a": [{"b": 1}]}`, false},
		{`{"a.b": null}`, `{"a": [{"b": 1}, {"c": 1}]}`, true},
		// Scalars inside an array on the path yield nothing at all.
		{`{"a.b": null}`, `{"a": [1, 2]}`, false},
		{`{"a.b": null}`, `{"a": []}`, false},
		// $ne and $nin match missing fields.
		{`{"a": {"$ne": null}}`, `{}`, false},
		{`{"a": {"$ne": null}}`, `{"a": 1}`, true},
		{`{"a": {"$ne": 1}}`, `{}`, true},
		{`{"a": {"$nin": [1]}}`, `{}`, true},
		{`{"a": {"$nin": [null]}}`, `{}`, false},
		{`{"a": {"$type": "null"}}`, `{}`, false},
		{`{"a": {"$type": "null"}}`, `{"a": null}`, true},
	})
}

// $ne and $nin negate the whole field condition.
// https://www.mongodb.com/docs/manual/reference/operator/query/ne/
// https://www.mongodb.com/docs/manual/reference/operator/query/nin/
func TestMatchNeNin(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$ne": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$ne": 1}}`, `{"a": 1}`, false},
		{`{"a": {"$ne": 1}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": 1}}`, `{"a": [2, 3]}`, true},
		{`{"a": {"$ne": [1, 2]}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": "x"}}`, `{"a": {"$numberInt": "1"}}`, true},
		{`{"a": {"$nin": ["x", "y"]}}`, `{"a": "z"}`, true},
		{`{"a": {"$nin": ["x", "y"]}}`, `{"a": ["z", "y"]}`, false},
		{`{"a": {"$nin": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}}`, `{"a": "xa"}`, false},
		{`{"a": {"$nin": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}}`, `{"a": "ax"}`, true},
	})
}

// $in: equality with any listed value; regexes match.
// https://www.mongodb.com/docs/manual/reference/operator/query/in/
func TestMatchIn(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$in": ["x", "y"]}}`, `{"a": "y"}`, true},
		{`{"a": {"$in": ["x", "y"]}}`, `{"a": "z"}`, false},
		{`{"a": {"$in": ["x", "y"]}}`, `{"a": ["z", "x"]}`, true},
		{`{"a": {"$in": ["x", "y"]}}`, `{}`, false},
		{`{"a": {"$in": [1, "1"]}}`, `{"a": {"$numberDouble": "1.0"}}`, true},
		{`{"a": {"$in": [true]}}`, `{"a": true}`, true},
		{`{"a": {"$in": [true]}}`, `{"a": false}`, false},
		{`{"a": {"$in": [true]}}`, `{"a": 1}`, false},
		{`{"a": {"$in": [[1, 2]]}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$in": [{"b": 1}]}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": {"$in": []}}`, `{"a": 1}`, false},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": ""}}]}}`, `{"a": "abc"}`, true},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": ""}}]}}`, `{"a": "xab"}`, false},
		{`{"a": {"$in": [{"$oid": "650000000000000000000001"}]}}`, `{"a": {"$oid": "650000000000000000000001"}}`, true},
		{`{"a": {"$in": [{"$oid": "650000000000000000000001"}]}}`, `{"a": "650000000000000000000001"}`, false},
		// Sets large enough to be hashed.
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9"]}}`, `{"a": "s9"}`, true},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9"]}}`, `{"a": "s10"}`, false},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9"]}}`, `{"a": {"$symbol": "s3"}}`, true},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8",{"$oid": "650000000000000000000001"}, false]}}`,
			`{"a": {"$oid": "650000000000000000000001"}}`, true},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8",{"$oid": "650000000000000000000001"}, false]}}`,
			`{"a": {"$oid": "650000000000000000000002"}}`, false},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8",{"$oid": "650000000000000000000001"}, false]}}`,
			`{"a": false}`, true},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9", 5]}}`, `{"a": {"$numberLong": "5"}}`, true},
	})
}

// $exists, with MongoDB's truthiness of its operand.
// https://www.mongodb.com/docs/manual/reference/operator/query/exists/
func TestMatchExists(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$exists": true}}`, `{"a": null}`, true},
		{`{"a": {"$exists": true}}`, `{"a": []}`, true},
		{`{"a": {"$exists": true}}`, `{}`, false},
		{`{"a": {"$exists": false}}`, `{}`, true},
		{`{"a": {"$exists": false}}`, `{"a": 0}`, false},
		{`{"a": {"$exists": 1}}`, `{"a": 0}`, true},
		{`{"a": {"$exists": 0}}`, `{"a": 0}`, false},
		{`{"a": {"$exists": null}}`, `{}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [{"c": 1}, {"b": 2}]}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [{"c": 1}]}`, false},
		{`{"a.b": {"$exists": false}}`, `{"a": [{"c": 1}]}`, true},
		{`{"a.1": {"$exists": true}}`, `{"a": [1, 2]}`, true},
		{`{"a.2": {"$exists": true}}`, `{"a": [1, 2]}`, false},
	})
}
