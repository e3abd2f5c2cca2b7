package rawbson

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Path is a parsed dotted path, reusable across documents. The zero Path
// addresses nothing.
type Path struct {
	s    string
	segs []segment
}

// segment is one component of a Path.
type segment struct {
	name string
	// numeric marks an all-digit name, which also selects the array element
	// whose key is exactly name (MongoDB's isArrayOffsetMatch: "01" selects
	// nothing in an array).
	numeric bool
}

// ParsePath splits a dotted path such as "statement.verb.id" or "a.0.b" into
// its components once, so that walking does not split per document.
func ParsePath(s string) Path {
	parts := strings.Split(s, ".")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		segs[i] = segment{name: p, numeric: allDigits(p)}
	}
	return Path{s: s, segs: segs}
}

// String returns the path as it was written.
func (p Path) String() string { return p.s }

// IsZero reports whether p addresses nothing.
func (p Path) IsZero() bool { return len(p.segs) == 0 }

// Leaf says how Walk presents an array found at the end of a path.
type Leaf uint8

const (
	// LeafTraverse presents each element, then the array itself: MongoDB's
	// default for comparisons, so {a: 1} and {a: [1]} both match [1].
	LeafTraverse Leaf = iota
	// LeafWhole presents only the array itself ($size, $elemMatch).
	LeafWhole
	// LeafElements presents only the elements (index building), also for
	// an array selected by a numeric segment.
	LeafElements
)

// Walk presents to fn every value at p in doc, following MongoDB's
// BSONElementIterator: at each step an array is descended element-wise (a
// document element continues with the rest of the path, and a numeric
// segment also selects the element with that key), and leaf says how an
// array at the end is presented. A missing value is presented as the zero
// Value when the path ends in a document that lacks the field or runs into
// a scalar. fn returns true to stop; Walk reports whether it was stopped.
//
// Walk checks every element it passes. At the first malformed one it stops
// and returns ErrMalformed, so that damage is never read as a missing
// field; damage it does not pass does not concern it. It does not
// allocate.
func Walk(doc []byte, p Path, leaf Leaf, fn func(Value) bool) (bool, error) {
	if len(p.segs) == 0 {
		return false, nil
	}
	return walk(doc, p.segs, leaf, fn)
}

// errWalk is the error of a walk that met a malformed element; static, so
// that reporting it does not allocate.
var errWalk = &Error{Reason: "malformed element on the path"}

func walk(doc []byte, segs []segment, leaf Leaf, fn func(Value) bool) (bool, error) {
	for i, s := range segs {
		v, err := Lookup(doc, s.name)
		if err != nil {
			return false, errWalk
		}
		last := i == len(segs)-1
		switch {
		case v.Type == bsontype.Array:
			return walkArray(v, segs[i+1:], leaf, fn)
		case last:
			return fn(v), nil
		case v.Type != bsontype.EmbeddedDocument:
			// A scalar (or nothing) before the end of the path.
			return fn(Value{}), nil
		}
		doc = v.Data
	}
	return false, nil
}

// walkArray presents the values at rest inside the array arr.
func walkArray(arr Value, rest []segment, leaf Leaf, fn func(Value) bool) (bool, error) {
	if len(rest) == 0 {
		if leaf == LeafWhole {
			return fn(arr), nil
		}
		it := Elements(arr.Data)
		for {
			_, e, ok := it.Next()
			if !ok {
				break
			}
			if fn(e) {
				return true, nil
			}
		}
		if it.Malformed() {
			return false, errWalk
		}
		return leaf == LeafTraverse && fn(arr), nil
	}
	next := rest[0]
	it := Elements(arr.Data)
	for {
		k, e, ok := it.Next()
		if !ok {
			if it.Malformed() {
				return false, errWalk
			}
			return false, nil
		}
		// A document element continues with the whole remaining path…
		if e.Type == bsontype.EmbeddedDocument {
			if stop, err := walk(e.Data, rest, leaf, fn); stop || err != nil {
				return stop, err
			}
		}
		// …and a numeric segment naming this element continues after it.
		if !next.numeric || string(k) != next.name {
			continue
		}
		var stop bool
		var err error
		switch {
		case len(rest) == 1:
			// The element itself: MongoDB does not traverse an array found
			// this way, but LeafElements promises the elements of a final
			// array.
			if leaf == LeafElements && e.Type == bsontype.Array {
				stop, err = walkArray(e, nil, leaf, fn)
			} else {
				stop = fn(e)
			}
		case e.Type == bsontype.EmbeddedDocument:
			stop, err = walk(e.Data, rest[1:], leaf, fn)
		case e.Type == bsontype.Array:
			stop, err = walkArray(e, rest[1:], leaf, fn)
		}
		if stop || err != nil {
			return stop, err
		}
	}
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
