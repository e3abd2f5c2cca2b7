// Package source tails the LRS database through one change stream and hands
// the pipeline the events that matter to journeysd: inserts into the
// statements collection, the statement updates Learning Locker makes after
// inserting (see Statement updates), and every change to the journeys
// collection.
//
// # One stream, one position
//
// A Source watches the whole LRS database (not two collections) so that
// statements and journey edits arrive in a single total order: a journey
// edit takes effect exactly at its position among the statements (docs/design.md §2,
// §7). Every Event carries the resume token just after it; the pipeline
// stores that token in the same atomic commit as the effects of the event,
// and hands it back to Open after a restart, so the stream neither skips
// nor repeats events across restarts. Tokens are opaque BSON documents;
// they are only meaningful to the database that issued them.
//
// Open with a nil token starts at the current end of the stream, and does
// so before it returns: every change made after Open returns is delivered,
// even if the stream has to be reopened before the first one. On MongoDB
// the position is the post-batch resume token of the opening aggregate
// (MongoDB 4.0.7 and later send one); on the embedded lungo engine it is
// the engine's clock at Open, which stamps every change it makes.
//
// Changes the Source reads but does not return (KindIgnore) still move its
// position. While it sees nothing else it returns a KindCheckpoint event
// carrying the newer token now and then, so that the pipeline can commit
// it: a checkpoint left far behind during a quiet spell would otherwise
// fall out of the oplog window and force a full recalculation on restart.
//
// # Failures
//
// Transient failures (network errors, elections, resumable server errors)
// are handled inside Next: the driver first resumes the stream itself; if
// that fails, the Source reopens it after the last event it read, waiting
// a capped, jittered exponential backoff between attempts, logging each one
// and counting them in Stats. Ready reports false meanwhile.
//
// When the resume point no longer exists — the oplog rolled past it
// (MongoDB ChangeStreamHistoryLost, lungo's ErrLostOplogPosition) or the
// token is unknown or malformed — Next and Open return an error wrapping
// ErrHistoryLost. Nothing can recover the missed changes from the stream:
// the pipeline recalculates every active journey from the stored
// statements and opens a new Source with a nil token.
//
// An invalidate event (the database was dropped) is returned as
// KindInvalidate, logged, and followed by a fresh stream started after it;
// it is never an error, so a dropped database cannot cause a crash loop.
// If that stream fails before its first event (an election), the driver
// resumes it with resumeAfter the invalidate's token, which MongoDB
// refuses (InvalidResumeToken); an InvalidResumeToken that ends an open
// stream is therefore transient, and the Source reopens with startAfter.
// Only when its own open is refused is the history lost.
//
// # Large events
//
// A reply holds at most 16 MB, and a change event over that fails the
// stream (BSONObjectTooLarge). On MongoDB every stream drops what journeysd
// does not read from the biggest events (a journey update's
// updateDescription: the event carries the whole journey), and, where the
// server supports it (Config.SplitLargeEvents: MongoDB 7.0, 6.0.9+), ends
// with $changeStreamSplitLargeEvent; the Source reassembles the fragments
// into one event (split.go). Elsewhere an event over 16 MB is a permanent
// error that names the MongoDB version that would pass it.
//
// # Journey edits: post-images or lookups
//
// With Config.FullDocument WhenAvailable (chosen where the journeys
// collection has changeStreamPreAndPostImages, MongoDB 6.0+), each journey
// update carries the journey as that update left it. With the default,
// updateLookup, it carries the journey as it is when the event is read:
// edits read late (a backlog, a restart) collapse into the last version,
// so a deactivate/reactivate pair read together arrives as two
// reactivations, and an update of a journey deleted since arrives without
// a document and is ignored (its delete follows). Progress then reflects
// the last definition only, which is what a recalculation would produce
// anyway; what is lost is the intermediate versions' effect on statements
// stored between the edits.
//
// # Statement updates
//
// Learning Locker writes a statement more than once: its persona worker
// sets person and personaIdentifier on a statement inserted without them
// (updateOne), or on every statement of an identifier when a persona is
// created or two are merged (updateMany); a voiding statement makes it set
// voided on the target. An update or replace of a statement that sets or
// removes one of those fields is a KindStatementUpdate; Event.Changed names
// which (from updateDescription: updatedFields' keys, removedFields'
// values), and Event.Doc is the statement after the update: fullDocument
// as the server sent it (updateLookup: as it is when the event is read),
// or, when the event came without one (post-images not kept, or the
// lookup raced a delete), looked up by the Source; nil if the statement no
// longer exists. Updates of any other field are KindIgnore. The fields are
// recognised as whole top-level fields, which is how LL writes them; a
// dotted update such as {$set: {"person._id": …}} is not recognised (see
// Pipeline).
//
// # Filtering
//
// Classify decides what an event means, on the raw BSON, without decoding
// it: it reads the event's top level once through package rawbson, and an
// event whose top level is malformed (rawbson's policy) is ignored whole,
// never classified from the fields before the damage. Against MongoDB the Source can also send Pipeline, the server-side
// equivalent of Classify, so that unrelated changes never cross the
// network; Classify still runs on what arrives. After it come the stages
// that keep events small (see Large events). The embedded lungo engine
// cannot filter a change stream (its Watch panics on a non-empty
// pipeline), so there every change of the database is read and classified
// in Go.
package source
