package cond

import (
	"strconv"

	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// compileType compiles $type: a type alias, a type code, or an array of
// them; "number" stands for the four numeric types.
func compileType(path string, v value) ([]op, error) {
	p := &typePred{}
	if v.Type != bsontype.Array {
		if err := addType(p, path, v); err != nil {
			return nil, err
		}
		return single(p), nil
	}
	n := 0
	for it := rawbson.Elements(v.Data); ; n++ {
		_, e, ok := it.Next()
		if !ok {
			break
		}
		if err := addType(p, path, e); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, &Error{Operator: "$type", Path: path, Reason: "must list at least one type"}
	}
	return single(p), nil
}

// addType adds the types named by one $type operand to p.
func addType(p *typePred, path string, v value) error {
	switch {
	case v.Type == bsontype.String:
		name := string(v.Str())
		if name == "number" {
			for _, t := range [...]bsontype.Type{bsontype.Double, bsontype.Int32, bsontype.Int64, bsontype.Decimal128} {
				p.add(t)
			}
			return nil
		}
		t, ok := typeByName(name)
		if !ok {
			return &Error{Operator: "$type", Path: path, Reason: "unknown type name " + strconv.Quote(name)}
		}
		p.add(t)
		return nil
	case isNumber(v.Type):
		code, ok := exactInt(v)
		if ok && validTypeCode(code) {
			p.add(bsontype.Type(byte(code)))
			return nil
		}
	}
	return &Error{Operator: "$type", Path: path, Reason: "needs a type name or a valid type code"}
}

// validTypeCode reports whether code is a BSON type number $type accepts.
func validTypeCode(code int64) bool {
	return (code >= 1 && code <= 19) || code == -1 || code == 127
}

// typeByName resolves MongoDB's $type aliases.
func typeByName(name string) (bsontype.Type, bool) {
	switch name {
	case "double":
		return bsontype.Double, true
	case "string":
		return bsontype.String, true
	case "object":
		return bsontype.EmbeddedDocument, true
	case "array":
		return bsontype.Array, true
	case "binData":
		return bsontype.Binary, true
	case "undefined":
		return bsontype.Undefined, true
	case "objectId":
		return bsontype.ObjectID, true
	case "bool":
		return bsontype.Boolean, true
	case "date":
		return bsontype.DateTime, true
	case "null":
		return bsontype.Null, true
	case "regex":
		return bsontype.Regex, true
	case "dbPointer":
		return bsontype.DBPointer, true
	case "javascript":
		return bsontype.JavaScript, true
	case "symbol":
		return bsontype.Symbol, true
	case "javascriptWithScope":
		return bsontype.CodeWithScope, true
	case "int":
		return bsontype.Int32, true
	case "timestamp":
		return bsontype.Timestamp, true
	case "long":
		return bsontype.Int64, true
	case "decimal":
		return bsontype.Decimal128, true
	case "minKey":
		return bsontype.MinKey, true
	case "maxKey":
		return bsontype.MaxKey, true
	}
	return 0, false
}
