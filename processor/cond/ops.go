package cond

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// op is one compiled operator of an operator document, not yet bound to a
// path: bindField turns it into a field condition, bindElem into a test of
// an array element inside $elemMatch.
type op struct {
	p    pred         // the per-value test; nil when sub is set
	leaf rawbson.Leaf // how an array at the end of the path is presented to p
	// negate makes the operator match when it otherwise would not: $ne,
	// $nin, $not and $exists: false.
	negate bool
	sub    []op // the operators a $not negates
}

// compileOps compiles an operator document such as {$gt: 1, $lt: 5} on
// path. Its operators are and-ed, each traversing arrays on its own.
func compileOps(path string, doc []byte) ([]op, error) {
	var ops []op
	regexDone := false
	for it := rawbson.Elements(doc); ; {
		k, v, ok := it.Next()
		if !ok {
			return ops, nil
		}
		name := string(k)
		var more []op
		var err error
		switch name {
		case "$regex", "$options":
			// $regex and $options form one operator wherever they appear.
			if regexDone {
				continue
			}
			regexDone = true
			more, err = compileRegexOp(path, doc)
		case "$eq", "$ne":
			more, err = compileEq(path, name, v)
		case "$gt", "$gte", "$lt", "$lte":
			more, err = compileRange(path, name, v)
		case "$in", "$nin":
			more, err = compileIn(path, name, v)
		case "$exists":
			more, err = compileExists(path, v)
		case "$type":
			more, err = compileType(path, v)
		case "$size":
			more, err = compileSize(path, v)
		case "$all":
			more, err = compileAll(path, v)
		case "$elemMatch":
			more, err = compileElemMatch(path, v)
		case "$not":
			more, err = compileNot(path, v)
		case "$mod":
			more, err = compileMod(path, v)
		default:
			if !strings.HasPrefix(name, "$") {
				return nil, &Error{Operator: name, Path: path,
					Reason: "not an operator: an operator document cannot mix operators and fields"}
			}
			return nil, rejectOperator(name, path)
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, more...)
	}
}

// bindField binds operators to a path.
func bindField(p Path, ops []op) node {
	if len(ops) == 1 {
		return bindFieldOp(p, ops[0])
	}
	n := make(andNode, 0, len(ops))
	for _, o := range ops {
		n = append(n, bindFieldOp(p, o))
	}
	return n
}

// bindFieldOp binds one operator to a path. A negation applies to the
// whole path condition, so {a: {$ne: 1}} rejects [1, 2].
func bindFieldOp(p Path, o op) node {
	var n node
	if o.sub != nil {
		n = bindField(p, o.sub)
	} else {
		n = &fieldNode{path: p, p: o.p, leaf: o.leaf, slot: -1}
	}
	if o.negate {
		return notNode{n}
	}
	return n
}

// bindElem binds operators to a single value, for $elemMatch: every
// operator applies to the element itself, without traversal.
func bindElem(ops []op) pred {
	all := make(allPred, 0, len(ops))
	for _, o := range ops {
		p := o.p
		if o.sub != nil {
			p = bindElem(o.sub)
		}
		if o.negate {
			p = notPred{p}
		}
		all = append(all, p)
	}
	if len(all) == 1 {
		return all[0]
	}
	return all
}

// single wraps one traversing predicate as an operator list.
func single(p pred) []op { return []op{{p: p, leaf: rawbson.LeafTraverse}} }

// compileEq compiles $eq and $ne. A regex operand compares as a value;
// MongoDB refuses it for $ne.
func compileEq(path, name string, v value) ([]op, error) {
	if name == "$ne" && v.Type == bsontype.Regex {
		return nil, &Error{Operator: name, Path: path, Reason: "cannot take a regex"}
	}
	p, err := eqPred(path, name, v)
	if err != nil {
		return nil, err
	}
	return []op{{p: p, leaf: rawbson.LeafTraverse, negate: name == "$ne"}}, nil
}

// compileRange compiles $gt, $gte, $lt and $lte.
func compileRange(path, name string, v value) ([]op, error) {
	switch v.Type {
	case bsontype.Regex:
		return nil, &Error{Operator: name, Path: path, Reason: "cannot take a regex"}
	case bsontype.Undefined:
		return nil, &Error{Operator: name, Path: path, Reason: "cannot compare to undefined"}
	}
	o := opLTE
	switch name {
	case "$gt":
		o = opGT
	case "$gte":
		o = opGTE
	case "$lt":
		o = opLT
	}
	return single(&cmpPred{op: o, rhs: v, rhsNaN: isNaN(v)}), nil
}

// compileIn compiles $in and $nin.
func compileIn(path, name string, v value) ([]op, error) {
	if v.Type != bsontype.Array {
		return nil, &Error{Operator: name, Path: path, Reason: "needs an array"}
	}
	p := &inPred{}
	var byteVals []value
	for it := rawbson.Elements(v.Data); ; {
		_, e, ok := it.Next()
		if !ok {
			break
		}
		switch {
		case e.Type == bsontype.Regex:
			r, err := regexValue(path, name, e)
			if err != nil {
				return nil, err
			}
			p.regexes = append(p.regexes, r)
		case e.Type == bsontype.EmbeddedDocument && isOperatorDoc(e.Data, false):
			return nil, &Error{Operator: name, Path: path, Reason: "cannot contain operators"}
		case e.Type == bsontype.Undefined:
			return nil, &Error{Operator: name, Path: path, Reason: "cannot contain undefined"}
		case byteKind(e):
			byteVals = append(byteVals, e)
		default:
			p.hasNull = p.hasNull || e.Type == bsontype.Null
			p.others = append(p.others, e)
		}
	}
	p.set = newByteSet(byteVals)
	return []op{{p: p, leaf: rawbson.LeafTraverse, negate: name == "$nin"}}, nil
}

// compileExists compiles $exists; its operand is read for truthiness, as
// MongoDB does, but documents and arrays are refused as likely mistakes.
func compileExists(path string, v value) ([]op, error) {
	if v.Type == bsontype.EmbeddedDocument || v.Type == bsontype.Array {
		return nil, &Error{Operator: "$exists", Path: path, Reason: "needs a boolean"}
	}
	return []op{{p: existsPred{}, leaf: rawbson.LeafTraverse, negate: !truthy(v)}}, nil
}

// compileSize compiles $size, which takes a non-negative whole number.
func compileSize(path string, v value) ([]op, error) {
	n, ok := exactInt(v)
	if !ok || n < 0 || n > 1<<31-1 {
		return nil, &Error{Operator: "$size", Path: path, Reason: "needs a non-negative whole number"}
	}
	return []op{{p: sizePred{n: int(n)}, leaf: rawbson.LeafWhole}}, nil
}

// compileMod compiles $mod: [divisor, remainder], both numbers truncated
// toward zero, the divisor not zero.
func compileMod(path string, v value) ([]op, error) {
	fail := func(reason string) ([]op, error) {
		return nil, &Error{Operator: "$mod", Path: path, Reason: reason}
	}
	if v.Type != bsontype.Array {
		return fail("needs an array [divisor, remainder]")
	}
	var args []int64
	for it := rawbson.Elements(v.Data); ; {
		_, e, ok := it.Next()
		if !ok {
			break
		}
		if !isNumber(e.Type) {
			return fail("divisor and remainder must be numbers")
		}
		i, ok := truncToInt(e)
		if !ok {
			return fail("divisor and remainder must be finite and fit in 64 bits")
		}
		args = append(args, i)
	}
	switch {
	case len(args) != 2:
		return fail("needs exactly two elements [divisor, remainder]")
	case args[0] == 0:
		return fail("divisor cannot be 0")
	}
	return single(modPred{div: args[0], rem: args[1]}), nil
}

// compileNot compiles $not, whose operand is a regex or an operator
// document; the negation covers the whole path condition.
func compileNot(path string, v value) ([]op, error) {
	switch {
	case v.Type == bsontype.Regex:
		r, err := regexValue(path, "$not", v)
		if err != nil {
			return nil, err
		}
		return []op{{p: r, leaf: rawbson.LeafTraverse, negate: true}}, nil
	case v.Type != bsontype.EmbeddedDocument:
		return nil, &Error{Operator: "$not", Path: path, Reason: "needs a regex or an operator document"}
	case rawbson.Count(v.Data) == 0:
		return nil, &Error{Operator: "$not", Path: path, Reason: "cannot be empty"}
	}
	sub, err := compileOps(path, v.Data)
	if err != nil {
		return nil, err
	}
	return []op{{sub: sub, negate: true}}, nil
}

// compileRegexOp compiles the $regex and $options pair of an operator
// document. $regex takes a string or a regex; options may come from either
// but not both.
func compileRegexOp(path string, doc []byte) ([]op, error) {
	fail := func(name, reason string) ([]op, error) {
		return nil, &Error{Operator: name, Path: path, Reason: reason}
	}
	var re, opts value
	for it := rawbson.Elements(doc); ; {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "$regex":
			if !re.Missing() {
				return fail("$regex", "given twice")
			}
			re = v
		case "$options":
			if !opts.Missing() {
				return fail("$options", "given twice")
			}
			opts = v
		}
	}
	var pattern, options string
	switch re.Type {
	case bsontype.String:
		pattern = string(re.Str())
	case bsontype.Regex:
		p, o := re.Regex()
		pattern, options = string(p), string(o)
	case 0:
		return fail("$options", "needs a $regex")
	default:
		return fail("$regex", "needs a string or a regex")
	}
	switch {
	case opts.Missing():
	case opts.Type != bsontype.String:
		return fail("$options", "needs a string")
	case options != "":
		return fail("$options", "options set in both $regex and $options")
	default:
		options = string(opts.Str())
	}
	r, err := compileRegex(pattern, options)
	if err != nil {
		return fail("$regex", err.Error())
	}
	return single(r), nil
}
