package cond

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/rawbson"
)

// Operators that cannot be evaluated in process are rejected, each error
// naming the operator.
// https://www.mongodb.com/docs/manual/reference/operator/query/ (the full list)
func TestCompileRejectsOperators(t *testing.T) {
	cases := []struct{ query, op, path string }{
		{`{"$where": "this.a == 1"}`, "$where", ""},
		{`{"$expr": {"$eq": ["$a", 1]}}`, "$expr", ""},
		{`{"$text": {"$search": "x"}}`, "$text", ""},
		{`{"$jsonSchema": {"required": ["a"]}}`, "$jsonSchema", ""},
		{`{"$function": {"body": "", "args": [], "lang": "js"}}`, "$function", ""},
		{`{"$alwaysTrue": 1}`, "$alwaysTrue", ""},
		{`{"$foo": 1}`, "$foo", ""},
		{`{"a": {"$where": "1"}}`, "$where", "a"},
		{`{"a": {"$geoWithin": {"$center": [[0, 0], 1]}}}`, "$geoWithin", "a"},
		{`{"a": {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}}`, "$geoIntersects", "a"},
		{`{"a": {"$near": [0, 0]}}`, "$near", "a"},
		{`{"a": {"$nearSphere": [0, 0]}}`, "$nearSphere", "a"},
		{`{"a": {"$within": {"$box": [[0, 0], [1, 1]]}}}`, "$within", "a"},
		{`{"a": {"$box": [[0, 0], [1, 1]]}}`, "$box", "a"},
		{`{"a": {"$center": [[0, 0], 1]}}`, "$center", "a"},
		{`{"a": {"$centerSphere": [[0, 0], 1]}}`, "$centerSphere", "a"},
		{`{"a": {"$polygon": [[0, 0], [1, 1], [1, 0]]}}`, "$polygon", "a"},
		{`{"a": {"$maxDistance": 1}}`, "$maxDistance", "a"},
		{`{"a": {"$bitsAllSet": 1}}`, "$bitsAllSet", "a"},
		{`{"a": {"$bitsAnyClear": [1]}}`, "$bitsAnyClear", "a"},
		{`{"a": {"$text": "x"}}`, "$text", "a"},
		{`{"a": {"$comment": "x"}}`, "$comment", "a"},
		{`{"a": {"$eq": 1, "$bogus": 1}}`, "$bogus", "a"},
		{`{"a": {"$not": {"$bogus": 1}}}`, "$bogus", "a"},
		{`{"a": {"$elemMatch": {"$bogus": 1}}}`, "$bogus", "a"},
		{`{"a": {"$elemMatch": {"b": {"$where": "1"}}}}`, "$where", "b"},
		{`{"a": {"$elemMatch": {"$where": "1"}}}`, "$where", ""},
		{`{"$or": [{"a": {"$near": [0, 0]}}]}`, "$near", "a"},
		{`{"$and": [{"$expr": true}]}`, "$expr", ""},
	}
	for _, c := range cases {
		_, err := CompileString(c.query)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want *Error", c.query, err)
			continue
		}
		if e.Operator != c.op || e.Path != c.path {
			t.Errorf("%s: error names operator %q path %q, want %q %q", c.query, e.Operator, e.Path, c.op, c.path)
		}
		if !strings.Contains(err.Error(), c.op) {
			t.Errorf("%s: message %q does not name %s", c.query, err, c.op)
		}
	}
}

// Malformed operator arguments are compile errors naming the operator.
func TestCompileRejectsMalformedArguments(t *testing.T) {
	cases := []struct{ query, op string }{
		{`{"a": {"$in": 1}}`, "$in"},
		{`{"a": {"$in": {"x": 1}}}`, "$in"},
		{`{"a": {"$nin": "x"}}`, "$nin"},
		{`{"a": {"$in": [{"$gt": 1}]}}`, "$in"},
		{`{"a": {"$in": [{"$undefined": true}]}}`, "$in"},
		{`{"a": {"$size": "2"}}`, "$size"},
		{`{"a": {"$size": true}}`, "$size"},
		{`{"a": {"$size": -1}}`, "$size"},
		{`{"a": {"$size": 1.5}}`, "$size"},
		{`{"a": {"$size": {"$numberDouble": "NaN"}}}`, "$size"},
		{`{"a": {"$size": {"$numberLong": "4294967296"}}}`, "$size"},
		{`{"a": {"$exists": {}}}`, "$exists"},
		{`{"a": {"$exists": [true]}}`, "$exists"},
		{`{"a": {"$type": "foo"}}`, "$type"},
		{`{"a": {"$type": 42}}`, "$type"},
		{`{"a": {"$type": 0}}`, "$type"},
		{`{"a": {"$type": 2.5}}`, "$type"},
		{`{"a": {"$type": []}}`, "$type"},
		{`{"a": {"$type": ["string", true]}}`, "$type"},
		{`{"a": {"$type": {"x": 1}}}`, "$type"},
		{`{"a": {"$mod": [0, 1]}}`, "$mod"},
		{`{"a": {"$mod": [{"$numberDouble": "0.5"}, 1]}}`, "$mod"},
		{`{"a": {"$mod": [1]}}`, "$mod"},
		{`{"a": {"$mod": [1, 2, 3]}}`, "$mod"},
		{`{"a": {"$mod": "x"}}`, "$mod"},
		{`{"a": {"$mod": [{"$numberDouble": "NaN"}, 1]}}`, "$mod"},
		{`{"a": {"$mod": [{"$numberDouble": "Infinity"}, 1]}}`, "$mod"},
		{`{"a": {"$mod": [2, "1"]}}`, "$mod"},
		{`{"a": {"$mod": [{"$numberDouble": "1e19"}, 1]}}`, "$mod"},
		{`{"$and": []}`, "$and"},
		{`{"$and": {"a": 1}}`, "$and"},
		{`{"$or": [1]}`, "$or"},
		{`{"$nor": []}`, "$nor"},
		{`{"a": {"$not": 5}}`, "$not"},
		{`{"a": {"$not": {}}}`, "$not"},
		{`{"a": {"$elemMatch": 1}}`, "$elemMatch"},
		{`{"a": {"$elemMatch": [1]}}`, "$elemMatch"},
		{`{"a": {"$all": 1}}`, "$all"},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, 1]}}`, "$all"},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}, "$size": 1}]}}`, "$all"},
		{`{"a": {"$all": [{"$gt": 1}]}}`, "$all"},
		{`{"a": {"$regex": 5}}`, "$regex"},
		{`{"a": {"$options": "i"}}`, "$options"},
		{`{"a": {"$regex": "x", "$options": 1}}`, "$options"},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "x", "options": "i"}}, "$options": "m"}}`, "$options"},
		{`{"a": {"$regex": "x", "$options": "z"}}`, "$regex"},
		{`{"a": {"$regex": "x", "$regex": "y"}}`, "$regex"},
		{`{"a": {"$ne": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, "$ne"},
		{`{"a": {"$gt": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, "$gt"},
		{`{"a": {"$lte": {"$undefined": true}}}`, "$lte"},
		{`{"a": {"$eq": {"$undefined": true}}}`, "$eq"},
		{`{"a": {"$gt": 1, "b": 1}}`, "b"},
	}
	for _, c := range cases {
		_, err := CompileString(c.query)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want *Error", c.query, err)
			continue
		}
		wantPath := "a"
		if !strings.HasPrefix(c.query, `{"a"`) {
			wantPath = ""
		}
		if e.Operator != c.op || e.Path != wantPath {
			t.Errorf("%s: error %q names operator %q path %q, want %q path %q", c.query, err, e.Operator, e.Path, c.op, wantPath)
		}
	}
}

// Patterns RE2 cannot compile are errors naming the path, the operator and
// the pattern.
func TestCompileRejectsBadRegex(t *testing.T) {
	cases := []struct{ query, prefix string }{
		{`{"statement.verb.id": {"$regex": "(?<=a)b"}}`, `statement.verb.id: $regex: invalid pattern "(?<=a)b": `},
		{`{"a": {"$regex": "a(?=b)"}}`, `a: $regex: invalid pattern "a(?=b)": `},
		{`{"a": {"$regex": "a(?!b)"}}`, `a: $regex: invalid pattern "a(?!b)": `},
		{`{"a": {"$regex": "(a)\\1"}}`, `a: $regex: invalid pattern "(a)\\1": `},
		{`{"a": {"$regex": "(?>a)"}}`, `a: $regex: invalid pattern "(?>a)": `},
		{`{"a": {"$regex": "a++"}}`, `a: $regex: invalid pattern "a++": `},
		{`{"a": {"$regex": "("}}`, `a: $regex: invalid pattern "(": `},
		{`{"a": {"$regex": "a\\"}}`, `a: $regex: invalid pattern "a\\": `},
		{`{"a": {"$regularExpression": {"pattern": "(?<!a)b", "options": ""}}}`, `a: invalid pattern "(?<!a)b": `},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "\\1", "options": ""}}]}}`, `a: $in: invalid pattern "\\1": `},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "(?<=x)", "options": ""}}}}`, `a: $not: invalid pattern "(?<=x)": `},
		{`{"a": {"$all": [{"$regularExpression": {"pattern": "(?=x)", "options": ""}}]}}`, `a: $all: invalid pattern "(?=x)": `},
	}
	for _, c := range cases {
		_, err := CompileString(c.query)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want *Error", c.query, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("%s: message %q, want prefix %q", c.query, err, c.prefix)
		}
	}
}

// Strings that are not Extended JSON query documents are rejected.
func TestCompileStringRejectsBadJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a": 1`, "invalid JSON at offset"},
		{`{"a": 1 "b": 2}`, "invalid JSON at offset 9"},
		{`{"a": 1} x`, "invalid JSON at offset"},
		{``, "invalid JSON"},
		{`[{"a": 1}]`, "must be a JSON object"},
		{`"a"`, "must be a JSON object"},
		{`{"a": {"$oid": "zz"}}`, "invalid Extended JSON"},
		{`{"a": {"$date": "yesterday"}}`, "invalid Extended JSON"},
		{`{"a": {"$numberLong": 5}}`, "invalid Extended JSON"},
	}
	for _, c := range cases {
		_, err := CompileString(c.in)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CompileString(%q) = %v, want *Error containing %q", c.in, err, c.want)
		}
	}
}

// Compile rejects bytes that are not a BSON document, and copies its
// input so later changes to the caller's buffer do not alter the query.
func TestCompileRawInput(t *testing.T) {
	bad := []bson.Raw{
		nil,
		{0, 0, 0, 0},                            // zero length (panics bsoncore's Validate)
		{1, 2, 3},                               // truncated prefix
		{5, 0, 0, 0, 1},                         // not NUL-terminated
		{5, 0, 0, 0, 0, 0},                      // trailing byte
		{12, 0, 0, 0, 2, 'a', 0, 9, 0, 0, 0, 0}, // string longer than the document
		{14, 0, 0, 0, 2, 'a', 0, 2, 0, 0, 0, 'x', 'y', 0}, // string not NUL-terminated
		{10, 0, 0, 0, 0x42, 'a', 0, 0, 0, 0},              // unknown type
		{9, 0, 0, 0, 3, 'a', 0, 0, 0},                     // embedded document truncated
		nested(rawbson.MaxDepth + 1),
	}
	for _, b := range bad {
		if _, err := Compile(b); err == nil {
			t.Errorf("Compile(%v) succeeded", b)
		}
	}
	if _, err := Compile(nested(100)); err != nil {
		t.Errorf("Compile of a query nested 100 levels: %v", err)
	}
	q, err := bson.Marshal(bson.D{{Key: "a", Value: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(q)
	if err != nil {
		t.Fatal(err)
	}
	q[len(q)-3] = 'y' // the query now reads {"a": "y"}
	if !m.Match(mustDoc(t, `{"a": "x"}`)) || m.Match(mustDoc(t, `{"a": "y"}`)) {
		t.Error("the compiled query changed with the caller's buffer")
	}
}

func TestErrorMessage(t *testing.T) {
	cases := []struct {
		e    Error
		want string
	}{
		{Error{Operator: "$where", Reason: "unsupported"}, "$where: unsupported"},
		{Error{Path: "a.b", Operator: "$in", Reason: "needs an array"}, "a.b: $in: needs an array"},
		{Error{Path: "a", Reason: "bad"}, "a: bad"},
		{Error{Reason: "invalid JSON"}, "invalid JSON"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.e, got, c.want)
		}
	}
}

// nested returns the query {$and: [{$and: [… {a: 1} …]}]} whose innermost
// document lies at least depth levels (documents and arrays) below the top.
func nested(depth int) bson.Raw {
	q := bson.D{{Key: "a", Value: 1}}
	for d := 0; d < depth; d += 2 {
		q = bson.D{{Key: "$and", Value: bson.A{q}}}
	}
	b, err := bson.Marshal(q)
	if err != nil {
		panic(err)
	}
	return b
}
