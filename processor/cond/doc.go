// Package cond compiles MongoDB query documents — a waypoint's conditions —
// and evaluates them directly on raw BSON statement documents.
//
// Semantics follow MongoDB's classic matcher (src/mongo/db/matcher): array
// traversal as in BSONElementIterator, comparison with canonical type
// bracketing, numeric equality across int32, int64, double and decimal128,
// null matching missing fields, and the operator set listed in the
// specification (§5). Operators that cannot be evaluated in process
// ($where, $expr, $text, geo and bitwise operators, …) are rejected by
// Compile with an *Error naming them.
//
// A compiled Matcher never decodes the document: it walks the BSON bytes
// through package rawbson (paths, array traversal, element iteration),
// compares raw values, and allocates nothing for equality, $in and $exists
// conditions. It follows rawbson's malformed-input policy: a document that
// is malformed where a condition reads it matches nothing, rather than
// reading the damage as a missing field (which $exists: false, $ne, $nin
// and null would match). Query documents are validated whole by Compile.
package cond
