package lrs

import (
	"iter"
	"unsafe"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/internal/rawbson"
)

// Walking BSON without allocating: bsoncore's Elements and Values build a
// slice per document and Element.Key a string per element, which was a
// fifth of Prepare's allocations. These iterate in place; keys stay byte
// slices of the document (a comparison string(key) == "x", or a map
// index m[string(key)], does not allocate).

// elements yields the elements of document (or array) d in order. A
// malformed tail ends the iteration: the documents walked here are built
// by this package.
func elements(d []byte) iter.Seq[bsoncore.Element] {
	return func(yield func(bsoncore.Element) bool) {
		if len(d) < 5 {
			return
		}
		rest := d[4 : len(d)-1]
		for len(rest) > 0 {
			e, r, ok := bsoncore.ReadElement(rest)
			if !ok || !yield(e) {
				return
			}
			rest = r
		}
	}
}

// values yields the index and value of each element of array a.
func values(a []byte) iter.Seq2[int, bsoncore.Value] {
	return func(yield func(int, bsoncore.Value) bool) {
		i := 0
		for e := range elements(a) {
			if !yield(i, e.Value()) {
				return
			}
			i++
		}
	}
}

// count returns the number of elements of document or array d.
func count(d []byte) int {
	n := 0
	for range elements(d) {
		n++
	}
	return n
}

// appendElementStart appends the type and key of an element.
func appendElementStart(dst []byte, t byte, key []byte) []byte {
	dst = append(dst, t)
	dst = append(dst, key...)
	return append(dst, 0)
}

// appendValueElement appends the element (key, v).
func appendValueElement(dst []byte, key []byte, v bsoncore.Value) []byte {
	return append(appendElementStart(dst, byte(v.Type), key), v.Data...)
}

// appendContainerStart appends the start of an embedded document or array
// element (t) and returns the index of its length, for
// bsoncore.AppendDocumentEnd.
func appendContainerStart(dst []byte, t byte, key []byte) (int32, []byte) {
	dst = appendElementStart(dst, t, key)
	return bsoncore.ReserveLength(dst)
}

// appendIndexKey appends the decimal array index i to dst.
func appendIndexKey(dst []byte, i int) []byte {
	if i < 10 {
		return append(dst, byte('0'+i))
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	return append(dst, buf[n:]...)
}

// stringOK returns v's string when v is a BSON string, like
// bsoncore.Value.StringValueOK but without copying: the string aliases
// v's bytes. It is only for the documents this package parses and shapes
// (Prepare's), which are never modified once written: Stamp modifies the
// stored documents, which are not read through it.
func stringOK(v bsoncore.Value) (string, bool) {
	// bsoncore's reader framed v (exactly its bytes), as rawbson's
	// accessors require.
	b, ok := rawbson.Value{Type: v.Type, Data: v.Data}.StringOK()
	if !ok || len(v.Data) < 5 {
		return "", false
	}
	if len(b) == 0 {
		return "", true
	}
	return unsafe.String(&b[0], len(b)), true
}

// stringValue returns v's string (see stringOK), or "" when v is not one.
func stringValue(v bsoncore.Value) string {
	s, _ := stringOK(v)
	return s
}
