package cond

import (
	"bytes"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// maxDepth bounds the nesting of a query document, so that compiling it
// (which recurses per level) cannot exhaust the stack. MongoDB itself
// refuses documents nested deeper than 180 levels.
const maxDepth = 200

// validateDoc checks that b is exactly one well-formed BSON document. It
// replaces bsoncore.Document.Validate, which panics on some malformed
// input (a zero length prefix).
func validateDoc(b []byte) error {
	n, ok := readLen(b)
	if !ok || n != len(b) {
		return errors.New("length prefix does not match the data")
	}
	return validateElems(b, 0)
}

// validateElems checks the elements of the document or array doc, whose
// length prefix is known to fit, and those nested in it.
func validateElems(doc []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested more than %d levels deep", maxDepth)
	}
	n, _ := readLen(doc)
	if n < 5 || doc[n-1] != 0 {
		return errors.New("document not terminated")
	}
	b := doc[4 : n-1]
	for len(b) > 0 {
		t := bsontype.Type(b[0])
		k := bytes.IndexByte(b[1:], 0)
		if k < 0 {
			return errors.New("unterminated field name")
		}
		key := b[1 : 1+k]
		b = b[2+k:]
		l := valueLen(t, b)
		if l < 0 {
			return fmt.Errorf("field %q: invalid or truncated value of type %#x", key, byte(t))
		}
		if err := validateValue(value{t: t, data: b[:l]}, depth); err != nil {
			return fmt.Errorf("field %q: %w", key, err)
		}
		b = b[l:]
	}
	return nil
}

// validateValue checks the inner structure valueLen does not: string
// terminators and nested documents.
func validateValue(v value, depth int) error {
	switch v.t {
	case bsontype.String, bsontype.JavaScript, bsontype.Symbol, bsontype.DBPointer:
		l, _ := readLen(v.data)
		if v.data[4+l-1] != 0 {
			return errors.New("string not terminated")
		}
	case bsontype.EmbeddedDocument, bsontype.Array:
		return validateElems(v.data, depth+1)
	case bsontype.CodeWithScope:
		_, scope, ok := splitCodeScope(v.data)
		if n, _ := readLen(scope); !ok || n < 5 || n != len(scope) {
			return errors.New("malformed code with scope")
		}
		return validateElems(scope, depth+1)
	}
	return nil
}
