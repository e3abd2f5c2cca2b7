// Package rawbson owns reading BSON bytes: it is the one place in journeysd
// that walks a document's elements, and every package that reads a raw
// document — the condition matcher (processor/cond), owner extraction
// (processor/journey), the engine's statement header (processor) and
// change-event classification (processor/source) — reads it through here.
//
// # Why a package of its own
//
// A statement travels from the change stream through classification, the
// header read, the candidate index, the matcher and owner extraction. Each
// of those used to carry its own element reader, and each treated damaged
// bytes its own way: one stopped at the damage and matched what came
// before, one rejected the whole document, one ignored a document whose
// declared length disagreed with its bytes. Statements are written by any
// writer of the LRS database, so such a difference is a difference in which
// statements count. One reader gives one answer.
//
// # What it offers
//
//   - Elements/Iter: the elements of one document or array, in order, each
//     checked as it is read (see the policy below), without allocating.
//   - Lookup: the first element of a document with a given key.
//   - Value and its typed accessors (Str, Double, Int32, Int64, Boolean,
//     Regex, ObjectID, DateTime, Document, Array, StringOK…), which read a
//     value a reader of this package produced.
//   - Path and Walk: a parsed dotted path ("statement.verb.id", "a.0.b")
//     and MongoDB's array traversal along it, with the hooks the matcher
//     needs (Leaf says how an array at the end of the path is presented;
//     the callback decides whether to stop).
//   - Validate: the whole document, recursively, against the same rules
//     (condition queries are validated whole when they are compiled).
//
// Where the driver's bsoncore does the same job at the same cost it is used
// instead: building BSON (its Append functions), and reading off the
// per-statement path, where an allocation does not matter (journey
// documents in the pipeline, API filters and sorts, the embedded store's
// ingestion), through bson.Raw and bsoncore lookups. It is not used for
// reading statements and change events: bsoncore.Document.Validate checks
// only the top level, does not check that strings end in their NUL,
// accepts keys that are not UTF-8 and panics on a zero length prefix;
// bsoncore.ReadElement lets a negative value length through; bson.Raw.Lookup
// allocates its variadic path.
//
// # The malformed-input policy
//
// A document is well-formed when, recursively:
//
//   - its int32 length prefix is at least 5 and equals the bytes it is
//     given (for an embedded document or array, the bytes its container
//     gives it), and its last byte is the 0x00 terminator;
//   - every element has a known type byte (0x01–0x13, 0x7F, 0xFF; 0x00 only
//     as the terminator), a NUL-terminated key that is valid UTF-8, and a
//     value that fits inside the document: strings, JavaScript and symbols
//     with a length ≥ 1 ending in NUL; embedded documents and arrays
//     well-formed; binary with a non-negative length; regular expressions
//     as two NUL-terminated strings; DBPointer a string and 12 bytes; code
//     with scope a total length matching its string and well-formed scope;
//   - it is nested at most MaxDepth levels deep.
//
// String values are not required to be valid UTF-8 (MongoDB does not
// require it either; the matcher compares their bytes).
//
// Readers never panic and never read outside the bytes they are given,
// whatever they are given (FuzzRawBSON checks this against the driver's
// bsoncore). They read lazily and check what they pass: a document's
// length prefix when they enter it, every element they read or step over
// (its type, key and the framing of its value), and the terminator when
// they reach the end. A reader that finds its field stops there; it does
// not touch the rest of the document, nor the inside of a sub-document it
// steps over. Iter stops at the first malformed element and Err reports
// it; Lookup returns the damage as an error, distinct from an absent
// field; Walk stops and returns ErrMalformed. Damage is therefore never
// read as a missing field or as a value. Validate checks a whole document.
//
// The callers apply this one way. The entry points read the whole top
// level of what they are given and reject it whole when it is malformed:
// the engine's header read skips the statement (counted as malformed; no
// condition is evaluated and no owner extracted), and change-event
// classification ignores the event. Below the top level, each reader
// rejects the damage it reaches: the matcher reports no match (not even
// for $exists: false or $ne), owner extraction reports no owner. Damage a
// reader does not reach does not change its answer. TestMalformedPolicy
// (package processor) holds the callers to this.
//
// Why not validate every statement whole where it enters? It costs a walk
// over every element of every nested document — 1 to 2 µs for a 2 KB
// statement on the project's machine (BenchmarkValidate), a third or more
// of the engine's whole per-statement cost — to protect against bytes that
// MongoDB never stores (it validates documents on insert) and the embedded
// store never writes (it builds them). The lazy policy gives the same
// guarantees where it matters: no crash, no read out of bounds, no value
// invented from damage, and one answer for the same bytes from every
// reader that reads them.
//
// # Cost
//
// Nothing here allocates on success: values alias the document, paths are
// parsed once, Walk takes a callback. Validate allocates only to describe
// a failure.
package rawbson
