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
//
// # Sharing path resolution between matchers
//
// Many compiled queries read the same paths of the same document: the
// waypoints of an organisation's journeys all test statement.verb.id,
// statement.object.id, statement.object.definition.type…, and a candidate
// index has already walked some of them. Matcher.Match walks the document
// again for every path of every query. A PathTable gives every path those
// queries read (and every prefix of it) a small integer id; a Memo, reset
// for each document, resolves an id at most once per document, from its
// parent's resolved value (statement.verb.id from statement.verb, from
// statement); a Bound evaluates one Matcher with its paths' values taken
// from the Memo.
//
// The memo covers only the common case, a path along which every value is
// an embedded document and whose final value is not an array: there MongoDB's
// traversal presents exactly one value — the final one, or a missing value
// when the path stops at a missing field or a scalar — whatever the leaf
// mode, so a field condition is that value's test. A path that meets an
// array (on the way or at its end) or a malformed element is marked
// unresolved, and the condition walks the document as Match does: array
// semantics and the malformed-input policy are unchanged, because both
// take the same rawbson.Lookup steps on the same bytes. Resolution is lazy:
// a query that fails at its first condition resolves nothing more.
// TestMemoEqualsMatch holds memoised matching to Match over generated
// queries and documents, corrupted ones included.
//
// The engine keeps one PathTable per organisation's candidate index (its
// indexed paths and all its waypoints' paths) and probes the index through
// the same Memo, so the probe's walk of statement.object.id is the
// candidates' too. The candidate's indexed equality is still tested by its
// condition: with the value resolved, that costs one byte comparison, and
// skipping it would tie the matcher's result to the index's bookkeeping.
package cond
