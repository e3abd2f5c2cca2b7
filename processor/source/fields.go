package source

import (
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/rawbson"
)

// Fields is a set of the statement fields whose updates matter to
// journeysd (docs/design.md §2, §4).
type Fields uint8

const (
	// FieldPerson is person or personaIdentifier: Learning Locker assigned
	// the statement to a persona, or moved it to another one (a merge).
	FieldPerson Fields = 1 << iota
	// FieldVoided is voided: a voiding statement voided this one.
	FieldVoided
	// FieldsAll is every field: a replace, which can change anything.
	FieldsAll = FieldPerson | FieldVoided
)

// statementFieldNames maps the top-level statement fields that matter to
// their Fields bit.
var statementFieldNames = []struct {
	name string
	bit  Fields
}{
	{"person", FieldPerson},
	{"personaIdentifier", FieldPerson},
	{"voided", FieldVoided},
}

// fieldBit returns the Fields bit of a top-level field name, or 0.
func fieldBit(name []byte) Fields {
	for _, f := range statementFieldNames {
		if string(name) == f.name {
			return f.bit
		}
	}
	return 0
}

// statementFields returns which fields that matter the scanned update or
// replace event changed: every one for a replace; for an update, those
// its updateDescription names in updatedFields (keys) or removedFields
// (values), as whole top-level fields. A malformed updateDescription
// counts as far as it can be read.
func (p *parts) statementFields() Fields {
	switch string(p.op) {
	case "replace":
		return FieldsAll
	case "update":
	default:
		return 0
	}
	var f Fields
	if v, err := rawbson.Lookup(p.upd, "updatedFields"); err == nil {
		if doc, ok := v.Document(); ok {
			it := rawbson.Elements(doc)
			for k, _, ok := it.Next(); ok; k, _, ok = it.Next() {
				f |= fieldBit(k)
			}
		}
	}
	if v, err := rawbson.Lookup(p.upd, "removedFields"); err == nil {
		if arr, ok := v.Array(); ok {
			it := rawbson.Elements(arr)
			for _, e, ok := it.Next(); ok; _, e, ok = it.Next() {
				if name, ok := e.StringOK(); ok {
					f |= fieldBit(name)
				}
			}
		}
	}
	return f
}

// statementUpdateFilter is the $or, on a change event, that lets through
// the statement updates statementFields finds a field in.
func statementUpdateFilter() bson.A {
	or := bson.A{}
	names := bson.A{}
	for _, f := range statementFieldNames {
		or = append(or, bson.D{{Key: "updateDescription.updatedFields." + f.name, Value: bson.D{{Key: "$exists", Value: true}}}})
		names = append(names, f.name)
	}
	return append(or, bson.D{{Key: "updateDescription.removedFields", Value: bson.D{{Key: "$in", Value: names}}}})
}
