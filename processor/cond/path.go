package cond

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
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
// its components once, so that matching does not split per document.
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

// Visit calls fn for every value reachable at p in doc with MongoDB array
// traversal: at each step an array is descended element-wise (and a numeric
// segment also indexes the array), and if the final value is an array, fn
// is called for each element and not for the array itself. Missing values
// are not reported. It stops early when fn returns false.
//
// The values visited are a superset of those an equality condition on p
// compares against, which makes Visit suitable for building or probing an
// index of Matcher.Required constraints. It does not allocate.
func (p Path) Visit(doc bson.Raw, fn func(v bson.RawValue) bool) {
	if len(p.segs) == 0 {
		return
	}
	walk(doc, p.segs, leafElements, func(v value) bool {
		return !v.missing() && !fn(bson.RawValue{Type: v.t, Value: v.data})
	})
}

// leafMode says how an array found at the end of a path is presented.
type leafMode uint8

const (
	// leafTraverse presents each element, then the array itself: the
	// default for comparisons, so {a: 1} and {a: [1]} both match [1].
	leafTraverse leafMode = iota
	// leafWhole presents only the array itself ($size, $elemMatch).
	leafWhole
	// leafElements presents only the elements (Path.Visit).
	leafElements
)

// walk presents to fn every value at segs in doc, following MongoDB's
// BSONElementIterator: missing values are presented as the zero value when
// the path ends in a document that lacks the field or runs into a scalar.
// fn returns true to stop; walk reports whether it was stopped.
func walk(doc []byte, segs []segment, leaf leafMode, fn func(value) bool) bool {
	for i, s := range segs {
		v := lookup(doc, s.name)
		last := i == len(segs)-1
		switch {
		case v.t == bsontype.Array:
			return walkArray(v, segs[i+1:], leaf, fn)
		case last:
			return fn(v)
		case v.t != bsontype.EmbeddedDocument:
			// A scalar (or nothing) before the end of the path.
			return fn(value{})
		}
		doc = v.data
	}
	return false
}

// walkArray presents the values at rest inside the array arr.
func walkArray(arr value, rest []segment, leaf leafMode, fn func(value) bool) bool {
	if len(rest) == 0 {
		if leaf == leafWhole {
			return fn(arr)
		}
		for it := newElems(arr.data); ; {
			_, e, ok := it.next()
			if !ok {
				break
			}
			if fn(e) {
				return true
			}
		}
		return leaf == leafTraverse && fn(arr)
	}
	next := rest[0]
	for it := newElems(arr.data); ; {
		k, e, ok := it.next()
		if !ok {
			return false
		}
		// A document element continues with the whole remaining path…
		if e.t == bsontype.EmbeddedDocument && walk(e.data, rest, leaf, fn) {
			return true
		}
		// …and a numeric segment naming this element continues after it.
		if !next.numeric || string(k) != next.name {
			continue
		}
		switch {
		case len(rest) == 1:
			// The element itself: MongoDB does not traverse an array found
			// this way, but Visit promises the elements of a final array.
			if leaf == leafElements && e.t == bsontype.Array {
				if walkArray(e, nil, leaf, fn) {
					return true
				}
			} else if fn(e) {
				return true
			}
		case e.t == bsontype.EmbeddedDocument:
			if walk(e.data, rest[1:], leaf, fn) {
				return true
			}
		case e.t == bsontype.Array:
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
