package cond

import (
	"bytes"
	"encoding/binary"
	"math"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// value is one BSON value as it lies in a document: its type byte and its
// bytes (for documents and arrays, the whole embedded document including its
// length prefix). The zero value, type 0, stands for a missing field, like
// MongoDB's EOO element.
type value struct {
	t    bsontype.Type
	data []byte
}

// missing reports whether v stands for an absent field.
func (v value) missing() bool { return v.t == 0 }

// str returns the contents of a string, symbol or JavaScript value without
// its length prefix and terminating NUL. valueLen guarantees the length.
func (v value) str() []byte { return v.data[4 : len(v.data)-1] }

// f64 returns the value of a double.
func (v value) f64() float64 { return math.Float64frombits(binary.LittleEndian.Uint64(v.data)) }

// i32 returns the value of an int32.
func (v value) i32() int32 { return int32(binary.LittleEndian.Uint32(v.data)) }

// i64 returns the value of an int64, a date or a timestamp (as signed).
func (v value) i64() int64 { return int64(binary.LittleEndian.Uint64(v.data)) }

// regex splits a regular expression value into its pattern and options.
// valueLen guarantees both NUL terminators exist.
func (v value) regex() (pattern, options []byte) {
	i := bytes.IndexByte(v.data, 0)
	return v.data[:i], v.data[i+1 : len(v.data)-1]
}

// elems iterates over the elements of a BSON document or array. Malformed
// input ends the iteration instead of panicking: a matcher must survive any
// document.
type elems struct{ rest []byte }

// newElems starts an iteration over doc, the bytes of a document or array.
func newElems(doc []byte) elems {
	n, ok := readLen(doc)
	if !ok || n < 5 || n > len(doc) {
		return elems{}
	}
	return elems{rest: doc[4 : n-1]}
}

// next returns the next element's key and value; ok is false at the end.
func (e *elems) next() (key []byte, v value, ok bool) {
	b := e.rest
	if len(b) < 2 {
		return nil, value{}, false
	}
	t := bsontype.Type(b[0])
	k := bytes.IndexByte(b[1:], 0)
	if k < 0 {
		e.rest = nil
		return nil, value{}, false
	}
	key, b = b[1:1+k], b[2+k:]
	n := valueLen(t, b)
	if n < 0 || t == 0 {
		e.rest = nil
		return nil, value{}, false
	}
	e.rest = b[n:]
	return key, value{t: t, data: b[:n]}, true
}

// lookup returns the first element of doc named key, or a missing value.
func lookup(doc []byte, key string) value {
	it := newElems(doc)
	for {
		k, v, ok := it.next()
		if !ok {
			return value{}
		}
		if string(k) == key {
			return v
		}
	}
}

// count returns the number of elements of a document or array.
func count(doc []byte) int {
	n := 0
	for it := newElems(doc); ; n++ {
		if _, _, ok := it.next(); !ok {
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
// when the type is unknown or the value is truncated or malformed.
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
		l, ok := readLen(b)
		if !ok || l < 1 {
			return -1
		}
		n = 4 + l
	case bsontype.EmbeddedDocument, bsontype.Array, bsontype.CodeWithScope:
		l, ok := readLen(b)
		if !ok || l < 5 {
			return -1
		}
		n = l
	case bsontype.Binary:
		l, ok := readLen(b)
		if !ok {
			return -1
		}
		n = 5 + l
	case bsontype.DBPointer:
		l, ok := readLen(b)
		if !ok || l < 1 {
			return -1
		}
		n = 4 + l + 12
	case bsontype.Regex:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return -1
		}
		j := bytes.IndexByte(b[i+1:], 0)
		if j < 0 {
			return -1
		}
		n = i + j + 2
	default:
		return -1
	}
	if n > len(b) {
		return -1
	}
	return n
}
