package cond

import (
	"bytes"
	"encoding/binary"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Canonical type classes (MongoDB's canonicalizeBSONType). Values compare
// only within a class; all numeric types share one class, as do strings and
// symbols. A missing field ranks with undefined.
const (
	classMinKey    = -1
	classMissing   = 0
	classNull      = 5
	classNumber    = 10
	classString    = 15
	classObject    = 20
	classArray     = 25
	classBinary    = 30
	classObjectID  = 35
	classBool      = 40
	classDate      = 45
	classTimestamp = 47
	classRegex     = 50
	classDBPointer = 55
	classCode      = 60
	classCodeScope = 65
	classMaxKey    = 127
)

// class returns the canonical type class of t; 0 (missing) for unknown types.
func class(t bsontype.Type) int {
	switch t {
	case bsontype.MinKey:
		return classMinKey
	case bsontype.Null:
		return classNull
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Decimal128:
		return classNumber
	case bsontype.String, bsontype.Symbol:
		return classString
	case bsontype.EmbeddedDocument:
		return classObject
	case bsontype.Array:
		return classArray
	case bsontype.Binary:
		return classBinary
	case bsontype.ObjectID:
		return classObjectID
	case bsontype.Boolean:
		return classBool
	case bsontype.DateTime:
		return classDate
	case bsontype.Timestamp:
		return classTimestamp
	case bsontype.Regex:
		return classRegex
	case bsontype.DBPointer:
		return classDBPointer
	case bsontype.JavaScript:
		return classCode
	case bsontype.CodeWithScope:
		return classCodeScope
	case bsontype.MaxKey:
		return classMaxKey
	}
	return classMissing
}

// compareValues orders two values in MongoDB's BSON order
// (compareElementValues after the canonical class): first by class, then
// by value within the class. Documents and arrays compare element by
// element, field names included.
func compareValues(a, b value) int {
	ca, cb := class(a.t), class(b.t)
	if ca != cb {
		return cmpInt(ca, cb)
	}
	switch ca {
	case classNumber:
		return compareNumbers(a, b)
	case classString, classCode:
		return bytes.Compare(a.str(), b.str())
	case classObject, classArray:
		return compareDocs(a.data, b.data)
	case classBinary:
		// Length first, then subtype and data together.
		if c := cmpInt(len(a.data), len(b.data)); c != 0 {
			return c
		}
		return bytes.Compare(a.data[4:], b.data[4:])
	case classObjectID:
		return bytes.Compare(a.data, b.data)
	case classBool:
		return cmpInt(int(a.data[0]), int(b.data[0]))
	case classDate:
		x, y := a.i64(), b.i64()
		return boolCmp(x > y, x < y)
	case classTimestamp:
		x, y := binary.LittleEndian.Uint64(a.data), binary.LittleEndian.Uint64(b.data)
		return boolCmp(x > y, x < y)
	case classRegex:
		pa, oa := a.regex()
		pb, ob := b.regex()
		if c := bytes.Compare(pa, pb); c != 0 {
			return c
		}
		return bytes.Compare(oa, ob)
	case classDBPointer:
		if c := cmpInt(len(a.data), len(b.data)); c != 0 {
			return c
		}
		return bytes.Compare(a.data, b.data)
	case classCodeScope:
		return compareCodeScope(a.data, b.data)
	}
	// MinKey, MaxKey, null, undefined: a single value per class.
	return 0
}

// compareDocs orders two documents (or arrays) element by element: class,
// then field name, then value; the shorter one first on a common prefix.
func compareDocs(a, b []byte) int {
	ia, ib := newElems(a), newElems(b)
	for {
		ka, va, oka := ia.next()
		kb, vb, okb := ib.next()
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := cmpInt(class(va.t), class(vb.t)); c != 0 {
			return c
		}
		if c := bytes.Compare(ka, kb); c != 0 {
			return c
		}
		if c := compareValues(va, vb); c != 0 {
			return c
		}
	}
}

// compareCodeScope orders two code-with-scope values: code, then scope.
func compareCodeScope(a, b []byte) int {
	ca, sa, oka := splitCodeScope(a)
	cb, sb, okb := splitCodeScope(b)
	if !oka || !okb {
		return bytes.Compare(a, b)
	}
	if c := bytes.Compare(ca, cb); c != 0 {
		return c
	}
	return compareDocs(sa, sb)
}

// splitCodeScope splits a code-with-scope value into its code string and
// scope document.
func splitCodeScope(b []byte) (code, scope []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := valueLen(bsontype.String, b[4:])
	if n < 0 {
		return nil, nil, false
	}
	code = value{t: bsontype.String, data: b[4 : 4+n]}.str()
	return code, b[4+n:], true
}
