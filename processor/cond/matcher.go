package cond

import (
	"bytes"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/rawbson"
)

// Matcher is a compiled query. It is safe for concurrent use. Match
// allocates nothing for equality, $in and $exists conditions.
type Matcher struct {
	root     andNode
	required []Constraint
	// paths are the distinct paths of the top-level field conditions (also
	// under $and, $or, $nor and negations, not inside $elemMatch), in
	// the order of their fieldNode slots; see Bound.
	paths []Path
}

// Constraint is one indexable requirement of a query: every document the
// query matches holds, at Path (with array traversal, as Path.Visit walks
// it), a value equal to one of Values.
type Constraint struct {
	// Path is the dotted path as written in the query, e.g.
	// "statement.verb.id".
	Path string
	// Values are the allowed values: strings, ObjectIds or booleans, whose
	// BSON equality is byte equality of the value (a document symbol with
	// the same text as a string value is also equal to it). The bytes are
	// shared with the Matcher and must not be modified.
	Values []bson.RawValue
}

// Compile compiles a query document. The query's bytes are copied; errors
// are *Error values naming the offending operator and path.
func Compile(query bson.Raw) (*Matcher, error) {
	if err := rawbson.Validate(query); err != nil {
		return nil, &Error{Reason: "invalid BSON query document: " + err.Error()}
	}
	root, err := compileQuery(bytes.Clone(query))
	if err != nil {
		return nil, err
	}
	m := &Matcher{root: root, required: required(root, nil)}
	m.paths = assignSlots(root, map[string]int32{}, nil)
	return m, nil
}

// assignSlots numbers the distinct paths of the field conditions that n
// evaluates on the document itself, records each condition's number in its
// slot, and returns the paths in that order.
func assignSlots(n node, slots map[string]int32, paths []Path) []Path {
	switch n := n.(type) {
	case andNode:
		for _, c := range n {
			paths = assignSlots(c, slots, paths)
		}
	case orNode:
		for _, c := range n {
			paths = assignSlots(c, slots, paths)
		}
	case norNode:
		for _, c := range n {
			paths = assignSlots(c, slots, paths)
		}
	case notNode:
		paths = assignSlots(n.n, slots, paths)
	case *fieldNode:
		s, ok := slots[n.path.String()]
		if !ok {
			s = int32(len(paths))
			slots[n.path.String()] = s
			paths = append(paths, n.path)
		}
		n.slot = s
	}
	return paths
}

// CompileString parses a MongoDB Extended JSON query string, canonical or
// relaxed ({"$oid"}, {"$date": ISO-8601 string | {"$numberLong"}},
// {"$numberLong"}, {"$numberInt"}, {"$numberDouble"}, {"$numberDecimal"},
// {"$regularExpression": {"pattern", "options"}}, …), with Learning
// Locker's query markers ({"$dte"}; see ParseQuery), and compiles it.
// The legacy {"$regex": "…", "$options": "…"} form stays an operator
// document, which matches exactly like a regex value would.
func CompileString(s string) (*Matcher, error) {
	raw, err := ParseQuery(s)
	if err != nil {
		return nil, err
	}
	return Compile(raw)
}

// Match reports whether doc satisfies the query, with MongoDB semantics.
// Following rawbson's policy, a document that is malformed where the query
// reads it — its length prefix, or any element on a path the query follows
// or inside a value it compares — matches nothing (not even $exists: false
// or $ne): damage is never read as a missing field. Damage the query does
// not read does not concern it.
func (m *Matcher) Match(doc bson.Raw) (matched bool) {
	defer recoverMalformed(&matched)
	return m.root.match(doc, nil, nil)
}

// Required returns the equality constraints implied by the query's top
// level: implicit equality, $eq, $in and $all, also inside a top-level
// $and. Only constraints whose values are all strings, ObjectIds or
// booleans are reported; an $in listing any other value (number, null,
// regex, document, array…) yields none, as do $or, $nor, $not, $ne, $nin
// and $elemMatch. The result is sound: a document without a matching value
// at a constraint's path cannot match. The returned slices are the
// caller's; the value bytes they point to are shared and must not be
// modified.
func (m *Matcher) Required() []Constraint {
	out := make([]Constraint, len(m.required))
	for i, c := range m.required {
		out[i] = Constraint{Path: c.Path, Values: append([]bson.RawValue(nil), c.Values...)}
	}
	return out
}

// required collects the constraints of the conjunction n into out.
func required(n andNode, out []Constraint) []Constraint {
	for _, c := range n {
		switch c := c.(type) {
		case andNode:
			out = required(c, out)
		case *fieldNode:
			if vals := requiredValues(c.p); len(vals) > 0 {
				out = append(out, Constraint{Path: c.path.String(), Values: vals})
			}
		}
	}
	return out
}

// requiredValues returns the values one of which a value satisfying p must
// equal, or nil when p does not restrict values to a set of strings,
// ObjectIds and booleans.
func requiredValues(p pred) []bson.RawValue {
	var vals []value
	switch p := p.(type) {
	case *eqBytes:
		vals = []value{p.val}
	case *inPred:
		if len(p.others) > 0 || len(p.regexes) > 0 {
			return nil
		}
		vals = p.set.vals
	}
	out := make([]bson.RawValue, 0, len(vals))
	for _, v := range vals {
		out = append(out, bson.RawValue{Type: v.Type, Value: v.Data})
	}
	return out
}
