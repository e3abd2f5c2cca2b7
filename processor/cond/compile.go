package cond

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// compileQuery compiles a query document: the top level, or the query of
// $and, $or, $nor or $elemMatch. Its conditions are implicitly and-ed.
func compileQuery(doc []byte) (andNode, error) {
	n := andNode{}
	it := rawbson.Elements(doc)
	for {
		k, v, ok := it.Next()
		if !ok {
			return n, nil
		}
		key := string(k)
		var c node
		var err error
		if strings.HasPrefix(key, "$") {
			c, err = compileLogical(key, v)
		} else {
			c, err = compileField(key, v)
		}
		if err != nil {
			return nil, err
		}
		// Flattening nested conjunctions saves a dispatch per match and
		// exposes every top-level equality to Required.
		switch c := c.(type) {
		case nil:
		case andNode:
			n = append(n, c...)
		default:
			n = append(n, c)
		}
	}
}

// compileLogical compiles a top-level operator: $and, $or, $nor or the
// ignored $comment.
func compileLogical(op string, v value) (node, error) {
	switch op {
	case "$comment":
		return nil, nil
	case "$and", "$or", "$nor":
	default:
		return nil, rejectOperator(op, "")
	}
	if v.Type != bsontype.Array {
		return nil, &Error{Operator: op, Reason: "needs an array"}
	}
	var subs []node
	for it := rawbson.Elements(v.Data); ; {
		_, e, ok := it.Next()
		if !ok {
			break
		}
		if e.Type != bsontype.EmbeddedDocument {
			return nil, &Error{Operator: op, Reason: "entries must be query documents"}
		}
		sub, err := compileQuery(e.Data)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	switch {
	case len(subs) == 0:
		return nil, &Error{Operator: op, Reason: "must be a non-empty array"}
	case op == "$and":
		return andNode(subs), nil
	case op == "$or":
		return orNode(subs), nil
	}
	return norNode(subs), nil
}

// compileField compiles the condition on one path: an operator document,
// a regex, or a value for implicit equality.
func compileField(path string, v value) (node, error) {
	p := ParsePath(path)
	switch {
	case v.Type == bsontype.EmbeddedDocument && isOperatorDoc(v.Data, false):
		ops, err := compileOps(path, v.Data)
		if err != nil {
			return nil, err
		}
		return bindField(p, ops), nil
	case v.Type == bsontype.Regex:
		r, err := regexValue(path, "", v)
		if err != nil {
			return nil, err
		}
		return &fieldNode{path: p, p: r, leaf: rawbson.LeafTraverse, slot: -1}, nil
	}
	eq, err := eqPred(path, "", v)
	if err != nil {
		return nil, err
	}
	return &fieldNode{path: p, p: eq, leaf: rawbson.LeafTraverse, slot: -1}, nil
}

// isOperatorDoc reports whether a document value holds operators rather
// than being a literal to compare with (MongoDB's isExpressionDocument):
// its first field starts with '$' and it is not a DBRef. With
// incompleteDBRef any of $ref, $id and $db marks a DBRef, as for
// $elemMatch; otherwise both $ref and $id are needed.
func isOperatorDoc(doc []byte, incompleteDBRef bool) bool {
	it := rawbson.Elements(doc)
	k, _, ok := it.Next()
	if !ok || !strings.HasPrefix(string(k), "$") {
		return false
	}
	var ref, id, db bool
	for it = rawbson.Elements(doc); ; {
		k, _, ok := it.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "$ref":
			ref = true
		case "$id":
			id = true
		case "$db":
			db = true
		}
	}
	if incompleteDBRef {
		return !ref && !id && !db
	}
	return !(ref && id)
}

// eqPred compiles equality with v ($eq or implicit): byte comparison for
// strings, ObjectIds and booleans, full BSON comparison otherwise. A regex
// operand here compares as a value; callers wanting regex matching handle
// it before.
func eqPred(path, op string, v value) (pred, error) {
	switch {
	case v.Type == bsontype.Undefined:
		return nil, &Error{Operator: op, Path: path, Reason: "cannot compare to undefined"}
	case byteKind(v):
		return &eqBytes{val: v, key: keyOf(v)}, nil
	}
	return &cmpPred{op: opEQ, rhs: v, rhsNaN: isNaN(v)}, nil
}

// regexValue compiles a BSON regex operand.
func regexValue(path, op string, v value) (*regexPred, error) {
	pattern, options := v.Regex()
	r, err := compileRegex(string(pattern), string(options))
	if err != nil {
		return nil, &Error{Operator: op, Path: path, Reason: err.Error()}
	}
	return r, nil
}
