// Package statementlog is the embedded LRS: an append-only, ordered,
// durable log of statement documents and journey changes on Pebble, with
// the indexes an xAPI statement resource needs. Without a MongoDB, the
// daemon reads it through the same seams it reads MongoDB through: a
// stream of events with positions (Reader, in place of a change stream), a
// Scanner in (stored, _id) order for recalculations, and a JourneyStore
// for the HTTP API.
//
// # Format and keys
//
// Every entry has a sequence number, 1, 2, 3…, which is its position: a
// Reader's resume token is the BSON document {seq: <int64>, t: <int64>} of
// the last entry it returned, t being that entry's time, so that another
// entry at the same seq (a log restored from an older copy and written to
// since) is told apart. Keys (big-endian numbers, so byte order is numeric
// order), in the log's Pebble instance:
//
//	e <seq:8>                    entry: kind:1 | time ms:8 | payload
//	v <seq:8>                    the seq of the voiding statement (voided marks)
//	w <lrs_id:12> <statement id> a voiding statement's target not stored yet
//	j <journey _id:12>           the journey document as it is now
//
// and in the index instance (<log dir>/index; see The id index apart):
//
//	i <lrs_id:12> <statement id> seq:8 | content digest:32 | flags:1 (id index)
//	m c | m s                    statements stored; the writer's last stored time
//	m i                          the seq of the last entry the index reflects
//
// The content digest (lrs.Prepared.Content) tells a repost of the same
// statement (a success that stores nothing) from another statement with
// the same id (a conflict, 409).
//
// Entry kinds: 'T' a statement: the client's content digest (32 bytes),
// then the document in Learning Locker's shape (raw BSON, as a change
// stream would deliver it); 'S' a statement without the digest (written
// before the index had its own instance; read alike); 'J' a journey document after
// an insert or update; 'D' a journey deleted (payload: its _id); 'V' a
// stored statement voided (payload: its entry's seq; see Voiding). The 'j'
// keyspace holds the current journeys so that the API reads them without
// replaying the log; each change writes both, in one batch.
//
// # Voiding
//
// A voiding statement (xAPI Data §2.3.2) marks its target's entry voided
// (the 'v' keyspace), or, when the target is not stored yet, leaves a
// pending mark that the target takes when it arrives; the target may be
// in the same write (an array that stores and voids it). A voiding
// statement is never voided, and one whose target is voided already
// changes nothing. Entries are never rewritten: the scan and the reader
// deliver a marked statement with voided: true, so it is not eligible. A
// statement the pipeline may already have counted (its target was stored
// before the voiding statement) is followed, in the same batch, by a 'V'
// entry naming it, which the Reader delivers as a statement update of
// voided (source.KindStatementUpdate), exactly as a change stream delivers
// Learning Locker's $set of voided: the pipeline recomputes the affected
// learners only.
//
// # Order by construction
//
// Statements are stamped while the writer lock is held, in log order:
// stored is the wall clock in milliseconds, but never less than the
// previous statement's, and _id is the stored second followed by the
// sequence number. So ascending (stored, _id) is ascending seq, and a
// recalculation (which scans the log) applies statements in exactly the
// order the live pipeline did: their progress documents are identical.
//
// # Durability and group commit
//
// Writers queue their work; whoever holds the writer lock takes everything
// queued so far, checks each request (all-or-nothing: a request whose
// statement ids conflict is refused whole and writes nothing), stamps
// them, and commits one Pebble batch with fsync. Every request of the group
// is answered only after that sync: an acknowledged statement is durable.
// Concurrent requests therefore share one fsync, which is what makes small
// POSTs cheap.
//
// # Id look-ups
//
// Each client-sent statement id is looked up in the id index before it is
// stored (a generated UUID is not: it cannot collide). The group's
// look-ups share one Pebble iterator, created at its first read and
// closed with the group, and seek with SeekPrefixGE, so the tables' bloom
// filters answer the usual miss; a DB.Get each rebuilt the view of every
// level and reopened each table's iterator and filter, and was a quarter
// of the daemon's CPU under load. The iterator's snapshot is the index as
// it is, since only the writer writes, and the group's own writes are read
// from its overlay. A stored statement looks up a pending void of its id
// only while the log holds some: their number (an upper bound) is counted
// at open and kept by the writer.
//
// # The id index apart
//
// The id index and the counters live in a second Pebble instance, without
// a WAL, sharing the log's block cache: in the log's instance every
// flushed table spanned the sequential entries and the random index keys,
// and each L0 → Lbase compaction rewrote the entries with the index (about
// 350 bytes per statement, more than was flushed); apart, the log's tables
// are runs of sequential keys that overlap no other and are not compacted,
// and only the small index is (BENCHMARKS.md). The log is the truth and
// the index is derived from it:
//
//   - A group commits the log's batch with fsync, then the index's batch
//     (its keys, the counters and m i, the group's last seq) unsynced. A
//     failed index commit refuses every later write until a reopen.
//   - A crash loses the index's unflushed memtables. Batches are applied
//     whole and in order, so what survives is a prefix of them, and m i
//     says which. Open indexes the statement entries after m i again and
//     recounts the counters over them (an imported statement, whose _id
//     is not the one the log stamps, sets the writer's last stored time
//     one past its stored, as Import does). Close flushes the index.
//   - The index value holds the digest of the statement as the client sent
//     it, which the stored, shaped document cannot give back: the 'T'
//     entry carries it, so the catch-up rebuilds the index exactly.
//   - An index ahead of the log (a log directory restored from an older
//     copy beside a newer index) is dropped and rebuilt from the whole log.
//   - A log written before keeps its index keys and counters in the log's
//     instance: Open copies them to the index instance, flushes it, then
//     deletes them from the log with one synced batch (a crash in between
//     copies them again). Its 'S' entries keep the index value moved.
//
// Voided marks and pending voids stay in the log's instance, in the
// synced batch of the statements they concern.
//
// # Separate Pebble instance, consistent with progress
//
// The log lives in its own Pebble instance (<data-dir>/log), not in the
// state store's: it plays the part of the LRS database, has its own
// retention and sizing (a large block cache is useless for a log that is
// read once in order), and keeps the state package the only owner of the
// progress key layout. Consistency needs no shared batch: a Reader only
// returns entries whose batch is committed and synced, and the pipeline
// commits a position only with the effects of the entries up to it. After
// a crash anywhere, the log holds every acknowledged statement and the
// state store a position no later than the log's end; the pipeline resumes
// after that position. A position beyond the log's end (the log directory
// was replaced) is reported as source.ErrHistoryLost, and the pipeline
// recalculates from what the log holds.
//
// # Retention and history loss
//
// Entries are never removed: the log is the statement store, and a
// recalculation scans it. So a valid position cannot fall out of the log;
// history is lost only for a position the log does not hold (beyond its
// end, or another entry at that seq). A reader opened at the end (a fresh
// start, or after a lost history) announces its position once with a
// source.KindCheckpoint event, so that the pipeline commits the
// recalculation it ran at the open without waiting for traffic.
//
// # Import
//
// Import appends statement documents of an old embedded store (lungo's
// lrs.bson) as they are, in their (stored, _id) order; statements stored
// later are stamped after the last imported one.
//
// # Memory
//
// Nothing per statement is kept in memory: the id index and voided marks
// are Pebble keys, read through a bounded block cache; a Reader buffers at
// most readAhead entries; Scan holds one document at a time. Journeys are
// few and listed from their keyspace on demand. The index instance adds at
// most two 8 MiB memtables to the log's two of 32 MiB.
package statementlog
