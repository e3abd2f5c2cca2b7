package rawbson

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Iter reads the elements of one document or array in order. Each element
// is checked as it is read (see the package documentation's policy); the
// first malformed one ends the iteration and Err reports it. The zero Iter
// yields nothing and no error.
type Iter struct {
	rest   []byte
	reason string // why the iteration stopped early; "" when it did not
}

// Elements starts an iteration over doc, the complete bytes of a document
// or array (length prefix and terminator included). A document whose
// length prefix disagrees with len(doc) or that lacks its terminator
// yields no element, and Err reports it.
func Elements(doc []byte) Iter {
	if reason := checkDocHeader(doc); reason != "" {
		return Iter{reason: reason}
	}
	return Iter{rest: doc[4 : len(doc)-1]}
}

// Framed reports whether doc's own framing is sound: at least 5 bytes, a
// length prefix equal to len(doc), and the terminating 0x00. It is the
// constant-time part of the policy; its elements are checked as they are
// read.
func Framed(doc []byte) bool { return checkDocHeader(doc) == "" }

// checkDocHeader returns why doc's framing is malformed, or "".
func checkDocHeader(doc []byte) string {
	if len(doc) < 5 {
		return "document shorter than 5 bytes"
	}
	n := int64(int32(binary.LittleEndian.Uint32(doc)))
	switch {
	case n != int64(len(doc)):
		return "length prefix does not match the document's bytes"
	case doc[n-1] != 0:
		return "document not terminated by 0x00"
	}
	return ""
}

// Next returns the next element's key and value, aliasing the document;
// ok is false at the end and at the first malformed element.
func (it *Iter) Next() (key []byte, v Value, ok bool) {
	b := it.rest
	if len(b) == 0 {
		return nil, Value{}, false
	}
	t := bsontype.Type(b[0])
	if t == 0 {
		return it.fail("0x00 type byte before the end of the document")
	}
	// Keys are short and nearly always ASCII: one loop finds the NUL and
	// notes any other byte, faster here than bytes.IndexByte.
	i, high := 1, byte(0)
	for ; i < len(b) && b[i] != 0; i++ {
		high |= b[i]
	}
	if i == len(b) {
		return it.fail("field name not terminated")
	}
	key = b[1:i]
	if high >= utf8.RuneSelf && !utf8.Valid(key) {
		return it.fail("field name is not valid UTF-8")
	}
	b = b[i+1:]
	n := valueLen(t, b)
	if n < 0 {
		return it.fail("unknown type, or value truncated or malformed")
	}
	it.rest = b[n:]
	return key, Value{Type: t, Data: b[:n]}, true
}

// fail ends the iteration as malformed.
func (it *Iter) fail(reason string) ([]byte, Value, bool) {
	it.rest, it.reason = nil, reason
	return nil, Value{}, false
}

// Err returns nil when the iteration has not met a malformed element (so
// far, or by its end), and otherwise an *Error that is ErrMalformed.
func (it *Iter) Err() error {
	if it.reason == "" {
		return nil
	}
	return &Error{Reason: it.reason}
}

// Malformed reports whether the iteration stopped at a malformed element;
// unlike Err it never allocates.
func (it *Iter) Malformed() bool { return it.reason != "" }

// Lookup returns the first element of doc named key. It returns a missing
// Value and a nil error when doc has no such element, and an *Error when
// doc is malformed before the element (or anywhere, if it is absent).
func Lookup(doc []byte, key string) (Value, error) {
	it := Elements(doc)
	for {
		k, v, ok := it.Next()
		if !ok {
			return Value{}, it.Err()
		}
		if string(k) == key {
			return v, nil
		}
	}
}

// Count returns the number of elements of a document or array, up to the
// first malformed one.
func Count(doc []byte) int {
	n := 0
	for it := Elements(doc); ; n++ {
		if _, _, ok := it.Next(); !ok {
			return n
		}
	}
}

// readLen reads a little-endian int32 length prefix; ok is false when b is
// too short or the length is negative.
func readLen(b []byte) (int, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	return n, n >= 0
}

// valueLen returns the size of a value of type t at the start of b, or -1
// when the type is unknown or the value's framing is malformed or does not
// fit in b. Embedded documents are checked for their length and terminator
// only; their elements are checked when they are read.
func valueLen(t bsontype.Type, b []byte) int {
	var n int
	switch t {
	case bsontype.Double, bsontype.DateTime, bsontype.Timestamp, bsontype.Int64:
		n = 8
	case bsontype.Int32:
		n = 4
	case bsontype.Decimal128:
		n = 16
	case bsontype.ObjectID:
		n = 12
	case bsontype.Boolean:
		n = 1
	case bsontype.Undefined, bsontype.Null, bsontype.MinKey, bsontype.MaxKey:
		n = 0
	case bsontype.String, bsontype.JavaScript, bsontype.Symbol:
		return stringLen(b)
	case bsontype.EmbeddedDocument, bsontype.Array:
		l, ok := readLen(b)
		if !ok || l < 5 || l > len(b) || b[l-1] != 0 {
			return -1
		}
		return l
	case bsontype.Binary:
		l, ok := readLen(b)
		if !ok || l > len(b)-5 {
			return -1
		}
		return 5 + l
	case bsontype.DBPointer:
		s := stringLen(b)
		if s < 0 || s+12 > len(b) {
			return -1
		}
		return s + 12
	case bsontype.Regex:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return -1
		}
		j := bytes.IndexByte(b[i+1:], 0)
		if j < 0 {
			return -1
		}
		return i + j + 2
	case bsontype.CodeWithScope:
		return codeWithScopeLen(b)
	default:
		return -1
	}
	if n > len(b) {
		return -1
	}
	return n
}

// stringLen returns the size of a string value (length prefix, bytes and
// NUL) at the start of b, or -1.
func stringLen(b []byte) int {
	l, ok := readLen(b)
	if !ok || l < 1 || l > len(b)-4 || b[3+l] != 0 {
		return -1
	}
	return 4 + l
}

// codeWithScopeLen returns the size of a code-with-scope value at the
// start of b, or -1: an int32 total, a string, and a scope document that
// ends exactly at the total.
func codeWithScopeLen(b []byte) int {
	l, ok := readLen(b)
	if !ok || l < 14 || l > len(b) {
		return -1
	}
	s := stringLen(b[4:l])
	if s < 0 {
		return -1
	}
	if checkDocHeader(b[4+s:l]) != "" {
		return -1
	}
	return l
}
