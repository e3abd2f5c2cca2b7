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
//   - Validate: the whole document, recursively, against the same rules.
//
// Where the driver's bsoncore does the same job at the same cost it is used
// instead (bsoncore.Document.Validate is not: it panics on some malformed
// input, accepts field names that are not UTF-8 and allocates on failure
// paths we take per statement; bsoncore.ReadElement lets a negative value
// length through; bson.Raw.Lookup allocates its variadic path). Building
// BSON stays with bsoncore's Append functions.
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
// A document that is not well-formed is malformed as a whole. Readers
// never panic and never read outside the bytes they are given, whatever
// they are given (FuzzRawBSON checks this). Validate reports a malformed
// document with an *Error (errors.Is ErrMalformed). The lazy readers (Iter,
// Lookup, Walk) check each element they pass; at the first malformed one
// they stop, Iter.Err reports it, and Lookup returns it as an error. A
// caller that receives a document from outside validates it once where it
// enters (the engine's header read, change-event classification) and
// rejects it whole: the statement is skipped and counted as malformed, it
// matches no waypoint and has no owner. Readers further in (the matcher,
// owner extraction) therefore only see well-formed documents; given a
// malformed one directly they stay memory-safe and treat everything from
// the damage on as absent.
//
// # Cost
//
// Nothing here allocates on success: values alias the document, paths are
// parsed once, Walk takes a callback. Validate allocates only to describe
// a failure.
package rawbson
