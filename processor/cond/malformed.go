package cond

import "github.com/journeys/journeys/internal/rawbson"

// malformed is panicked by the code that reads a document during Match
// when it meets a malformed element, and recovered by Match, which then
// reports no match. A panic unwinds the nested evaluation (and any $not or
// $nor above the damage) in one step, where threading a third outcome
// through every node and predicate would slow the common case; only
// Match's callees panic it, and Match recovers nothing else.
type malformed struct{}

// recoverMalformed, deferred by Match, turns a malformed panic into no
// match and lets any other panic through.
func recoverMalformed(matched *bool) {
	if r := recover(); r != nil {
		if _, ok := r.(malformed); !ok {
			panic(r)
		}
		*matched = false
	}
}

// checkElems panics malformed when it stopped at a malformed element.
func checkElems(it *rawbson.Iter) {
	if it.Malformed() {
		panic(malformed{})
	}
}

// countElems returns the number of elements of a document or array being
// matched, panicking malformed at damage.
func countElems(doc []byte) int {
	n := 0
	it := rawbson.Elements(doc)
	for {
		if _, _, ok := it.Next(); !ok {
			checkElems(&it)
			return n
		}
		n++
	}
}
