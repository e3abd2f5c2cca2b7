package cond

import (
	"bytes"

	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
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
	ca, cb := class(a.Type), class(b.Type)
	if ca != cb {
		return cmpInt(ca, cb)
	}
	switch ca {
	case classNumber:
		return compareNumbers(a, b)
	case classString, classCode:
		return bytes.Compare(a.Str(), b.Str())
	case classObject, classArray:
		return compareDocs(a.Data, b.Data)
	case classBinary:
		// Length first, then subtype and data together.
		if c := cmpInt(len(a.Data), len(b.Data)); c != 0 {
			return c
		}
		return bytes.Compare(a.Data[4:], b.Data[4:])
	case classObjectID:
		return bytes.Compare(a.Data, b.Data)
	case classBool:
		return cmpInt(int(a.Data[0]), int(b.Data[0]))
	case classDate:
		x, y := a.Int64(), b.Int64()
		return boolCmp(x > y, x < y)
	case classTimestamp:
		x, y := a.Uint64(), b.Uint64()
		return boolCmp(x > y, x < y)
	case classRegex:
		pa, oa := a.Regex()
		pb, ob := b.Regex()
		if c := bytes.Compare(pa, pb); c != 0 {
			return c
		}
		return bytes.Compare(oa, ob)
	case classDBPointer:
		if c := cmpInt(len(a.Data), len(b.Data)); c != 0 {
			return c
		}
		return bytes.Compare(a.Data, b.Data)
	case classCodeScope:
		return compareCodeScope(a, b)
	}
	// MinKey, MaxKey, null, undefined: a single value per class.
	return 0
}

// compareDocs orders two documents (or arrays) element by element: class,
// then field name, then value; the shorter one first on a common prefix.
func compareDocs(a, b []byte) int {
	ia, ib := rawbson.Elements(a), rawbson.Elements(b)
	for {
		ka, va, oka := ia.Next()
		kb, vb, okb := ib.Next()
		if !oka || !okb {
			checkElems(&ia)
			checkElems(&ib)
		}
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := cmpInt(class(va.Type), class(vb.Type)); c != 0 {
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
func compareCodeScope(a, b value) int {
	ca, sa := a.CodeWithScope()
	cb, sb := b.CodeWithScope()
	if c := bytes.Compare(ca, cb); c != 0 {
		return c
	}
	return compareDocs(sa, sb)
}
