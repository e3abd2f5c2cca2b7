package cond_test

// The known differences between lungo and MongoDB: the knownDiffs table that
// TestDifferential (diff_test.go) uses to explain disagreements, the path
// analysis its predicates are built on, and TestKnownDiffExamples, which pins
// each row to its example.

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestKnownDiffExamples pins each row of knownDiffs: our matcher gives the
// MongoDB-documented answer on the row's example, lungo does not, and the
// row's predicate recognises its own example.
func TestKnownDiffExamples(t *testing.T) {
	for _, row := range knownDiffs() {
		t.Run(row.name, func(t *testing.T) {
			c := exampleCase(t, row.query, row.doc)
			out := evaluate(c)
			if out.oursErr != nil {
				t.Fatalf("compile %s: %v", row.query, out.oursErr)
			}
			if out.ours != row.want {
				t.Errorf("ours = %v, want %v (per %s)\n  query: %s\n  doc:   %s", out.ours, row.want, row.url, row.query, row.doc)
			}
			if out.lungoErr == nil && out.lungo == row.want {
				t.Errorf("lungo agrees with MongoDB on the example, so it does not demonstrate the difference")
			}
			if !row.applies(c) {
				t.Errorf("the row's predicate does not recognise its own example")
			}
		})
	}
}

// exampleCase builds a case from relaxed Extended JSON query and document.
func exampleCase(t *testing.T, query, doc string) diffCase {
	t.Helper()
	var c diffCase
	for _, p := range []struct {
		src string
		d   *bson.D
		raw *bson.Raw
	}{{query, &c.query, &c.rawQuery}, {doc, &c.doc, &c.rawDoc}} {
		if err := bson.UnmarshalExtJSON([]byte(p.src), false, p.d); err != nil {
			t.Fatalf("parse %s: %v", p.src, err)
		}
		*p.raw = mustMarshal(*p.d)
	}
	return c
}

// knownDiff is a documented way in which lungo departs from MongoDB.
type knownDiff struct {
	// name identifies the row in the test log.
	name string
	// url shows MongoDB's behaviour: the manual where it states it,
	// otherwise the server source or regression test that fixes it.
	url string
	// applies recognises the cases the row explains.
	applies func(c diffCase) bool
	// query and doc are a relaxed Extended JSON example on which our
	// matcher must return want, the MongoDB-documented result.
	query, doc string
	want       bool
}

// knownDiffs lists lungo's departures from MongoDB, found by running
// TestDifferential and checked one by one against MongoDB. Where the manual
// states the behaviour, url points to it; where the manual is silent, url
// points to the MongoDB server's own source or regression test that fixes
// the behaviour, which is the most authoritative statement there is.
func knownDiffs() []knownDiff {
	const (
		pathCpp     = "https://github.com/mongodb/mongo/blob/master/src/mongo/db/matcher/path.cpp"
		nullTest    = "https://github.com/mongodb/mongo/blob/master/jstests/core/query/null_query_semantics.js"
		numericTest = "https://github.com/mongodb/mongo/blob/master/jstests/core/query/match_numeric_components.js"
	)
	return []knownDiff{{
		name: "field names skip arrays nested in arrays",
		url:  pathCpp + " (BSONElementIterator::more: array elements that are neither documents nor the indexed position are skipped)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.nestedArray
		}),
		query: `{"a.b": 1}`, doc: `{"a": [[{"b": 1}]]}`, want: false,
	}, {
		name: "numeric segment also names document fields",
		url:  "https://github.com/mongodb/mongo/blob/master/jstests/core/query/array/array_match2.js",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.numericOnDocs
		}),
		query: `{"a.1": 4}`, doc: `{"a": [{"1": 4}, 5]}`, want: true,
	}, {
		name: "indexed array element is not expanded",
		url:  numericTest + " ({\"a.0\": 42} does not return {a: [[42]]})",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.indexedArrayLeaf
		}),
		query: `{"a.0": 1}`, doc: `{"a": [[1, 2]]}`, want: false,
	}, {
		name: "path past an indexed scalar finds nothing",
		url:  pathCpp + " (an array offset match that is not a document or array yields nothing for the rest of the path)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.indexedScalarPast
		}),
		query: `{"a.0.b": null}`, doc: `{"a": [1]}`, want: false,
	}, {
		name: "missing field in an array's document is null",
		url:  nullTest + " (a_object_array_some_b_missing matches {\"a.b\": {$eq: null}})",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.missingInArray && nullOperand(u)
		}),
		query: `{"a.b": null}`, doc: `{"a": [{"b": 1}, {"c": 1}]}`, want: true,
	}, {
		name: "$type null does not match missing",
		url:  "https://www.mongodb.com/docs/manual/tutorial/query-for-null-fields/#type-check",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$type" && typeIncludesNull(u.operand)
		}),
		query: `{"a": {"$type": "null"}}`, doc: `{"b": 1}`, want: false,
	}, {
		name: "documents compare field types before names",
		url:  "https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#objects",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			d, ok := u.operand.(bson.D)
			return isOrdering(u.op) && ok && len(d) > 0
		}),
		query: `{"a": {"$gt": {"b": "x"}}}`, doc: `{"a": {"c": null}}`, want: false,
	}, {
		name: "whole array reached through documents compares",
		url:  "https://www.mongodb.com/docs/manual/tutorial/query-arrays/#match-an-array",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.leafArrayViaTraversal
		}),
		query: `{"a.b": [1]}`, doc: `{"a": [{"b": [1]}]}`, want: true,
	}, {
		name: "empty array reached through an array counts",
		url:  "https://www.mongodb.com/docs/manual/reference/operator/query/exists/",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return f.emptyArrayViaTraversal
		}),
		query: `{"a.b": {"$exists": true}}`, doc: `{"a": [1, {"b": []}]}`, want: true,
	}, {
		name: "$elemMatch tests each array, not a merge",
		url:  "https://www.mongodb.com/docs/manual/reference/operator/query/elemMatch/",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$elemMatch" && f.throughArray
		}),
		query: `{"a.b": {"$elemMatch": {"$gt": 1}}}`, doc: `{"a": [{"b": 2}]}`, want: false,
	}, {
		name: "$elemMatch query skips scalar elements",
		url:  "https://github.com/mongodb/mongo/blob/master/src/mongo/db/matcher/expression_array.cpp (ElemMatchObjectMatchExpression::matchesArray skips elements that are not documents or arrays)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$elemMatch" && u.elemObject && f.leafNonDocElems
		}),
		query: `{"a": {"$elemMatch": {"b": {"$ne": 1}}}}`, doc: `{"a": [5]}`, want: false,
	}, {
		name: "$mod truncates decimal128 values",
		url:  "https://github.com/mongodb/mongo/blob/master/src/mongo/db/matcher/expression_leaf.cpp (ModMatchExpression::matchesSingleElement rounds NumberDecimal toward zero)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$mod" && f.leafNumbers.decimal
		}),
		query: `{"a": {"$mod": [2, 0]}}`, doc: `{"a": {"$numberDecimal": "4"}}`, want: true,
	}, {
		name: "NaN compares equal to NaN only",
		url:  "https://github.com/mongodb/mongo/blob/master/src/mongo/db/matcher/expression_leaf.cpp (ComparisonMatchExpressionBase::compare: NaN is equal to NaN but otherwise always compares to false)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return comparesValues(u.op) && (numberKindsIn(u.operand).nan || f.leafNumbers.nan)
		}),
		query: `{"a": {"$lt": 2}}`, doc: `{"a": {"$numberDecimal": "NaN"}}`, want: false,
	}, {
		name: "decimal128 and double compare exactly",
		url:  "https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#numeric-types",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			op := numberKindsIn(u.operand)
			return comparesValues(u.op) && (op.decimal && f.leafNumbers.inexactDouble || op.inexactDouble && f.leafNumbers.decimal)
		}),
		query: `{"a": 0.1}`, doc: `{"a": {"$numberDecimal": "0.1"}}`, want: false,
	}, {
		name: "$all does not look into nested arrays",
		url:  "https://www.mongodb.com/docs/manual/reference/operator/query/all/ (Behavior: equivalent to $and of equalities; Nested Array)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$all" && f.leafNestedArrays
		}),
		query: `{"a": {"$all": [1]}}`, doc: `{"a": [[1, 2]]}`, want: false,
	}, {
		name: "$all values match independently",
		url:  "https://www.mongodb.com/docs/manual/reference/operator/query/all/ (Behavior: equivalent to $and of equalities)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			values, ok := u.operand.(bson.A)
			if u.op != "$all" || !ok || len(values) < 2 {
				return false
			}
			for _, v := range values {
				if _, isArr := v.(bson.A); isArr {
					return true
				}
			}
			return false
		}),
		query: `{"a": {"$all": [1, [1]]}}`, doc: `{"a": [1]}`, want: true,
	}, {
		name: "$elemMatch operators see each element whole",
		url:  "https://github.com/mongodb/mongo/blob/master/src/mongo/db/matcher/expression_array.cpp (ElemMatchValueMatchExpression applies each operator to the element itself)",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$elemMatch" && !u.elemObject && f.leafNestedArrays
		}),
		query: `{"a": {"$elemMatch": {"$gt": 1}}}`, doc: `{"a": [[2]]}`, want: false,
	}, {
		name: "$size sees no array where traversal finds none",
		url:  "https://www.mongodb.com/docs/manual/reference/operator/query/size/",
		applies: anyUse(func(u pathUse, f pathFlags) bool {
			return u.op == "$size" && f.skippedScalars
		}),
		query: `{"a.b.c": {"$size": 2}}`, doc: `{"a": [{"b": [1, 2]}]}`, want: false,
	}}
}

// pathUse is one place a query looks at a document: a path and the operator
// applied there. Conditions inside $not and operator-form $elemMatch keep
// their field's path; query-form $elemMatch conditions get the field's path
// prefixed, which walks the same structure the element-wise match would.
type pathUse struct {
	path, op string
	operand  any
	// elemObject marks a $elemMatch whose operand is a query on the
	// elements' fields rather than operators on the elements.
	elemObject bool
}

// pathFlags are the structural features met while resolving a path in a
// document with MongoDB's traversal rules.
type pathFlags struct {
	nestedArray            bool        // an array directly inside a traversed array was skipped
	numericOnDocs          bool        // a numeric segment met documents inside an array
	indexedArrayLeaf       bool        // the path ended at an indexed element that is an array
	indexedScalarPast      bool        // the path continued past an indexed scalar element
	missingInArray         bool        // a document inside a traversed array lacked the rest of the path
	throughArray           bool        // an array was traversed with path remaining
	leafArrayViaTraversal  bool        // an array was reached after traversing an array
	emptyArrayViaTraversal bool        // an empty array was traversed or reached via traversal
	leafNonDocElems        bool        // a reached array holds elements that are not documents
	leafNestedArrays       bool        // a reached array holds arrays
	skippedScalars         bool        // a traversed array with path remaining held scalars
	leafNumbers            numberKinds // the numbers in the reached values
}

// anyUse returns a predicate that holds when pred holds for some use of the
// case's query, given the flags of resolving that use's path in the document.
func anyUse(pred func(u pathUse, f pathFlags) bool) func(c diffCase) bool {
	return func(c diffCase) bool {
		var uses []pathUse
		collectUses(c.query, "", &uses)
		for _, u := range uses {
			var f pathFlags
			walkPath(c.doc, strings.Split(u.path, "."), false, &f)
			if pred(u, f) {
				return true
			}
		}
		return false
	}
}

func collectUses(q bson.D, prefix string, out *[]pathUse) {
	for _, e := range q {
		if strings.HasPrefix(e.Key, "$") {
			for _, sub := range e.Value.(bson.A) {
				collectUses(sub.(bson.D), prefix, out)
			}
			continue
		}
		path := e.Key
		if prefix != "" {
			path = prefix + "." + path
		}
		if ops, ok := e.Value.(bson.D); ok && isOperatorDoc(ops) {
			collectOps(path, ops, out)
			continue
		}
		*out = append(*out, pathUse{path: path, op: "$eq", operand: e.Value})
	}
}

func collectOps(path string, ops bson.D, out *[]pathUse) {
	for _, op := range ops {
		switch op.Key {
		case "$not":
			collectOps(path, op.Value.(bson.D), out)
		case "$elemMatch":
			inner := op.Value.(bson.D)
			object := !isOperatorDoc(inner)
			*out = append(*out, pathUse{path: path, op: op.Key, operand: inner, elemObject: object})
			if object {
				collectUses(inner, path, out)
			} else {
				collectOps(path, inner, out)
			}
		default:
			*out = append(*out, pathUse{path: path, op: op.Key, operand: op.Value})
		}
	}
}

func isOperatorDoc(d bson.D) bool {
	return len(d) > 0 && strings.HasPrefix(d[0].Key, "$")
}

// walkPath resolves segs in v following MongoDB's path iterator and records
// what it meets in f. viaArray tells whether an array has been traversed on
// the way to v.
func walkPath(v any, segs []string, viaArray bool, f *pathFlags) {
	if len(segs) == 0 {
		walkLeaf(v, viaArray, f)
		return
	}
	switch x := v.(type) {
	case bson.D:
		for _, e := range x {
			if e.Key == segs[0] {
				walkPath(e.Value, segs[1:], viaArray, f)
				return
			}
		}
		if viaArray {
			f.missingInArray = true
		}
	case bson.A:
		f.throughArray = true
		if len(x) == 0 {
			f.emptyArrayViaTraversal = true
		}
		idx, err := strconv.Atoi(segs[0])
		numeric := err == nil
		for i, e := range x {
			indexed := numeric && i == idx
			switch e.(type) {
			case bson.D:
				if numeric {
					f.numericOnDocs = true
				}
				walkPath(e, segs, true, f)
			case bson.A:
				if !indexed {
					f.nestedArray = true
				}
			default:
				if !indexed {
					f.skippedScalars = true
				}
			}
			if !indexed {
				continue
			}
			rest := segs[1:]
			switch e.(type) {
			case bson.A:
				if len(rest) == 0 {
					f.indexedArrayLeaf = true
				} else {
					walkPath(e, rest, true, f)
				}
			case bson.D:
				walkPath(e, rest, viaArray, f)
			default:
				if len(rest) > 0 {
					f.indexedScalarPast = true
				} else {
					walkLeaf(e, true, f)
				}
			}
		}
	default:
		// A scalar with path remaining is missing to MongoDB, as is an
		// absent field; lungo drops it when it came from an array.
		if viaArray {
			f.missingInArray = true
		}
	}
}

func walkLeaf(v any, viaArray bool, f *pathFlags) {
	f.leafNumbers = f.leafNumbers.union(numberKindsIn(v))
	arr, ok := v.(bson.A)
	if !ok {
		return
	}
	if viaArray {
		f.leafArrayViaTraversal = true
		if len(arr) == 0 {
			f.emptyArrayViaTraversal = true
		}
	}
	for _, e := range arr {
		if _, isDoc := e.(bson.D); !isDoc {
			f.leafNonDocElems = true
		}
		if _, isArr := e.(bson.A); isArr {
			f.leafNestedArrays = true
		}
	}
}

// numberKinds tells which kinds of numbers occur in a value, at any depth.
type numberKinds struct {
	// inexactDouble is a double that is infinite or whose decimal
	// conversion is inexact at a few digits (0.1 is 0.1000000000000000055…).
	inexactDouble, decimal, nan bool
}

func (k numberKinds) union(o numberKinds) numberKinds {
	return numberKinds{k.inexactDouble || o.inexactDouble, k.decimal || o.decimal, k.nan || o.nan}
}

func numberKindsIn(v any) numberKinds {
	var k numberKinds
	switch x := v.(type) {
	case float64:
		k.inexactDouble = math.IsInf(x, 0) || x*2 != math.Trunc(x*2)
		k.nan = math.IsNaN(x)
	case primitive.Decimal128:
		k.decimal, k.nan = true, x.IsNaN()
	case bson.A:
		for _, e := range x {
			k = k.union(numberKindsIn(e))
		}
	case bson.D:
		for _, e := range x {
			k = k.union(numberKindsIn(e.Value))
		}
	}
	return k
}

// comparesValues reports whether op compares the field with its operand's
// values (as opposed to testing type, size, existence or arithmetic).
func comparesValues(op string) bool {
	switch op {
	case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$all":
		return true
	}
	return false
}

// nullOperand reports whether u compares with null in a way that also
// matches missing fields.
func nullOperand(u pathUse) bool {
	switch u.op {
	case "$eq", "$ne", "$gte", "$lte":
		return u.operand == nil
	case "$in", "$nin", "$all":
		for _, v := range u.operand.(bson.A) {
			if v == nil {
				return true
			}
		}
	}
	return false
}

func typeIncludesNull(operand any) bool {
	list, ok := operand.(bson.A)
	if !ok {
		list = bson.A{operand}
	}
	for _, t := range list {
		if t == "null" || t == int32(10) {
			return true
		}
	}
	return false
}

func isOrdering(op string) bool {
	return op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte"
}
