package journey

import (
	"bytes"
	"encoding/binary"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Allocation-free readers over raw BSON for the per-statement owner lookup.
// They never trust a length without checking it against the buffer, so a
// malformed document reads as "absent", never as a panic.

// elements iterates over the elements of one BSON document.
type elements struct {
	rest []byte
	// malformed is set when iteration stopped at a malformed element
	// rather than at the end of the document.
	malformed bool
}

// iterate starts an iteration over doc; a malformed header yields nothing.
func iterate(doc []byte) elements {
	n, _, ok := bsoncore.ReadLength(doc)
	if !ok || n < 5 || int(n) > len(doc) || doc[n-1] != 0 {
		return elements{malformed: true}
	}
	return elements{rest: doc[4 : n-1]}
}

// next returns the next element's key and value. ok is false at the end
// and at the first malformed element.
func (it *elements) next() (key []byte, val bsoncore.Value, ok bool) {
	if len(it.rest) == 0 {
		return nil, bsoncore.Value{}, false
	}
	elem, rest, ok := bsoncore.ReadElement(it.rest)
	n := -1
	if ok && len(elem) >= 2 {
		n = bytes.IndexByte(elem[1:], 0)
	}
	// ReadElement lets a negative declared value length through as long as
	// the element stays inside the buffer; such an element ends before its
	// own header.
	if n < 0 || len(elem) < n+2 {
		it.rest, it.malformed = nil, true
		return nil, bsoncore.Value{}, false
	}
	it.rest = rest
	return elem[1 : n+1], bsoncore.Value{Type: bsontype.Type(elem[0]), Data: elem[n+2:]}, true
}

// lookup returns the value of the first element of doc named key.
func lookup(doc []byte, key string) (bsoncore.Value, bool) {
	it := iterate(doc)
	for {
		k, v, ok := it.next()
		if !ok {
			return bsoncore.Value{}, false
		}
		if string(k) == key {
			return v, true
		}
	}
}

// lookupDocument returns the embedded document at doc.key.
func lookupDocument(doc []byte, key string) ([]byte, bool) {
	v, ok := lookup(doc, key)
	if !ok || v.Type != bsontype.EmbeddedDocument {
		return nil, false
	}
	return v.Data, true
}

// stringBytes returns the bytes of a BSON string value without copying.
func stringBytes(v bsoncore.Value) ([]byte, bool) {
	if v.Type != bsontype.String || len(v.Data) < 5 {
		return nil, false
	}
	// The int32 length counts the trailing NUL.
	n := int64(int32(binary.LittleEndian.Uint32(v.Data)))
	if n < 1 || 4+n > int64(len(v.Data)) || v.Data[3+n] != 0 {
		return nil, false
	}
	return v.Data[4 : 3+n], true
}
