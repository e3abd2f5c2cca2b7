package source

import (
	"encoding/binary"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Allocation-free readers for classifying change events: bson.Raw.Lookup
// allocates its variadic path and StringValue copies, which would cost
// allocations on every statement. A malformed document reads as absent.

// parts are the top-level fields of a change event that journeysd reads,
// found in one pass over it. The slices alias the event.
type parts struct {
	id          []byte // _id: the resume token
	op          []byte // operationType
	ns, to      []byte // ns and to (rename target) documents
	documentKey []byte
	clusterTime bsoncore.Value
	full        bsoncore.Value // fullDocument
	upd         []byte         // updateDescription
}

// scan reads the parts of the change event ev.
func scan(ev []byte) parts {
	var p parts
	n, _, ok := bsoncore.ReadLength(ev)
	if !ok || n < 5 || int(n) > len(ev) {
		return p
	}
	rest := ev[4 : n-1]
	for len(rest) > 0 {
		elem, next, ok := bsoncore.ReadElement(rest)
		if !ok {
			return p
		}
		v, err := elem.ValueErr()
		if err != nil {
			return p
		}
		switch string(elem.KeyBytes()) {
		case "_id":
			p.id = document(v)
		case "operationType":
			p.op = str(v)
		case "ns":
			p.ns = document(v)
		case "to":
			p.to = document(v)
		case "documentKey":
			p.documentKey = document(v)
		case "clusterTime":
			p.clusterTime = v
		case "fullDocument":
			p.full = v
		case "updateDescription":
			p.upd = document(v)
		}
		rest = next
	}
	return p
}

// field returns the value of the top-level element of doc named key, or a
// zero Value.
func field(doc []byte, key string) bsoncore.Value {
	n, _, ok := bsoncore.ReadLength(doc)
	if !ok || n < 5 || int(n) > len(doc) {
		return bsoncore.Value{}
	}
	rest := doc[4 : n-1]
	for len(rest) > 0 {
		elem, next, ok := bsoncore.ReadElement(rest)
		if !ok {
			return bsoncore.Value{}
		}
		if string(elem.KeyBytes()) == key {
			v, err := elem.ValueErr()
			if err != nil {
				return bsoncore.Value{}
			}
			return v
		}
		rest = next
	}
	return bsoncore.Value{}
}

// document returns the embedded document in v, or nil.
func document(v bsoncore.Value) []byte {
	if v.Type != bsontype.EmbeddedDocument {
		return nil
	}
	return v.Data
}

// str returns the bytes of the string in v without copying, or nil.
func str(v bsoncore.Value) []byte {
	if v.Type != bsontype.String || len(v.Data) < 5 {
		return nil
	}
	n := int(int32(binary.LittleEndian.Uint32(v.Data)))
	if n < 1 || 4+n > len(v.Data) {
		return nil
	}
	return v.Data[4 : 4+n-1]
}
