package httpapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/processor/cond"
)

// Learning Locker's models API runs filters through mongoose, which casts
// every value compared with a schema path to the path's type before the
// query reaches MongoDB (mongoose lib/cast.js and its SchemaTypes'
// castForQuery): a string compared with an ObjectId path becomes an
// ObjectId (a string that is not one is a CastError), and a string or a
// number compared with a Date path becomes new Date(value), a string
// compared with a Boolean path becomes true or false ("true", "1", "yes";
// "false", "0", "no") and one compared with a Number path a number. So
// {"_id": "<24 hex>"} finds the document, where MongoDB itself would
// compare a string with an ObjectId and find nothing. castFilter does the
// same against the API's schemas.

// fieldKind is the type a schema path casts filter values to.
type fieldKind int

const (
	kindOther fieldKind = iota
	kindObjectID
	kindDate
	kindBool
	kindNumber
)

// schema returns the kind of a dotted path, without array positions.
type schema func(path string) fieldKind

// journeySchema is the stored journey document's typed paths.
func journeySchema(path string) fieldKind {
	switch path {
	case "_id", "organisation", "owner", "sources", "waypoints._id", "outcomes._id":
		return kindObjectID
	case "createdAt", "updatedAt", "recalculateStatus.startedAt", "recalculateStatus.finishedAt":
		return kindDate
	case "isActive", "isSequential", "isRepeatable", "isPublic", "waypoints.isActive", "outcomes.isActive",
		"recalculateStatus.inProgress":
		return kindBool
	case "waypoints.count", "waypoints.order", "recalculateStatus.totalCount", "recalculateStatus.remainingCount":
		return kindNumber
	}
	return kindOther
}

// castOps are the operators whose operand is a value of the path's type
// (mongoose's $conditionalHandlers that cast), true for those taking an
// array of values.
var castOps = map[string]bool{
	"$eq": false, "$ne": false, "$gt": false, "$gte": false, "$lt": false, "$lte": false,
	"$in": true, "$nin": true, "$all": true,
}

// castFilter returns the filter doc with the values compared with typed
// paths of sch cast as mongoose casts them. name is the parameter, for
// errors: a value that cannot be cast is a 400, as mongoose's CastError is
// an error response in Learning Locker.
func castFilter(name string, doc bson.Raw, sch schema) (bson.Raw, error) {
	c := caster{name: name, sch: sch}
	out, err := c.query(bsoncore.Document(doc), "")
	if err != nil {
		return nil, err
	}
	return bson.Raw(out), nil
}

// caster carries castFilter's parameters through the recursion.
type caster struct {
	name string
	sch  schema
}

// query casts a query document whose paths are below prefix ("" at the
// top, "waypoints." inside an $elemMatch on waypoints).
func (c caster) query(doc bsoncore.Document, prefix string) (bsoncore.Document, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, errBadRequest(c.name, "invalid document: "+err.Error())
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		key, v := e.Key(), e.Value()
		switch {
		case key == "$and" || key == "$or" || key == "$nor":
			if v.Type == bsontype.Array {
				if v, err = c.eachDoc(v, prefix); err != nil {
					return nil, err
				}
			}
		case strings.HasPrefix(key, "$"):
		default:
			if v, err = c.field(prefix+key, v); err != nil {
				return nil, err
			}
		}
		out = bsoncore.AppendValueElement(out, key, v)
	}
	return bsoncore.AppendDocumentEnd(out, idx)
}

// eachDoc casts the query documents of an $and, $or or $nor array.
func (c caster) eachDoc(arr bsoncore.Value, prefix string) (bsoncore.Value, error) {
	vals, err := bsoncore.Array(arr.Data).Values()
	if err != nil {
		return arr, errBadRequest(c.name, "invalid array: "+err.Error())
	}
	idx, out := bsoncore.AppendArrayStart(nil)
	for i, v := range vals {
		if v.Type == bsontype.EmbeddedDocument {
			d, err := c.query(v.Data, prefix)
			if err != nil {
				return arr, err
			}
			v = bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: d}
		}
		out = bsoncore.AppendValueElement(out, fmt.Sprint(i), v)
	}
	out, _ = bsoncore.AppendArrayEnd(out, idx)
	return bsoncore.Value{Type: bsontype.Array, Data: out}, nil
}

// field casts the condition on one path: an operator document or a value.
func (c caster) field(path string, v bsoncore.Value) (bsoncore.Value, error) {
	kind := c.sch(schemaPath(path))
	if v.Type == bsontype.EmbeddedDocument && isOperatorDoc(v.Document()) {
		return c.operators(path, kind, v)
	}
	if kind == kindOther {
		return v, nil
	}
	return c.valueOrArray(path, kind, v)
}

// operators casts the operands of an operator document on path.
func (c caster) operators(path string, kind fieldKind, v bsoncore.Value) (bsoncore.Value, error) {
	elems, err := v.Document().Elements()
	if err != nil {
		return v, errBadRequest(c.name, "invalid document: "+err.Error())
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		op, operand := e.Key(), e.Value()
		many, cast := castOps[op]
		switch {
		case cast && kind != kindOther && many && operand.Type == bsontype.Array:
			operand, err = c.array(path, kind, operand)
		case cast && kind != kindOther && !many:
			operand, err = c.valueOrArray(path, kind, operand)
		case op == "$not" && operand.Type == bsontype.EmbeddedDocument:
			operand, err = c.operators(path, kind, operand)
		case op == "$elemMatch" && operand.Type == bsontype.EmbeddedDocument:
			if isOperatorDoc(operand.Document()) {
				operand, err = c.operators(path, kind, operand)
			} else {
				var d bsoncore.Document
				d, err = c.query(operand.Document(), path+".")
				operand = bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: d}
			}
		}
		if err != nil {
			return v, err
		}
		out = bsoncore.AppendValueElement(out, op, operand)
	}
	out, err = bsoncore.AppendDocumentEnd(out, idx)
	return bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: out}, err
}

// valueOrArray casts a value compared by equality: an array (equal to a
// whole array field) element by element, anything else as one value.
func (c caster) valueOrArray(path string, kind fieldKind, v bsoncore.Value) (bsoncore.Value, error) {
	if v.Type == bsontype.Array {
		return c.array(path, kind, v)
	}
	return c.value(path, kind, v)
}

// array casts each element of an array operand.
func (c caster) array(path string, kind fieldKind, arr bsoncore.Value) (bsoncore.Value, error) {
	vals, err := bsoncore.Array(arr.Data).Values()
	if err != nil {
		return arr, errBadRequest(c.name, "invalid array: "+err.Error())
	}
	idx, out := bsoncore.AppendArrayStart(nil)
	for i, v := range vals {
		if v, err = c.value(path, kind, v); err != nil {
			return arr, err
		}
		out = bsoncore.AppendValueElement(out, fmt.Sprint(i), v)
	}
	out, _ = bsoncore.AppendArrayEnd(out, idx)
	return bsoncore.Value{Type: bsontype.Array, Data: out}, nil
}

// value casts one value to kind. Values of the kind already, null,
// regular expressions and documents are kept; a string (or, for dates, a
// number) that does not convert is an error.
func (c caster) value(path string, kind fieldKind, v bsoncore.Value) (bsoncore.Value, error) {
	switch kind {
	case kindObjectID:
		s, ok := v.StringValueOK()
		if !ok {
			return v, nil
		}
		id, err := primitive.ObjectIDFromHex(s)
		if err != nil {
			return v, errBadRequest(c.name, fmt.Sprintf("cast to ObjectId failed for value %q at path %q: an ObjectId is 24 hex digits", s, path))
		}
		return bsoncore.Value{Type: bsontype.ObjectID, Data: bsoncore.AppendObjectID(nil, id)}, nil
	case kindDate:
		var ms int64
		switch v.Type {
		case bsontype.String:
			var err error
			if ms, err = cond.ParseISODate(v.StringValue()); err != nil {
				return v, errBadRequest(c.name, fmt.Sprintf("cast to date failed for value %q at path %q: %v", v.StringValue(), path, err))
			}
		case bsontype.Int32:
			ms = int64(v.Int32())
		case bsontype.Int64:
			ms = v.Int64()
		case bsontype.Double:
			f := v.Double()
			if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
				return v, errBadRequest(c.name, fmt.Sprintf("cast to date failed for value %v at path %q", f, path))
			}
			ms = int64(f)
		default:
			return v, nil
		}
		return bsoncore.Value{Type: bsontype.DateTime, Data: bsoncore.AppendDateTime(nil, ms)}, nil
	case kindBool:
		return c.boolean(path, v)
	case kindNumber:
		str, ok := v.StringValueOK()
		if !ok {
			return v, nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, errBadRequest(c.name, fmt.Sprintf("cast to Number failed for value %q at path %q", str, path))
		}
		return bsoncore.Value{Type: bsontype.Double, Data: bsoncore.AppendDouble(nil, f)}, nil
	}
	return v, nil
}

// boolean casts a value compared with a Boolean path as mongoose's
// castBoolean does: true, "true", 1, "1" and "yes" are true; false,
// "false", 0, "0" and "no" false; null stays null; anything else is a
// CastError.
func (c caster) boolean(path string, v bsoncore.Value) (bsoncore.Value, error) {
	var b, ok bool
	switch v.Type {
	case bsontype.Boolean, bsontype.Null, bsontype.Regex:
		return v, nil
	case bsontype.String:
		switch v.StringValue() {
		case "true", "1", "yes":
			b, ok = true, true
		case "false", "0", "no":
			b, ok = false, true
		}
	case bsontype.Int32:
		b, ok = v.Int32() == 1, v.Int32() == 0 || v.Int32() == 1
	case bsontype.Int64:
		b, ok = v.Int64() == 1, v.Int64() == 0 || v.Int64() == 1
	case bsontype.Double:
		b, ok = v.Double() == 1, v.Double() == 0 || v.Double() == 1
	}
	if !ok {
		return v, errBadRequest(c.name, fmt.Sprintf("cast to Boolean failed for value %s at path %q: use true or false", v, path))
	}
	return bsoncore.Value{Type: bsontype.Boolean, Data: bsoncore.AppendBoolean(nil, b)}, nil
}

// isOperatorDoc reports whether a document holds query operators: its
// first key starts with '$'.
func isOperatorDoc(d bsoncore.Document) bool {
	e, err := d.IndexErr(0)
	return err == nil && strings.HasPrefix(e.Key(), "$")
}

// schemaPath drops the array positions of a dotted path: waypoints.0._id
// is waypoints._id to a schema.
func schemaPath(path string) string {
	if !strings.ContainsAny(path, "0123456789") {
		return path
	}
	segs := strings.Split(path, ".")
	out := segs[:0]
	for _, s := range segs {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, ".")
}
