package cond

import "testing"

// Range operators compare only within a canonical type class (type
// bracketing); all numeric types form one class.
// https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
// https://www.mongodb.com/docs/manual/reference/operator/query/gt/
func TestMatchTypeBracketing(t *testing.T) {
	const (
		d1 = `{"$date": "2024-01-01T00:00:00Z"}`
		d2 = `{"$date": "2024-06-01T00:00:00Z"}`
	)
	runMatchTable(t, []matchCase{
		{`{"a": {"$gt": 1}}`, `{"a": "2"}`, false},
		{`{"a": {"$lt": "b"}}`, `{"a": 1}`, false},
		{`{"a": {"$gt": "a"}}`, `{"a": "b"}`, true},
		{`{"a": {"$gt": "a"}}`, `{"a": "A"}`, false},
		{`{"a": {"$gt": "a"}}`, `{"a": {"$symbol": "b"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": {"$numberDouble": "1.5"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": {"$numberLong": "2"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": {"$numberDecimal": "1.1"}}`, true},
		{`{"a": {"$gte": 1}}`, `{"a": {"$numberDouble": "1.0"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": {"$numberDouble": "1.0"}}`, false},
		{`{"a": {"$lte": 1}}`, `{"a": {"$numberDecimal": "0.999"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": true}`, false},
		{`{"a": {"$gt": 1}}`, `{"a": null}`, false},
		{`{"a": {"$gt": 1}}`, `{}`, false},
		{`{"a": {"$lt": ` + d2 + `}}`, `{"a": ` + d1 + `}`, true},
		{`{"a": {"$gt": ` + d2 + `}}`, `{"a": ` + d1 + `}`, false},
		{`{"a": {"$lt": ` + d2 + `}}`, `{"a": {"$timestamp": {"t": 1, "i": 1}}}`, false},
		{`{"a": {"$lt": ` + d2 + `}}`, `{"a": {"$numberLong": "1"}}`, false},
		{`{"a": {"$gt": {"$timestamp": {"t": 1, "i": 1}}}}`, `{"a": {"$timestamp": {"t": 1, "i": 2}}}`, true},
		{`{"a": {"$gt": {"$timestamp": {"t": 1, "i": 2}}}}`, `{"a": {"$timestamp": {"t": 2, "i": 1}}}`, true},
		{`{"a": {"$gt": {"$oid": "650000000000000000000001"}}}`, `{"a": {"$oid": "650000000000000000000002"}}`, true},
		{`{"a": {"$gt": false}}`, `{"a": true}`, true},
		{`{"a": {"$gt": false}}`, `{"a": 1}`, false},
		// Arrays: any element, or the whole array against an array operand.
		{`{"a": {"$gt": "a"}}`, `{"a": [1, "b"]}`, true},
		{`{"a": {"$gt": [1]}}`, `{"a": [2]}`, true},
		{`{"a": {"$gt": [1]}}`, `{"a": [1]}`, false},
		{`{"a": {"$gte": [1]}}`, `{"a": [1, 0]}`, true},
		{`{"a": {"$lt": [1, 2]}}`, `{"a": [1]}`, true},
		// Documents: class first, then field name, then value.
		{`{"a": {"$gt": {"b": 1}}}`, `{"a": {"b": 2}}`, true},
		{`{"a": {"$gt": {"b": 1}}}`, `{"a": {"c": 0}}`, true},
		{`{"a": {"$gt": {"b": 1}}}`, `{"a": {"b": "0"}}`, true},
		{`{"a": {"$lt": {"b": 1}}}`, `{"a": {"b": null}}`, true},
		{`{"a": {"$lt": {"b": 1}}}`, `{"a": {}}`, true},
		// Each operator of a document traverses the array on its own.
		{`{"a": {"$gt": 5, "$lt": 10}}`, `{"a": [3, 12]}`, true},
		{`{"a": {"$gt": 5, "$lt": 10}}`, `{"a": [3, 4]}`, false},
		// MinKey and MaxKey operands bound every value.
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{"a": "x"}`, true},
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{"a": {"$maxKey": 1}}`, false},
		{`{"a": {"$lte": {"$maxKey": 1}}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$gt": {"$minKey": 1}}}`, `{"a": null}`, true},
		{`{"a": {"$eq": {"$minKey": 1}}}`, `{"a": null}`, false},
		{`{"a": {"$minKey": 1}}`, `{"a": {"$minKey": 1}}`, true},
		// Binary data: length, then subtype and bytes.
		{`{"a": {"$gt": {"$binary": {"base64": "AQI=", "subType": "00"}}}}`, `{"a": {"$binary": {"base64": "AQID", "subType": "00"}}}`, true},
		{`{"a": {"$gt": {"$binary": {"base64": "AQI=", "subType": "00"}}}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "05"}}}`, true},
		{`{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "05"}}}`, false},
		// Regex values compare by pattern, then options.
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": "i"}}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, true},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": "i"}}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, false},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": "x"}`, false},
		// JavaScript code.
		{`{"a": {"$code": "f()"}}`, `{"a": {"$code": "f()"}}`, true},
		{`{"a": {"$code": "f()"}}`, `{"a": "f()"}`, false},
	})
}

// Numbers are equal across int32, int64, double and decimal128 by value;
// a double is converted to decimal with 34 digits, so 9.99 ≠ Decimal128
// "9.99". Large int64 values compare exactly against doubles.
// https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#numeric-types
// https://www.mongodb.com/docs/mongodb-shell/reference/data-types/#decimal128
func TestMatchNumericEquality(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": 1}`, `{"a": {"$numberDouble": "1.0"}}`, true},
		{`{"a": 1}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": 1}`, `{"a": {"$numberDecimal": "1.0"}}`, true},
		{`{"a": 1}`, `{"a": {"$numberDecimal": "1.000000000000000000000000000000000"}}`, true},
		{`{"a": 1}`, `{"a": {"$numberDecimal": "0.1E1"}}`, true},
		{`{"a": {"$numberDecimal": "1"}}`, `{"a": 1}`, true},
		{`{"a": {"$numberLong": "1"}}`, `{"a": {"$numberDouble": "1.0"}}`, true},
		{`{"a": {"$numberDouble": "1.5"}}`, `{"a": 1}`, false},
		{`{"a": 10}`, `{"a": {"$numberDecimal": "10.0"}}`, true},
		{`{"a": {"$numberDecimal": "1E+3"}}`, `{"a": 1000}`, true},
		{`{"a": {"$numberDecimal": "1E+3"}}`, `{"a": 100}`, false},
		{`{"a": 9.99}`, `{"a": {"$numberDecimal": "9.99"}}`, false},
		{`{"a": {"$numberDecimal": "9.99"}}`, `{"a": 9.99}`, false},
		{`{"a": {"$numberDecimal": "9.99"}}`, `{"a": {"$numberDecimal": "9.990"}}`, true},
		{`{"a": {"$numberDouble": "0.5"}}`, `{"a": {"$numberDecimal": "0.50"}}`, true},
		{`{"a": {"$gt": {"$numberDecimal": "0.1"}}}`, `{"a": {"$numberDouble": "0.1"}}`, true},
		{`{"a": {"$numberLong": "9007199254740993"}}`, `{"a": {"$numberDouble": "9007199254740992"}}`, false},
		{`{"a": {"$numberLong": "9007199254740992"}}`, `{"a": {"$numberDouble": "9007199254740992"}}`, true},
		{`{"a": {"$gt": {"$numberDouble": "9007199254740992"}}}`, `{"a": {"$numberLong": "9007199254740993"}}`, true},
		{`{"a": {"$lt": {"$numberDouble": "9223372036854775808"}}}`, `{"a": {"$numberLong": "9223372036854775807"}}`, true},
		{`{"a": {"$numberLong": "9223372036854775807"}}`, `{"a": {"$numberDouble": "9223372036854775808"}}`, false},
		{`{"a": {"$numberLong": "-9223372036854775808"}}`, `{"a": {"$numberDouble": "-9223372036854775808"}}`, true},
		{`{"a": {"$numberLong": "-9223372036854775808"}}`, `{"a": {"$numberDecimal": "-9223372036854775808"}}`, true},
		{`{"a": {"$numberLong": "9223372036854775807"}}`, `{"a": {"$numberDecimal": "9223372036854775807.0"}}`, true},
		{`{"a": 0}`, `{"a": {"$numberDouble": "-0.0"}}`, true},
		{`{"a": 0}`, `{"a": {"$numberDecimal": "-0"}}`, true},
		{`{"a": 0}`, `{"a": {"$numberDecimal": "0E-6176"}}`, true},
		{`{"a": {"$gt": 0}}`, `{"a": {"$numberDecimal": "1E-6176"}}`, true},
		{`{"a": {"$lt": 0}}`, `{"a": {"$numberDecimal": "-1E+6144"}}`, true},
		{`{"a": {"$numberDouble": "Infinity"}}`, `{"a": {"$numberDecimal": "Infinity"}}`, true},
		{`{"a": {"$gt": {"$numberDecimal": "1E+6144"}}}`, `{"a": {"$numberDouble": "Infinity"}}`, true},
		{`{"a": {"$lt": {"$numberDouble": "-1e308"}}}`, `{"a": {"$numberDecimal": "-Infinity"}}`, true},
		// NaN equals NaN (of either type) and is neither < nor > anything.
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$numberDecimal": "NaN"}}`, true},
		{`{"a": {"$in": [{"$numberDouble": "NaN"}]}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$gte": {"$numberDouble": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$gt": {"$numberDouble": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$lt": 1}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$gte": {"$numberDouble": "-Infinity"}}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": 1}`, false},
		// NaN sorts below every number inside documents and arrays.
		{`{"a": {"$lt": [{"$numberDouble": "-Infinity"}]}}`, `{"a": [{"$numberDouble": "NaN"}]}`, true},
		{`{"a": [{"$numberDecimal": "NaN"}]}`, `{"a": [{"$numberDouble": "NaN"}]}`, true},
		{`{"a": [{"$numberDecimal": "NaN"}]}`, `{"a": [{"$numberDecimal": "NaN"}]}`, true},
		{`{"a": [{"$numberDecimal": "Infinity"}]}`, `{"a": [{"$numberDecimal": "Infinity"}]}`, true},
		{`{"a": {"$lt": [{"$numberDecimal": "-Infinity"}]}}`, `{"a": [{"$numberDecimal": "NaN"}]}`, true},
	})
}
