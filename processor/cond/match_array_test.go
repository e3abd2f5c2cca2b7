package cond

import "testing"

// $type by alias, by code, "number", and lists; any element of an array
// field, and "array" for the array itself.
// https://www.mongodb.com/docs/manual/reference/operator/query/type/
func TestMatchType(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$type": "string"}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": "string"}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "string"}}`, `{"a": {"$symbol": "x"}}`, false},
		{`{"a": {"$type": "symbol"}}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": {"$type": 2}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": {"$numberDouble": "2.0"}}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": {"$numberLong": "16"}}}`, `{"a": 1}`, true},
		{`{"a": {"$type": "double"}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "double"}}`, `{"a": {"$numberDouble": "1.0"}}`, true},
		{`{"a": {"$type": "long"}}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": {"$type": "decimal"}}`, `{"a": {"$numberDecimal": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": {"$numberDecimal": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": "1"}`, false},
		{`{"a": {"$type": ["string", "int"]}}`, `{"a": 5}`, true},
		{`{"a": {"$type": ["string", "bool"]}}`, `{"a": 5}`, false},
		{`{"a": {"$type": "array"}}`, `{"a": []}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": [1]}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "int"}}`, `{"a": ["x", 1]}`, true},
		{`{"a": {"$type": "int"}}`, `{"a": []}`, false},
		{`{"a": {"$type": "object"}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a.b": {"$type": "string"}}`, `{"a": [{"b": 1}, {"b": "x"}]}`, true},
		{`{"a": {"$type": "null"}}`, `{"a": null}`, true},
		{`{"a": {"$type": "undefined"}}`, `{"a": {"$undefined": true}}`, true},
		{`{"a": {"$type": "date"}}`, `{"a": {"$date": "2024-01-01T00:00:00Z"}}`, true},
		{`{"a": {"$type": "timestamp"}}`, `{"a": {"$timestamp": {"t": 1, "i": 1}}}`, true},
		{`{"a": {"$type": "objectId"}}`, `{"a": {"$oid": "650000000000000000000001"}}`, true},
		{`{"a": {"$type": "bool"}}`, `{"a": false}`, true},
		{`{"a": {"$type": "binData"}}`, `{"a": {"$binary": {"base64": "AA==", "subType": "00"}}}`, true},
		{`{"a": {"$type": "regex"}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
		{`{"a": {"$type": "javascript"}}`, `{"a": {"$code": "f()"}}`, true},
		{`{"a": {"$type": "javascriptWithScope"}}`, `{"a": {"$code": "f()", "$scope": {}}}`, true},
		{`{"a": {"$type": "dbPointer"}}`, `{"a": {"$dbPointer": {"$ref": "c", "$id": {"$oid": "650000000000000000000001"}}}}`, true},
		{`{"a": {"$type": "minKey"}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$type": -1}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$type": "maxKey"}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$type": 127}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$type": 127}}`, `{"a": {"$minKey": 1}}`, false},
	})
}

// $size: exact length of the array itself (nested arrays not traversed).
// https://www.mongodb.com/docs/manual/reference/operator/query/size/
func TestMatchSize(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$size": 2}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": 2}}`, `{"a": [1]}`, false},
		{`{"a": {"$size": 2}}`, `{"a": "ab"}`, false},
		{`{"a": {"$size": 0}}`, `{}`, false},
		{`{"a": {"$size": 0}}`, `{"a": []}`, true},
		{`{"a": {"$size": {"$numberDouble": "2.0"}}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": {"$numberLong": "2"}}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": 1}}`, `{"a": [[1, 2]]}`, true},
		{`{"a": {"$size": 2}}`, `{"a": [[1, 2]]}`, false},
		{`{"a.b": {"$size": 2}}`, `{"a": [{"b": [1]}, {"b": [1, 2]}]}`, true},
		{`{"a.b": {"$size": 3}}`, `{"a": [{"b": [1]}, {"b": [1, 2]}]}`, false},
		{`{"a": {"$not": {"$size": 2}}}`, `{"a": [1]}`, true},
	})
}

// $all: every value present (equality, regex), or every $elemMatch
// satisfied; an empty list matches nothing.
// https://www.mongodb.com/docs/manual/reference/operator/query/all/
func TestMatchAll(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$all": ["x", "y"]}}`, `{"a": ["y", "z", "x"]}`, true},
		{`{"a": {"$all": ["x", "y"]}}`, `{"a": ["x"]}`, false},
		{`{"a": {"$all": ["x"]}}`, `{"a": "x"}`, true},
		{`{"a": {"$all": []}}`, `{"a": []}`, false},
		{`{"a": {"$all": []}}`, `{"a": [1]}`, false},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$all": [1, {"$numberDecimal": "2"}]}}`, `{"a": [{"$numberDouble": "2.0"}, {"$numberLong": "1"}]}`, true},
		{`{"a": {"$all": [{"$regularExpression": {"pattern": "^x", "options": ""}}, "b"]}}`, `{"a": ["b", "xa"]}`, true},
		{`{"a": {"$all": [{"$regularExpression": {"pattern": "^x", "options": ""}}, "b"]}}`, `{"a": ["b", "ax"]}`, false},
		{`{"a.b": {"$all": [1, 2]}}`, `{"a": [{"b": 1}, {"b": 2}]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}}`, `{"a": [{"b": 1}, {"c": 2}]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}}`, `{"a": [{"b": 1}]}`, false},
		{`{"a": {"$all": [{"$elemMatch": {"$gt": 5}}]}}`, `{"a": [1, 6]}`, true},
	})
}

// $elemMatch: an array element satisfying every condition at once; the
// operator form tests elements themselves, the query form documents.
// https://www.mongodb.com/docs/manual/reference/operator/query/elemMatch/
func TestMatchElemMatch(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}`, `{"a": [82, 85, 88]}`, true},
		{`{"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}`, `{"a": [75, 88, 89]}`, false},
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1, "c": 2}]}`, true},
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{`{"a": {"$elemMatch": {"b": 1}}}`, `{"a": {"b": 1}}`, false},
		{`{"a": {"$elemMatch": {"b": 1}}}`, `{}`, false},
		{`{"a": {"$elemMatch": {"b": {"$gt": 1}}}}`, `{"a": [{"b": [0, 2]}]}`, true},
		{`{"a": {"$elemMatch": {"$eq": 1}}}`, `{"a": [[1]]}`, false},
		{`{"a": {"$elemMatch": {"$eq": 1}}}`, `{"a": [2, 1]}`, true},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [{}]}`, true},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [1]}`, false},
		{`{"a": {"$elemMatch": {"$and": [{"b": 1}]}}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": {"$elemMatch": {"$or": [{"b": 1}, {"c": 1}]}}}`, `{"a": [{"c": 1}]}`, true},
		{`{"a": {"$elemMatch": {"$ne": 1}}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$elemMatch": {"$ne": 1}}}`, `{"a": [1]}`, false},
		{`{"a": {"$elemMatch": {"$not": {"$gt": 1}}}}`, `{"a": [2, 0]}`, true},
		{`{"a": {"$elemMatch": {"$not": {"$gt": 1}}}}`, `{"a": [2]}`, false},
		{`{"a": {"$elemMatch": {"$in": ["x"], "$type": "string"}}}`, `{"a": [1, "x"]}`, true},
		{`{"a": {"$elemMatch": {"$size": 2}}}`, `{"a": [[1], [1, 2]]}`, true},
		{`{"a": {"$elemMatch": {"$elemMatch": {"$gt": 1}}}}`, `{"a": [[0], [2]]}`, true},
		{`{"a": {"$elemMatch": {"$regex": "^x"}}}`, `{"a": ["ax", "xa"]}`, true},
		{`{"a": {"$elemMatch": {"b": {"$elemMatch": {"$gt": 1}}}}}`, `{"a": [{"b": [0, 2]}]}`, true},
		// An array element is matched as a document keyed by index.
		{`{"a": {"$elemMatch": {"0": 1}}}`, `{"a": [[1, 2]]}`, true},
		{`{"a.b": {"$elemMatch": {"$gt": 1}}}`, `{"a": [{"b": [0]}, {"b": [2]}]}`, true},
		{`{"a.b": {"$elemMatch": {"$gt": 1}}}`, `{"a": [{"b": 2}]}`, false},
	})
}

// $not negates the whole condition (and so matches missing fields); it
// takes an operator document or a regex.
// https://www.mongodb.com/docs/manual/reference/operator/query/not/
func TestMatchNot(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$not": {"$gt": 1.99}}}`, `{"a": 1.99}`, true},
		{`{"a": {"$not": {"$gt": 1.99}}}`, `{"a": 2}`, false},
		{`{"a": {"$not": {"$gt": 1.99}}}`, `{}`, true},
		{`{"a": {"$not": {"$gt": 1.99}}}`, `{"a": "x"}`, true},
		{`{"a": {"$not": {"$gt": 1}}}`, `{"a": [0, 2]}`, false},
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": 3}`, false},
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": 7}`, true},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^p", "options": ""}}}}`, `{"a": "pear"}`, false},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^p", "options": ""}}}}`, `{"a": "apple"}`, true},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^p", "options": "i"}}}}`, `{"a": "Pear"}`, false},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^p", "options": ""}}}}`, `{}`, true},
		{`{"a": {"$not": {"$regex": "^p"}}}`, `{"a": "pear"}`, false},
		{`{"a": {"$not": {"$regex": "^p", "$options": "i"}}}`, `{"a": "Pear"}`, false},
		{`{"a": {"$not": {"$ne": 1}}}`, `{"a": 1}`, true},
		{`{"a": {"$not": {"$not": {"$eq": 1}}}}`, `{"a": 1}`, true},
		{`{"a": {"$not": {"$in": ["x"]}}}`, `{"a": ["y", "x"]}`, false},
		{`{"a": {"$not": {"$elemMatch": {"$gt": 1}}}}`, `{"a": [0]}`, true},
	})
}

// $mod: [divisor, remainder], values truncated toward zero.
// https://www.mongodb.com/docs/manual/reference/operator/query/mod/
func TestMatchMod(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$mod": [4, 0]}}`, `{"a": 8}`, true},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": 7}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": "8"}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": {"$numberDouble": "8.9"}}`, true},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": [1, 12]}`, true},
		{`{"a": {"$mod": [{"$numberDouble": "4.5"}, 0]}}`, `{"a": 8}`, true},
		{`{"a": {"$mod": [4, {"$numberDouble": "1.9"}]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [-4, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [4, -1]}}`, `{"a": -5}`, true},
		{`{"a": {"$mod": [4, 3]}}`, `{"a": -5}`, false},
		{`{"a": {"$mod": [2, 1]}}`, `{"a": {"$numberDecimal": "3.7"}}`, true},
		{`{"a": {"$mod": [2, 1]}}`, `{"a": {"$numberDecimal": "-3.7"}}`, false},
		{`{"a": {"$mod": [2, -1]}}`, `{"a": {"$numberDecimal": "-3.7"}}`, true},
		{`{"a": {"$mod": [2, 0]}}`, `{"a": {"$numberDecimal": "2E+10"}}`, true},
		{`{"a": {"$mod": [3, 1]}}`, `{"a": {"$numberLong": "9223372036854775807"}}`, true},
		{`{"a": {"$mod": [-1, 0]}}`, `{"a": {"$numberLong": "-9223372036854775808"}}`, true},
		{`{"a": {"$mod": [2, 0]}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$mod": [2, 0]}}`, `{"a": {"$numberDouble": "Infinity"}}`, false},
		{`{"a": {"$mod": [2, 0]}}`, `{"a": {"$numberDouble": "1e300"}}`, false},
		{`{"a": {"$mod": [2, 0]}}`, `{"a": {"$numberDecimal": "1E+30"}}`, false},
	})
}

// $and, $or, $nor and $comment at the top level and nested.
// https://www.mongodb.com/docs/manual/reference/operator/query-logical/
// https://www.mongodb.com/docs/manual/reference/operator/query/comment/
func TestMatchLogical(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{}`, `{"a": 1}`, true},
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 2}`, true},
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1}`, false},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"b": 2}`, true},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"c": 1}`, false},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"c": 1}`, true},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"a": 1}`, false},
		{`{"$nor": [{"a": {"$gt": 1}}]}`, `{}`, true},
		{`{"$and": [{"a": {"$gt": 1}}, {"a": {"$lt": 5}}]}`, `{"a": [0, 6]}`, true},
		{`{"$or": [{"$and": [{"a": 1}, {"b": 1}]}, {"c": 1}]}`, `{"a": 1, "b": 1}`, true},
		{`{"$or": [{"$and": [{"a": 1}, {"b": 1}]}, {"c": 1}]}`, `{"a": 1, "b": 2}`, false},
		{`{"$comment": "why", "a": 1}`, `{"a": 1}`, true},
		{`{"$comment": "why", "a": 1}`, `{"a": 2}`, false},
		{`{"a": 1, "$or": [{"b": 1}, {"c": 1}]}`, `{"a": 1, "c": 1}`, true},
		{`{"a": 1, "$or": [{"b": 1}, {"c": 1}]}`, `{"a": 2, "c": 1}`, false},
	})
}
