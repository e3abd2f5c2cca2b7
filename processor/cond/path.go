package cond

import (
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/rawbson"
)

// Path is a parsed dotted path, reusable across documents. The zero Path
// addresses nothing.
type Path struct{ p rawbson.Path }

// ParsePath splits a dotted path such as "statement.verb.id" or "a.0.b" into
// its components once, so that matching does not split per document.
func ParsePath(s string) Path { return Path{rawbson.ParsePath(s)} }

// String returns the path as it was written.
func (p Path) String() string { return p.p.String() }

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
	rawbson.Walk(doc, p.p, rawbson.LeafElements, func(v value) bool {
		return !v.Missing() && !fn(bson.RawValue{Type: v.Type, Value: v.Data})
	})
}
