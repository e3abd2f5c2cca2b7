package state

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// errBatchDone is returned by Commit on a batch that was already committed
// or closed.
var errBatchDone = errors.New("state: batch already committed or closed")

// Batch collects writes that Commit applies atomically and durably. The
// slices passed to its methods may be reused as soon as a method returns:
// keys and values are copied into the batch.
//
// Writes are not visible to reads until Commit, and within a batch later
// operations win: a Put after DeleteJourney or ResetJourneyProgress of the
// same journey survives the range deletion.
//
// An owner longer than MaxOwnerLen cannot be written; the method that
// receives it records ErrOwnerTooLong, and Commit then fails and writes
// nothing, so an engine bug cannot commit a partial set of effects.
//
// A Batch is not safe for concurrent use, and must not be used after Commit
// or Close, except that Close may always be called again (so that
// `defer b.Close()` is safe).
type Batch struct {
	store *Store
	b     *pebble.Batch
	// key is scratch space for building keys: pebble.Batch copies keys, so
	// one buffer serves every operation and a Put allocates nothing once the
	// batch's buffer has grown.
	key []byte
	// err is the first invalid input; Commit returns it.
	err error
}

// NewBatch returns an empty batch.
func (s *Store) NewBatch() *Batch {
	return &Batch{store: s, b: s.db.NewBatch()}
}

// SetCheckpoint records the change-stream position covered by the batch's
// other writes.
func (b *Batch) SetCheckpoint(v []byte) {
	b.set(checkpointKey, v)
}

// PutProgress sets owner's progress in journey j.
func (b *Batch) PutProgress(j JourneyID, owner, value []byte) {
	if b.validOwner(owner) {
		b.set(b.ownerKey(kindProgress, j, owner), value)
	}
}

// DeleteProgress deletes owner's progress in journey j.
func (b *Batch) DeleteProgress(j JourneyID, owner []byte) {
	if b.validOwner(owner) {
		b.record(b.b.Delete(b.ownerKey(kindProgress, j, owner), nil))
	}
}

// PutAttempt archives attempt n of owner in journey j.
func (b *Batch) PutAttempt(j JourneyID, owner []byte, n uint32, value []byte) {
	if b.validOwner(owner) {
		b.set(b.attemptKey(kindAttempt, j, owner, n), value)
	}
}

// MarkFired records that the outcomes of attempt n of owner in journey j
// have fired (their deliveries are queued in the same batch), so that a
// recalculation rediscovering the completion does not fire them again.
func (b *Batch) MarkFired(j JourneyID, owner []byte, n uint32) {
	if b.validOwner(owner) {
		b.set(b.attemptKey(kindFired, j, owner, n), nil)
	}
}

// PutJourneyMeta sets the engine metadata of journey j.
func (b *Batch) PutJourneyMeta(j JourneyID, value []byte) {
	b.key = appendJourneyPrefix(b.key[:0], kindMeta, j)
	b.set(b.key, value)
}

// DeleteJourney deletes the progress, archived attempts, metadata and any
// running recalculation (see DeleteRecalc) of journey j.
//
// Fired markers are kept. A journey can come back under the same id (the API
// creates or overwrites by id), and its recalculation then rediscovers the
// old completions; the spec requires that an outcome fire at most once per
// (journey, owner, attempt) across recalculations, and the markers enforce
// that. Deliveries already queued are kept as well: they are due.
func (b *Batch) DeleteJourney(j JourneyID) {
	b.deleteJourneyRange(kindProgress, j)
	b.deleteJourneyRange(kindAttempt, j)
	b.key = appendJourneyPrefix(b.key[:0], kindMeta, j)
	b.record(b.b.Delete(b.key, nil))
	b.DeleteRecalc(j)
}

// ResetJourneyProgress deletes the progress, archived attempts and any
// running recalculation (see DeleteRecalc) of journey j, which a
// recalculation rebuilds, keeping its metadata and its fired markers (see
// DeleteJourney).
func (b *Batch) ResetJourneyProgress(j JourneyID) {
	b.deleteJourneyRange(kindProgress, j)
	b.deleteJourneyRange(kindAttempt, j)
	b.DeleteRecalc(j)
}

// ResetOwnerProgress deletes owner's progress and archived attempts in
// journey j, which a recompute of that owner rebuilds in the same batch
// (writes later in a batch win over its range deletions), keeping the
// fired markers (see DeleteJourney).
func (b *Batch) ResetOwnerProgress(j JourneyID, owner []byte) {
	if !b.validOwner(owner) {
		return
	}
	b.record(b.b.Delete(b.ownerKey(kindProgress, j, owner), nil))
	b.key = appendOwnerKey(b.key[:0], kindAttempt, j, owner)
	n := len(b.key)
	b.key = appendPrefixEnd(b.key, b.key[:n])
	b.record(b.b.DeleteRange(b.key[:n], b.key[n:], nil))
}

// SetStatementPersona records that statement (a statement document's _id)
// counted for persona (its person._id) in a persona-tracked journey.
func (b *Batch) SetStatementPersona(statement, persona [12]byte) {
	b.set(b.idKey(kindPersonaOf, statement[:]), persona[:])
}

// PutOutbox queues a pending delivery under id.
func (b *Batch) PutOutbox(id, value []byte) {
	b.set(b.idKey(kindOutbox, id), value)
}

// DeleteOutbox removes the pending delivery id.
func (b *Batch) DeleteOutbox(id []byte) {
	b.record(b.b.Delete(b.idKey(kindOutbox, id), nil))
}

// PutDead stores a dead-lettered delivery under id.
func (b *Batch) PutDead(id, value []byte) {
	b.set(b.idKey(kindDead, id), value)
}

// DeleteDead removes the dead-lettered delivery id.
func (b *Batch) DeleteDead(id []byte) {
	b.record(b.b.Delete(b.idKey(kindDead, id), nil))
}

// Len returns the number of operations queued. DeleteJourney counts as six
// and ResetJourneyProgress as five, the deletions they expand to.
func (b *Batch) Len() int {
	if b.b == nil {
		return 0
	}
	return int(b.b.Count())
}

// Empty reports whether the batch holds no operations.
func (b *Batch) Empty() bool {
	return b.Len() == 0
}

// Commit atomically applies the batch and, unless the store was opened with
// NoSync, fsyncs it: when Commit returns nil every write of the batch is
// durable. A crash during Commit leaves the batch entirely applied or
// entirely absent, never partly. Committing an empty batch writes nothing. The batch is released
// whatever the outcome and cannot be used again.
func (b *Batch) Commit() error {
	return b.commit(b.store.writeOpts)
}

// CommitUnsynced atomically applies the batch without waiting for its
// fsync: its writes are visible at once and become durable with the next
// synced commit (of any batch: the write-ahead log is one sequence). A crash
// before then loses the batch entirely, together with every unsynced batch
// committed after it, never partly and never out of order, so the store
// always recovers to a prefix of the committed batches. It is for work that
// can be redone from what the same batch records (a recalculation's scan,
// which commits its position with its effects) and that nothing outside the
// store has been told about. The batch is released whatever the outcome.
func (b *Batch) CommitUnsynced() error {
	return b.commit(pebble.NoSync)
}

func (b *Batch) commit(opts *pebble.WriteOptions) error {
	if b.b == nil {
		return errBatchDone
	}
	pb := b.b
	b.b = nil
	// Pebble has copied the batch into its WAL and memtable by the time
	// Commit returns, so the buffer can go back to Pebble's pool.
	defer pb.Close()
	if b.err != nil {
		return fmt.Errorf("state: commit: %w", b.err)
	}
	if pb.Empty() {
		return nil
	}
	if !b.store.gate.enter() {
		return fmt.Errorf("state: commit: %w", ErrClosed)
	}
	defer b.store.gate.exit()
	if err := pb.Commit(opts); err != nil {
		return fmt.Errorf("state: commit %d operations: %w", pb.Count(), err)
	}
	return nil
}

// Close discards the batch without committing it. It is a no-op after
// Commit or a previous Close.
func (b *Batch) Close() error {
	if b.b == nil {
		return nil
	}
	pb := b.b
	b.b = nil
	if err := pb.Close(); err != nil {
		return fmt.Errorf("state: close batch: %w", err)
	}
	return nil
}

// set queues key = value.
func (b *Batch) set(key, value []byte) {
	b.record(b.b.Set(key, value, nil))
}

// record keeps the first error of an operation for Commit. Pebble only fails
// operations on indexed batches, which this package does not use, but an
// error must not be dropped if that ever changes.
func (b *Batch) record(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// validOwner validates owner, recording the error if it is invalid.
func (b *Batch) validOwner(owner []byte) bool {
	err := checkOwner(owner)
	b.record(err)
	return err == nil
}

// ownerKey builds an owner key in the scratch buffer.
func (b *Batch) ownerKey(kind byte, j JourneyID, owner []byte) []byte {
	b.key = appendOwnerKey(b.key[:0], kind, j, owner)
	return b.key
}

// attemptKey builds an attempt-numbered key in the scratch buffer.
func (b *Batch) attemptKey(kind byte, j JourneyID, owner []byte, n uint32) []byte {
	b.key = appendAttemptKey(b.key[:0], kind, j, owner, n)
	return b.key
}

// idKey builds an id-keyed record's key in the scratch buffer.
func (b *Batch) idKey(kind byte, id []byte) []byte {
	b.key = append(append(b.key[:0], kind), id...)
	return b.key
}

// deleteJourneyRange deletes every key of one kind of journey j.
func (b *Batch) deleteJourneyRange(kind byte, j JourneyID) {
	b.key = appendJourneyPrefix(b.key[:0], kind, j)
	n := len(b.key)
	b.key = appendPrefixEnd(b.key, b.key[:n])
	b.record(b.b.DeleteRange(b.key[:n], b.key[n:], nil))
}
