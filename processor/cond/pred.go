package cond

import (
	"bytes"

	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// pred tests one value against one operator: MongoDB's
// matchesSingleElement. The zero value stands for a missing field.
type pred interface {
	test(v value) bool
}

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opLT
	opLTE
	opGT
	opGTE
)

// cmpPred is $eq, $lt, $lte, $gt or $gte with any operand, following
// ComparisonMatchExpressionBase: only values of the operand's canonical
// class compare (type bracketing), with exceptions for null against a
// missing field and for MinKey/MaxKey operands.
type cmpPred struct {
	op     cmpOp
	rhs    value
	rhsNaN bool
}

func (p *cmpPred) test(v value) bool {
	if class(v.Type) != class(p.rhs.Type) {
		switch {
		case p.rhs.Type == bsontype.Null && v.Missing():
			// {a: null} matches documents without a (not undefined values,
			// as of MongoDB 8.0).
			return p.op == opEQ || p.op == opLTE || p.op == opGTE
		case p.rhs.Type == bsontype.MaxKey:
			return p.op == opLT || p.op == opLTE
		case p.rhs.Type == bsontype.MinKey:
			return p.op == opGT || p.op == opGTE
		}
		return false
	}
	if class(v.Type) == classNumber {
		// NaN equals NaN but is neither less nor greater than anything.
		if vNaN := isNaN(v); vNaN || p.rhsNaN {
			return p.op != opLT && p.op != opGT && vNaN && p.rhsNaN
		}
	}
	c := compareValues(v, p.rhs)
	switch p.op {
	case opLT:
		return c < 0
	case opLTE:
		return c <= 0
	case opGT:
		return c > 0
	case opGTE:
		return c >= 0
	}
	return c == 0
}

// eqBytes is equality with a string, ObjectId or boolean: operands whose
// BSON equality is byte equality (a string also equals a symbol with the
// same text). It is the fast path of implicit equality and $eq.
type eqBytes struct {
	val value  // the operand as written, reported by Required
	key []byte // the bytes compared (see keyOf)
}

func (p *eqBytes) test(v value) bool {
	return class(v.Type) == class(p.val.Type) && bytes.Equal(keyOf(v), p.key)
}

// keyOf returns the bytes that decide equality of a string, symbol,
// ObjectId or boolean: the text of a string or symbol, else the raw bytes.
func keyOf(v value) []byte {
	if v.Type == bsontype.String || v.Type == bsontype.Symbol {
		return v.Str()
	}
	return v.Data
}

// byteKind reports whether equality with v is byte equality of keyOf(v),
// which is what Required and the $in hash set rely on.
func byteKind(v value) bool {
	switch v.Type {
	case bsontype.String, bsontype.ObjectID, bsontype.Boolean:
		return true
	}
	return false
}

// inPred is $in (InMatchExpression): equality with any operand, a regex
// match with any regex operand, and a missing field when null is listed.
type inPred struct {
	set     byteSet      // string, ObjectId and boolean operands
	others  []value      // every other non-regex operand
	regexes []*regexPred // regex operands
	hasNull bool
}

func (p *inPred) test(v value) bool {
	if v.Missing() {
		return p.hasNull
	}
	if p.set.has(v) {
		return true
	}
	for _, o := range p.others {
		if class(o.Type) == class(v.Type) && compareValues(v, o) == 0 {
			return true
		}
	}
	for _, r := range p.regexes {
		if r.test(v) {
			return true
		}
	}
	return false
}

// hashMin is the size from which a byteSet hashes its strings and
// ObjectIds; below it a linear scan of a few short byte strings is cheaper
// than hashing.
const hashMin = 8

// byteSet is a set of string, ObjectId and boolean values.
type byteSet struct {
	vals              []value // members in query order
	strs              map[string]struct{}
	oids              map[[12]byte]struct{}
	hasTrue, hasFalse bool
}

// newByteSet builds a set of vals, all of which satisfy byteKind.
func newByteSet(vals []value) byteSet {
	s := byteSet{vals: vals}
	if len(vals) >= hashMin {
		s.strs = make(map[string]struct{})
		s.oids = make(map[[12]byte]struct{})
	}
	for _, v := range vals {
		switch {
		case v.Type == bsontype.Boolean:
			s.hasTrue = s.hasTrue || v.Data[0] == 1
			s.hasFalse = s.hasFalse || v.Data[0] == 0
		case s.strs == nil:
		case v.Type == bsontype.String:
			s.strs[string(v.Str())] = struct{}{}
		default:
			s.oids[[12]byte(v.Data)] = struct{}{}
		}
	}
	return s
}

// has reports whether v equals a member.
func (s *byteSet) has(v value) bool {
	switch class(v.Type) {
	case classBool:
		return (v.Data[0] == 1 && s.hasTrue) || (v.Data[0] == 0 && s.hasFalse)
	case classString:
		if s.strs != nil {
			_, ok := s.strs[string(v.Str())]
			return ok
		}
	case classObjectID:
		if s.oids != nil {
			_, ok := s.oids[[12]byte(v.Data)]
			return ok
		}
	default:
		return false
	}
	k := keyOf(v)
	for _, m := range s.vals {
		if class(m.Type) == class(v.Type) && bytes.Equal(keyOf(m), k) {
			return true
		}
	}
	return false
}

// existsPred is $exists: true.
type existsPred struct{}

func (existsPred) test(v value) bool { return !v.Missing() }

// typePred is $type: a set of BSON type bytes.
type typePred struct{ set [4]uint64 }

func (p *typePred) add(t bsontype.Type) { p.set[t>>6] |= 1 << (t & 63) }

func (p *typePred) test(v value) bool {
	return !v.Missing() && p.set[v.Type>>6]&(1<<(v.Type&63)) != 0
}

// sizePred is $size: an array with exactly n elements.
type sizePred struct{ n int }

func (p sizePred) test(v value) bool { return v.Type == bsontype.Array && countElems(v.Data) == p.n }

// elemMatchDoc is $elemMatch with a query: an array with an element that is
// a document (or array, seen as a document keyed by index) matching it.
type elemMatchDoc struct{ sub node }

func (p elemMatchDoc) test(v value) bool {
	if v.Type != bsontype.Array {
		return false
	}
	for it := rawbson.Elements(v.Data); ; {
		_, e, ok := it.Next()
		if !ok {
			checkElems(&it)
			return false
		}
		if (e.Type == bsontype.EmbeddedDocument || e.Type == bsontype.Array) && p.sub.match(e.Data, nil, nil) {
			return true
		}
	}
}

// elemMatchValue is $elemMatch with operators: an array with an element
// satisfying all of them, each applied to the element itself.
type elemMatchValue struct{ p pred }

func (p elemMatchValue) test(v value) bool {
	if v.Type != bsontype.Array {
		return false
	}
	for it := rawbson.Elements(v.Data); ; {
		_, e, ok := it.Next()
		if !ok {
			checkElems(&it)
			return false
		}
		if p.p.test(e) {
			return true
		}
	}
}

// modPred is $mod: a number whose truncation leaves rem when divided by
// div (Go's % truncates like C++'s, and MinInt64 % -1 is 0 in both).
type modPred struct{ div, rem int64 }

func (p modPred) test(v value) bool {
	if !isNumber(v.Type) {
		return false
	}
	x, ok := truncToInt(v)
	return ok && x%p.div == p.rem
}

// notPred negates a per-value test, for negations inside $elemMatch.
type notPred struct{ p pred }

func (p notPred) test(v value) bool { return !p.p.test(v) }

// allPred requires every test, for several operators inside $elemMatch or
// under a $not there.
type allPred []pred

func (p allPred) test(v value) bool {
	for _, q := range p {
		if !q.test(v) {
			return false
		}
	}
	return true
}

// nonePred matches nothing: $all with an empty list.
type nonePred struct{}

func (nonePred) test(value) bool { return false }
