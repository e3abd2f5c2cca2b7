package cond

import "github.com/journeys/journeys/internal/rawbson"

// node is a compiled query or sub-query, evaluated against a whole
// document's bytes. With a memo (see Bound), a field condition on the
// document the memo was reset with reads its path's value from the memo
// through ids (the Matcher's path slots to the memo's path ids); a nil memo
// walks every path, as sub-queries on other documents ($elemMatch) do.
type node interface {
	match(doc []byte, ids []int32, m *Memo) bool
}

// andNode matches when every child does; empty, it matches everything.
type andNode []node

func (n andNode) match(doc []byte, ids []int32, m *Memo) bool {
	for _, c := range n {
		if !c.match(doc, ids, m) {
			return false
		}
	}
	return true
}

// orNode matches when any child does.
type orNode []node

func (n orNode) match(doc []byte, ids []int32, m *Memo) bool {
	for _, c := range n {
		if c.match(doc, ids, m) {
			return true
		}
	}
	return false
}

// norNode matches when no child does.
type norNode []node

func (n norNode) match(doc []byte, ids []int32, m *Memo) bool { return !orNode(n).match(doc, ids, m) }

// notNode negates a whole field condition: $ne, $nin, $not and
// $exists: false match when no value at the path satisfies the operator,
// including when the path is missing.
type notNode struct{ n node }

func (n notNode) match(doc []byte, ids []int32, m *Memo) bool { return !n.n.match(doc, ids, m) }

// fieldNode matches when some value at path satisfies p.
type fieldNode struct {
	path Path
	p    pred
	leaf rawbson.Leaf
	// slot is the position of path in its Matcher's top-level paths
	// (Matcher.paths), or -1 inside an $elemMatch query, which is never
	// evaluated with a memo.
	slot int32
}

func (n *fieldNode) match(doc []byte, ids []int32, m *Memo) bool {
	if m != nil {
		// Without an array or damage on the way, the walk would present
		// exactly one value, the one the memo resolved: whatever the
		// leaf mode, the condition is that value's test.
		if v, ok := m.resolve(ids[n.slot]); ok {
			return n.p.test(v)
		}
	}
	found, err := rawbson.Walk(doc, n.path.p, n.leaf, n.p.test)
	if err != nil {
		panic(malformed{})
	}
	return found
}
