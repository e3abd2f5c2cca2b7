// Package state is journeysd's durable store: everything the daemon must not
// lose lives in one Pebble database owned by this package.
//
// # What is stored
//
// Per (journey, owner) progress of the current attempt, archived completed
// attempts, fired-outcome markers, per-journey engine metadata, the change
// stream checkpoint and the callback outbox (pending and dead-lettered
// deliveries). Values are opaque bytes: the packages that produce them own
// their encodings. This package owns the key layout, atomicity and
// durability.
//
// # Durability: one Batch, one fsync
//
// A Batch is the unit of atomicity. The engine applies the effects of many
// statements to one Batch together with the stream checkpoint that covers
// them and then calls Batch.Commit, which writes the batch to Pebble's
// write-ahead log and fsyncs it (pebble.Sync). Commit returning nil is the
// durability point: every write of the batch, including the checkpoint, then
// survives a crash. A batch is never torn: if the process dies before Commit
// returns, after restart the batch is either entirely present (the crash came
// after the fsync) or entirely absent. Because the checkpoint travels in the same
// batch as the progress it covers, a restart resumes the stream exactly after
// the last statement whose effects are stored: nothing is lost and nothing is
// counted twice. This is group commit: one fsync pays for many statements.
//
// Commits from different goroutines (the engine, and the callback dispatcher
// updating the outbox) are safe. Pebble's commit pipeline groups concurrent
// synced commits: commits that arrive while a WAL fsync is in flight share
// the next one, so concurrent committers add little fsync load.
//
// Batch.CommitUnsynced skips the wait for that fsync for one batch whose
// work can be redone (a recalculation's scan chunk with its position): the
// batch is durable once any later synced commit returns, and a crash before
// that loses it whole, with whatever unsynced batches followed it; what
// remains is always a prefix of the commit sequence.
//
// Options.NoSync turns the fsync off for tests and benchmarks; each batch is
// then still atomic but recently committed batches may be lost on a crash.
//
// # Key layout
//
// Every key starts with a one-byte kind. Journey-scoped kinds continue with
// the fixed-width 12-byte journey ObjectId, so each kind's records of one
// journey form a single contiguous key range no matter which other journey
// ids exist (a fixed width means no id is a proper prefix of another).
// Owners follow as a big-endian uint16 length and the owner bytes, which may
// be anything, 0x00 and 0xFF included; the length prefix keeps one owner's
// attempt keys from sharing a prefix with another owner whose key happens to
// extend it, and orders owners shortlex (shorter first, then bytewise).
// Attempt numbers are big-endian uint32 so that they iterate in ascending
// numeric order.
//
//	kind  key                                         value
//	0x00  0x00                                        layout version (1 byte)
//	0x01  0x01                                        stream checkpoint
//	0x02  0x02 journey[12]                            journey engine metadata
//	0x03  0x03 journey[12] len[2] owner               progress (current attempt)
//	0x04  0x04 journey[12] len[2] owner attempt[4]    archived attempt
//	0x05  0x05 journey[12] len[2] owner attempt[4]    fired marker (empty)
//	0x06  0x06 id                                     pending delivery
//	0x07  0x07 id                                     dead-lettered delivery
//	0x08  0x08                                        running recalculation scan pass
//	0x08  0x08 journey[12]                            running recalculation
//	0x09  0x09 journey[12] seq[8]                     pending live statement
//	0x0A  0x0A journey[12] statement[12]              hand-over skip entry (empty)
//	0x0B  0x0B statement[12]                          persona it counted for
//
// A recalculation that runs beside the live stream keeps its state (0x08),
// the journey's live statements held back until its scan is done, in
// stream order (0x09), and the statements its scan applied that the stream
// may still deliver (0x0A); DeleteRecalc, DeleteJourney and
// ResetJourneyProgress drop all three.
//
// The persona index (0x0B) maps a statement document's _id to the persona
// (person._id) journeysd last counted it for in a persona-tracked journey.
// When Learning Locker moves statements to another persona (a merge), the
// change event carries only the new persona; the index names the old one,
// whose progress must be recomputed. It holds one entry per statement that
// matched a persona-tracked journey and is never pruned: a stale entry only
// costs a recompute that changes nothing.
//
// Deleting or resetting a journey, or one owner's progress in it
// (ResetOwnerProgress), is therefore a few range deletions,
// independent of the number of owners. Fired markers deliberately outlive
// Batch.DeleteJourney and Batch.ResetJourneyProgress: see DeleteJourney.
//
// Owners are limited to MaxOwnerLen bytes; longer owners are rejected with
// ErrOwnerTooLong rather than truncated, since truncation would merge
// distinct learners.
//
// # Reads
//
// Point reads return (nil, false, nil) when the record is absent; the slices
// they return are copies owned by the caller.
//
// Scans call fn for each record in key order on a point-in-time view
// (AttemptsBefore walks backwards, newest attempt first, and stops after a
// page, so that reading an owner's latest attempts costs a page however
// many attempts are archived). The
// slices passed to fn are valid only until fn returns: they alias Pebble's
// buffers, which spares a copy per record for callers that decode and
// discard. Copy them to retain them. If fn returns an error the scan stops
// and returns it wrapped with context (errors.Is and errors.As see through
// the wrapping), so a sentinel error stops a scan early. fn must not call
// Store.Close, which would wait for the scan.
//
// # Concurrency
//
// A Store is safe for concurrent use. A Batch is not: build it in one
// goroutine. Reads see a consistent point-in-time view; a scan does not
// observe commits made while it runs. Close waits for in-flight operations,
// and operations started after Close began fail with ErrClosed.
package state
