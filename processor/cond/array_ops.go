package cond

import (
	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// compileAll compiles $all: every listed value must be matched (each by
// equality or, for a regex, by matching), or, when the list holds
// {$elemMatch: …} documents, every one of them must be satisfied. An empty
// list matches nothing.
func compileAll(path string, v value) ([]op, error) {
	fail := func(reason string) ([]op, error) {
		return nil, &Error{Operator: "$all", Path: path, Reason: reason}
	}
	if v.Type != bsontype.Array {
		return fail("needs an array")
	}
	var items []value
	for it := rawbson.Elements(v.Data); ; {
		_, e, ok := it.Next()
		if !ok {
			break
		}
		items = append(items, e)
	}
	if len(items) == 0 {
		return single(nonePred{}), nil
	}
	var ops []op
	if isElemMatchDoc(items[0]) {
		for _, e := range items {
			if !isElemMatchDoc(e) || rawbson.Count(e.Data) != 1 {
				return fail("entries must all be {$elemMatch: …} documents when one is")
			}
			// The query was validated whole: the lookup cannot fail.
			em, _ := rawbson.Lookup(e.Data, "$elemMatch")
			m, err := compileElemMatch(path, em)
			if err != nil {
				return nil, err
			}
			ops = append(ops, m...)
		}
		return ops, nil
	}
	for _, e := range items {
		var p pred
		var err error
		switch {
		case e.Type == bsontype.Regex:
			p, err = regexValue(path, "$all", e)
		case e.Type == bsontype.EmbeddedDocument && isOperatorDoc(e.Data, false):
			return fail("entries cannot be operator documents other than $elemMatch")
		default:
			p, err = eqPred(path, "$all", e)
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, single(p)...)
	}
	return ops, nil
}

// isElemMatchDoc reports whether v is a document whose first field is
// $elemMatch.
func isElemMatchDoc(v value) bool {
	if v.Type != bsontype.EmbeddedDocument {
		return false
	}
	it := rawbson.Elements(v.Data)
	k, _, ok := it.Next()
	return ok && string(k) == "$elemMatch"
}

// compileElemMatch compiles $elemMatch. An operator document ({$gt: 1})
// tests each element itself; a query document ({b: 1}) is matched against
// each element that is a document. Only an array at the path matches.
func compileElemMatch(path string, v value) ([]op, error) {
	if v.Type != bsontype.EmbeddedDocument {
		return nil, &Error{Operator: "$elemMatch", Path: path, Reason: "needs a document"}
	}
	if isElemMatchValue(v.Data) {
		ops, err := compileOps(path, v.Data)
		if err != nil {
			return nil, err
		}
		return []op{{p: elemMatchValue{p: bindElem(ops)}, leaf: rawbson.LeafWhole}}, nil
	}
	sub, err := compileQuery(v.Data)
	if err != nil {
		return nil, err
	}
	return []op{{p: elemMatchDoc{sub: sub}, leaf: rawbson.LeafWhole}}, nil
}

// isElemMatchValue reports whether an $elemMatch operand is an operator
// document applied to elements, rather than a query whose first field is
// a path or a top-level operator such as $and.
func isElemMatchValue(doc []byte) bool {
	if !isOperatorDoc(doc, true) {
		return false
	}
	it := rawbson.Elements(doc)
	k, _, _ := it.Next()
	switch string(k) {
	case "$and", "$or", "$nor", "$comment", "$where", "$expr", "$text",
		"$jsonSchema", "$alwaysTrue", "$alwaysFalse", "$sampleRate":
		return false
	}
	return true
}
