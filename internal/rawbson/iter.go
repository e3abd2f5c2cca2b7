package rawbson

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Iter reads the elements of one document or array in order. Each element
// is checked as it is read (see the package documentation's policy), and
// the terminator when the iteration reaches it; the first malformed one
// ends the iteration and Err reports it. The zero Iter yields nothing and
// no error.
type Iter struct {
	rest []byte // the elements not yet read, and the terminator
	bad  fault  // why the iteration stopped early; 0 when it did not
}

// fault is why a document is malformed; a small code rather than a
// string, so that an Iter stays small on the hot path.
type fault uint8

const (
	faultNone fault = iota
	faultShort
	faultLength
	faultTerminator
	faultTruncated
	faultKey
	faultKeyUTF8
	faultValue
)

// String returns the fault's description.
func (f fault) String() string {
	switch f {
	case faultShort:
		return "document shorter than 5 bytes"
	case faultLength:
		return "length prefix does not match the document's bytes"
	case faultTerminator:
		return "document not terminated by 0x00"
	case faultTruncated:
		return "element truncated"
	case faultKey:
		return "field name not terminated"
	case faultKeyUTF8:
		return "field name is not valid UTF-8"
	case faultValue:
		return "unknown type (0x00 included), or value truncated or malformed"
	}
	return ""
}

// Elements starts an iteration over doc, the complete bytes of a document
// or array (length prefix and terminator included). A document whose
// length prefix disagrees with len(doc) yields no element, and Err reports
// it; a missing terminator is reported when the iteration reaches it (a
// reader that stops before never touches the document's last byte, which
// may be cache lines away).
func Elements(doc []byte) Iter {
	if f := checkLength(doc); f != faultNone {
		return Iter{bad: f}
	}
	return Iter{rest: doc[4:]}
}

// checkLength returns why doc's length prefix is malformed, or faultNone.
func checkLength(doc []byte) fault {
	if len(doc) < 5 {
		return faultShort
	}
	if int64(int32(binary.LittleEndian.Uint32(doc))) != int64(len(doc)) {
		return faultLength
	}
	return faultNone
}

// Next returns the next element's key and value, aliasing the document;
// ok is false at the end and at the first malformed element.
func (it *Iter) Next() (key []byte, v Value, ok bool) {
	b := it.rest
	// b holds the elements left and the terminator; an element needs at
	// least a type byte and its key's NUL before the terminator.
	end := len(b) - 1
	if end < 2 {
		if end == 0 && b[0] == 0 || end < 0 {
			it.rest = nil
			return nil, Value{}, false
		}
		if end == 0 {
			return it.fail(faultTerminator)
		}
		return it.fail(faultTruncated)
	}
	// Keys are short and nearly always ASCII: one loop finds the NUL and
	// notes any other byte, faster here than bytes.IndexByte.
	i, high := 1, byte(0)
	for ; i < end && b[i] != 0; i++ {
		high |= b[i]
	}
	if i == end {
		return it.fail(faultKey)
	}
	key = b[1:i]
	if high >= utf8.RuneSelf && !utf8.Valid(key) {
		return it.fail(faultKeyUTF8)
	}
	t := bsontype.Type(b[0])
	val := b[i+1 : end]
	n := valueLen(t, val)
	if n < 0 {
		return it.fail(faultValue)
	}
	it.rest = b[i+1+n:]
	return key, Value{Type: t, Data: val[:n]}, true
}

// fail ends the iteration as malformed.
func (it *Iter) fail(f fault) ([]byte, Value, bool) {
	it.rest, it.bad = nil, f
	return nil, Value{}, false
}

// Err returns nil when the iteration has not met a malformed element (so
// far, or by its end), and otherwise an *Error that is ErrMalformed.
func (it *Iter) Err() error {
	if it.bad == faultNone {
		return nil
	}
	return &Error{Reason: it.bad.String()}
}

// Malformed reports whether the iteration stopped at a malformed element;
// unlike Err it never allocates.
func (it *Iter) Malformed() bool { return it.bad != faultNone }

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
// fit in b. Embedded documents are checked for their length only; their
// terminator and elements are checked when they are read.
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
		// The terminator is checked by Elements when the document is
		// read: a reader that only skips it need not touch its last byte,
		// which may be cache lines away.
		l, ok := readLen(b)
		if !ok || l < 5 || l > len(b) {
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
	if checkLength(b[4+s:l]) != faultNone {
		return -1
	}
	return l
}
