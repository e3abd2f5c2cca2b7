package cond

import "github.com/journeys/journeys/internal/rawbson"

// node is a compiled query or sub-query, evaluated against a whole
// document's bytes.
type node interface {
	match(doc []byte) bool
}

// andNode matches when every child does; empty, it matches everything.
type andNode []node

func (n andNode) match(doc []byte) bool {
	for _, c := range n {
		if !c.match(doc) {
			return false
		}
	}
	return true
}

// orNode matches when any child does.
type orNode []node

func (n orNode) match(doc []byte) bool {
	for _, c := range n {
		if c.match(doc) {
			return true
		}
	}
	return false
}

// norNode matches when no child does.
type norNode []node

func (n norNode) match(doc []byte) bool { return !orNode(n).match(doc) }

// notNode negates a whole field condition: $ne, $nin, $not and
// $exists: false match when no value at the path satisfies the operator,
// including when the path is missing.
type notNode struct{ n node }

func (n notNode) match(doc []byte) bool { return !n.n.match(doc) }

// fieldNode matches when some value at path satisfies p.
type fieldNode struct {
	path Path
	p    pred
	leaf rawbson.Leaf
}

func (n *fieldNode) match(doc []byte) bool {
	found, err := rawbson.Walk(doc, n.path.p, n.leaf, n.p.test)
	if err != nil {
		panic(malformed{})
	}
	return found
}
