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
// It does not allocate; malformed bytes read as absent from the damage on.
func Walk(doc []byte, p Path, leaf Leaf, fn func(Value) bool) bool {
	if len(p.segs) == 0 {
		return false
	}
	return walk(doc, p.segs, leaf, fn)
}

func walk(doc []byte, segs []segment, leaf Leaf, fn func(Value) bool) bool {
	for i, s := range segs {
		v, _ := Lookup(doc, s.name)
		last := i == len(segs)-1
		switch {
		case v.Type == bsontype.Array:
			return walkArray(v, segs[i+1:], leaf, fn)
		case last:
			return fn(v)
		case v.Type != bsontype.EmbeddedDocument:
			// A scalar (or nothing) before the end of the path.
			return fn(Value{})
		}
		doc = v.Data
	}
	return false
}

// walkArray presents the values at rest inside the array arr.
func walkArray(arr Value, rest []segment, leaf Leaf, fn func(Value) bool) bool {
	if len(rest) == 0 {
		if leaf == LeafWhole {
			return fn(arr)
		}
		for it := Elements(arr.Data); ; {
			_, e, ok := it.Next()
			if !ok {
				break
			}
			if fn(e) {
				return true
			}
		}
		return leaf == LeafTraverse && fn(arr)
	}
	next := rest[0]
	for it := Elements(arr.Data); ; {
		k, e, ok := it.Next()
		if !ok {
			return false
		}
		// A document element continues with the whole remaining path…
		if e.Type == bsontype.EmbeddedDocument && walk(e.Data, rest, leaf, fn) {
			return true
		}
		// …and a numeric segment naming this element continues after it.
		if !next.numeric || string(k) != next.name {
			continue
		}
		switch {
		case len(rest) == 1:
			// The element itself: MongoDB does not traverse an array found
			// this way, but LeafElements promises the elements of a final
			// array.
			if leaf == LeafElements && e.Type == bsontype.Array {
				if walkArray(e, nil, leaf, fn) {
					return true
				}
			} else if fn(e) {
				return true
			}
		case e.Type == bsontype.EmbeddedDocument:
			if walk(e.Data, rest[1:], leaf, fn) {
				return true
			}
		case e.Type == bsontype.Array:
			if walkArray(e, rest[1:], leaf, fn) {
				return true
			}
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
