package cond_test

// The differential test: random documents and queries, evaluated by our
// matcher and by lungo's mongokit.Match (an independent Go implementation of
// MongoDB query semantics). Any disagreement must be recognised by a row of
// knownDiffs, which documents where lungo departs from MongoDB; anything else
// fails the test.
//
// Reproduce or vary a run with:
//
//	COND_DIFF_SEED=42 COND_DIFF_CASES=50000 go test -run=TestDifferential ./processor/cond/
//
// Every case derives its own generator from (seed, index), so a failure
// report's seed and index identify the case exactly.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
)

// diffCase is one generated (query, document) pair in all the forms the
// oracles and the predicates need.
type diffCase struct {
	query    bson.D
	doc      bson.D
	rawQuery bson.Raw
	rawDoc   bson.Raw
}

// diffOutcome is what each implementation said about a case.
type diffOutcome struct {
	ours, lungo       bool
	oursErr, lungoErr error
}

func TestDifferential(t *testing.T) {
	seed := envInt(t, "COND_DIFF_SEED", 1)
	cases := int(envInt(t, "COND_DIFF_CASES", 100_000))

	rows := knownDiffs()
	perRow := make([]int, len(rows))
	var matched, rejected, unexplained int
	for i := 0; i < cases; i++ {
		c := newDiffCase(seed, i)
		out := evaluate(c)
		switch {
		case out.oursErr != nil && out.lungoErr != nil:
			rejected++
			continue
		case out.oursErr == nil && out.lungoErr == nil && out.ours == out.lungo:
			if out.ours {
				matched++
			}
			continue
		}
		if row := classify(rows, c, out); row >= 0 {
			perRow[row]++
			continue
		}
		unexplained++
		if unexplained <= 20 {
			t.Errorf("unexplained disagreement, COND_DIFF_SEED=%d case %d: ours=%v (err %v), lungo=%v (err %v)\n  query: %s\n  doc:   %s",
				seed, i, out.ours, out.oursErr, out.lungo, out.lungoErr, extJSON(c.rawQuery), extJSON(c.rawDoc))
		}
	}

	for i, n := range perRow {
		t.Logf("known difference %-40q %6d cases", rows[i].name, n)
	}
	t.Logf("%d cases: %d matched by both, %d rejected by both, %d unexplained disagreements", cases, matched, rejected, unexplained)
	if unexplained > 0 {
		t.Errorf("%d unexplained disagreements (first 20 shown above)", unexplained)
	}
	// The generator is tuned so that both outcomes are common; a lopsided
	// mix would mean most cases test nothing.
	if evaluated := cases - rejected; matched < evaluated/10 || matched > evaluated*9/10 {
		t.Errorf("%d of %d evaluated cases matched; want between 10%% and 90%%", matched, evaluated)
	}
	if rejected > cases/100 {
		t.Errorf("%d of %d generated queries were rejected by both; the generator should produce valid queries", rejected, cases)
	}
}

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

// evaluate runs both implementations on c.
func evaluate(c diffCase) diffOutcome {
	var out diffOutcome
	m, err := cond.Compile(c.rawQuery)
	if err != nil {
		out.oursErr = err
	} else {
		out.ours = m.Match(c.rawDoc)
	}
	// mongokit works on decoded documents; decode fresh copies because
	// nothing promises that Match leaves its arguments untouched.
	var doc, query bson.D
	if err := bson.Unmarshal(c.rawDoc, &doc); err != nil {
		out.lungoErr = fmt.Errorf("decode doc: %w", err)
		return out
	}
	if err := bson.Unmarshal(c.rawQuery, &query); err != nil {
		out.lungoErr = fmt.Errorf("decode query: %w", err)
		return out
	}
	out.lungo, out.lungoErr = mongokit.Match(&doc, &query)
	return out
}

// classify returns the index of the first known difference recognising c, or
// -1. Errors are never explained away: both implementations must accept the
// same queries.
func classify(rows []knownDiff, c diffCase, out diffOutcome) int {
	if out.oursErr != nil || out.lungoErr != nil {
		return -1
	}
	for i, row := range rows {
		if row.applies(c) {
			return i
		}
	}
	return -1
}

// newDiffCase generates case index of the run seeded with seed.
func newDiffCase(seed int64, index int) diffCase {
	g := &diffGen{r: rand.New(rand.NewPCG(uint64(seed), uint64(index)))}
	c := diffCase{query: g.query(0), doc: g.doc(0)}
	c.rawQuery = mustMarshal(c.query)
	c.rawDoc = mustMarshal(c.doc)
	return c
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

func mustMarshal(d bson.D) bson.Raw {
	raw, err := bson.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("marshal %v: %v", d, err))
	}
	return raw
}

// extJSON renders raw as canonical Extended JSON, which keeps numeric types
// apart (1 vs 1.0 vs NumberLong) so a reported case can be replayed exactly.
func extJSON(raw bson.Raw) string {
	b, err := bson.MarshalExtJSON(raw, true, false)
	if err != nil {
		return fmt.Sprintf("<%v: %x>", err, []byte(raw))
	}
	return string(b)
}

func envInt(t *testing.T, name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

// diffGen draws documents and queries over a deliberately small vocabulary of
// field names and values, so that paths usually exist and values often
// compare equal: otherwise nearly every query would be false.
type diffGen struct {
	r *rand.Rand
}

// field returns one of the three field names all documents and queries use.
func (g *diffGen) field() string {
	return [...]string{"a", "b", "c"}[g.r.IntN(3)]
}

// scalar returns a non-container BSON value. Numbers deliberately include the
// same value in several types (2, NumberLong(2), 2.0, NumberDecimal("2")).
func (g *diffGen) scalar() any {
	switch g.r.IntN(24) {
	case 21, 22:
		return g.edgeNumber()
	case 0, 1:
		return int32(1)
	case 2, 3:
		return int32(2)
	case 4:
		return int64(2)
	case 5:
		return 2.0
	case 6:
		return 2.5
	case 7:
		return diffDecimal("2")
	case 8:
		return diffDecimal("2.5")
	case 9:
		return int64(-1)
	case 10, 11:
		return "x"
	case 12:
		return "y"
	case 13:
		return ""
	case 14:
		return true
	case 15:
		return false
	case 16, 17:
		return nil
	case 18:
		return diffOID(1)
	case 19:
		return diffOID(2)
	case 20:
		return primitive.DateTime(1_700_000_000_000 + 1000*int64(g.r.IntN(2)))
	default:
		return primitive.Regex{Pattern: "^x", Options: "i"}
	}
}

// edgeNumber returns a number on which cross-type comparison is easy to get
// wrong: values one apart beyond double precision, 0.1 (inexact as a
// double, exact as a decimal), NaN, infinity and negative zero.
func (g *diffGen) edgeNumber() any {
	switch g.r.IntN(9) {
	case 0:
		return int64(1<<53 + 1)
	case 1:
		return float64(1 << 53)
	case 2:
		return diffDecimal("9007199254740993")
	case 3:
		return 0.1
	case 4:
		return diffDecimal("0.1")
	case 5:
		return math.NaN()
	case 6:
		return diffDecimal("NaN")
	case 7:
		return math.Inf(1)
	default:
		return math.Copysign(0, -1)
	}
}

// value returns a document field value: mostly scalars, sometimes nested
// documents and arrays (including arrays of documents and of arrays).
func (g *diffGen) value(depth int) any {
	n := g.r.IntN(10)
	switch {
	case depth < 3 && n < 2:
		return g.doc(depth + 1)
	case depth < 3 && n < 5:
		arr := bson.A{}
		for i, k := 0, g.r.IntN(4); i < k; i++ {
			arr = append(arr, g.value(depth+1))
		}
		return arr
	default:
		return g.scalar()
	}
}

// doc returns a document with a random subset of the field names, in random
// order, and rarely (below the top level) a numeric key, which a path's
// numeric segment could mean either as a field name or as an array index.
func (g *diffGen) doc(depth int) bson.D {
	d := bson.D{}
	for _, i := range g.r.Perm(3) {
		if g.r.IntN(10) < 8 {
			d = append(d, bson.E{Key: [...]string{"a", "b", "c"}[i], Value: g.value(depth)})
		}
	}
	if depth > 0 && g.r.IntN(12) == 0 {
		d = append(d, bson.E{Key: strconv.Itoa(g.r.IntN(2)), Value: g.scalar()})
	}
	return d
}

// path returns a dotted path of one to three segments, shorter ones being
// likelier to exist; later segments may be array indexes.
func (g *diffGen) path() string {
	p := g.field()
	for n := [...]int{0, 0, 0, 0, 1, 1, 1, 2}[g.r.IntN(8)]; n > 0; n-- {
		if g.r.IntN(4) == 0 {
			p += "." + strconv.Itoa(g.r.IntN(2))
		} else {
			p += "." + g.field()
		}
	}
	return p
}

// literal returns a query operand: a scalar (never a regex, whose meaning as
// an operand lungo does not implement), or a small array or document.
func (g *diffGen) literal() any {
	switch n := g.r.IntN(12); {
	case n == 0:
		return bson.A{g.plainScalar(), g.plainScalar()}
	case n == 1:
		return bson.A{g.plainScalar()}
	case n == 2:
		return bson.D{{Key: "b", Value: g.plainScalar()}}
	default:
		return g.plainScalar()
	}
}

// plainScalar is scalar without regular expressions.
func (g *diffGen) plainScalar() any {
	for {
		if v := g.scalar(); !isRegex(v) {
			return v
		}
	}
}

func isRegex(v any) bool {
	_, ok := v.(primitive.Regex)
	return ok
}

// query returns a query document: one clause, or two a quarter of the time,
// each a field condition or (above the innermost level) a logical operator.
func (g *diffGen) query(depth int) bson.D {
	q := bson.D{}
	for i, n := 0, 1+g.r.IntN(4)/3; i < n; i++ {
		if depth < 2 && g.r.IntN(5) == 0 {
			op := [...]string{"$and", "$or", "$nor"}[g.r.IntN(3)]
			arr := bson.A{}
			for j, k := 0, 1+g.r.IntN(3); j < k; j++ {
				arr = append(arr, g.query(depth+1))
			}
			q = append(q, bson.E{Key: op, Value: arr})
			continue
		}
		q = append(q, bson.E{Key: g.path(), Value: g.condition(depth)})
	}
	return q
}

// condition returns a field condition: an implicit-equality literal or an
// operator document of one operator, or two a quarter of the time.
func (g *diffGen) condition(depth int) any {
	if g.r.IntN(4) == 0 {
		return g.literal()
	}
	ops := bson.D{}
	for i, n := 0, 1+g.r.IntN(4)/3; i < n; i++ {
		ops = append(ops, g.operator(depth))
	}
	return ops
}

// operator returns one {$op: operand} element of an operator document.
// Negative operators and $exists, which are usually true, are drawn more
// often to balance the usually false rest.
func (g *diffGen) operator(depth int) bson.E {
	switch g.r.IntN(20) {
	case 16, 17:
		return bson.E{Key: "$ne", Value: g.literal()}
	case 18:
		return bson.E{Key: "$nin", Value: g.literals(1 + g.r.IntN(3))}
	case 19:
		return bson.E{Key: "$exists", Value: true}
	case 0:
		return bson.E{Key: "$eq", Value: g.literal()}
	case 1:
		return bson.E{Key: "$ne", Value: g.literal()}
	case 2:
		return bson.E{Key: "$gt", Value: g.literal()}
	case 3:
		return bson.E{Key: "$gte", Value: g.literal()}
	case 4:
		return bson.E{Key: "$lt", Value: g.literal()}
	case 5:
		return bson.E{Key: "$lte", Value: g.literal()}
	case 6:
		return bson.E{Key: "$in", Value: g.literals(1 + g.r.IntN(3))}
	case 7:
		return bson.E{Key: "$nin", Value: g.literals(1 + g.r.IntN(3))}
	case 8:
		return bson.E{Key: "$exists", Value: g.r.IntN(2) == 0}
	case 9:
		return bson.E{Key: "$type", Value: g.typeOperand()}
	case 10:
		return bson.E{Key: "$size", Value: int32(g.r.IntN(4))}
	case 11:
		return bson.E{Key: "$all", Value: g.literals(1 + g.r.IntN(2))}
	case 12:
		return bson.E{Key: "$mod", Value: bson.A{int32(2 + g.r.IntN(2)), int32(g.r.IntN(2))}}
	case 13:
		return bson.E{Key: "$not", Value: bson.D{g.nonNot(depth)}}
	default:
		return bson.E{Key: "$elemMatch", Value: g.elemMatch(depth)}
	}
}

// nonNot returns an operator other than $not, for use inside $not.
func (g *diffGen) nonNot(depth int) bson.E {
	for {
		if e := g.operator(depth); e.Key != "$not" {
			return e
		}
	}
}

// elemMatch returns a $elemMatch operand: either operators applied to each
// element, or a query over each element's fields. Logical operators are left
// out because mongokit rejects them inside $elemMatch.
func (g *diffGen) elemMatch(depth int) bson.D {
	if depth >= 2 || g.r.IntN(2) == 0 {
		ops := bson.D{}
		for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
			ops = append(ops, g.nonElemMatch(depth+1))
		}
		return ops
	}
	q := bson.D{}
	for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
		q = append(q, bson.E{Key: g.path(), Value: g.condition(depth + 1)})
	}
	return q
}

// nonElemMatch returns an operator other than $elemMatch, bounding nesting.
func (g *diffGen) nonElemMatch(depth int) bson.E {
	for {
		if e := g.operator(depth); e.Key != "$elemMatch" {
			return e
		}
	}
}

func (g *diffGen) literals(n int) bson.A {
	arr := bson.A{}
	for i := 0; i < n; i++ {
		arr = append(arr, g.literal())
	}
	return arr
}

// typeOperand returns a $type operand: an alias, a type number, "number",
// or an array of two of those.
func (g *diffGen) typeOperand() any {
	one := func() any {
		names := [...]string{"double", "string", "object", "array", "objectId", "bool", "date", "null", "regex", "int", "long", "decimal", "number"}
		if g.r.IntN(4) == 0 {
			return int32([...]int{1, 2, 3, 4, 8, 10, 16, 18, 19}[g.r.IntN(9)])
		}
		return names[g.r.IntN(len(names))]
	}
	if g.r.IntN(5) == 0 {
		return bson.A{one(), one()}
	}
	return one()
}

func diffDecimal(s string) primitive.Decimal128 {
	d, err := primitive.ParseDecimal128(s)
	if err != nil {
		panic(err)
	}
	return d
}

func diffOID(n byte) primitive.ObjectID {
	return primitive.ObjectID{0x65, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, n}
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

// TestMongoReference checks our matcher against the results MongoDB's own
// regression tests (jstests) require of a real server. It anchors the
// known-difference rows above, whose cases the differential test cannot
// check, in MongoDB's behaviour rather than in our reading of it. Documents
// holding undefined are left out of the transcription (statements never
// contain it), as are queries whose expectations depend on them.
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
