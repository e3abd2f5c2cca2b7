package cond_test

// The random document and query generator behind TestDifferential
// (diff_test.go): a small vocabulary of field names and values, tuned so that
// generated queries are valid and match often enough to be informative.

import (
	"math"
	"math/rand/v2"
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

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
