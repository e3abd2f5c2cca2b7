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
// A compiled Matcher never decodes the document: it walks the BSON bytes,
// compares raw values, and allocates nothing for equality, $in and $exists
// conditions.
package cond
