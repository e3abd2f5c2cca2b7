package rawbson

import (
	"strconv"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// MaxDepth bounds the nesting of a well-formed document, so that reading it
// recursively cannot exhaust the stack. MongoDB itself refuses documents
// nested deeper than 180 levels.
const MaxDepth = 200

// Validate reports whether doc is one well-formed BSON document, by the
// package's policy, checking every nested document. It returns nil or an
// *Error naming the first element at fault; it allocates only then.
func Validate(doc []byte) error {
	return validateElems(doc, 0)
}

// validateElems checks the elements of the document or array doc, whose
// framing is known to be sound, and those nested in it.
func validateElems(doc []byte, depth int) error {
	if depth > MaxDepth {
		return &Error{Reason: "nested more than " + strconv.Itoa(MaxDepth) + " levels deep"}
	}
	it := Elements(doc)
	for {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		var err error
		switch v.Type {
		case bsontype.EmbeddedDocument, bsontype.Array:
			err = validateElems(v.Data, depth+1)
		case bsontype.CodeWithScope:
			_, scope := v.CodeWithScope()
			err = validateElems(scope, depth+1)
		}
		if err != nil {
			e := err.(*Error)
			if e.Path == "" {
				e.Path = string(k)
			} else {
				e.Path = string(k) + "." + e.Path
			}
			return e
		}
	}
	if it.Malformed() {
		return it.Err()
	}
	return nil
}
