package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// This file holds the records of a recalculation that runs beside the live
// stream (see the package documentation's key layout): its own state, the
// journey's live statements held back until its scan is done (the pending
// log), and the statements its scan applied that the stream may still
// deliver (the hand-over skip set).

// recalcIDLen is the length of a statement _id in a skip-set key.
const recalcIDLen = 12

// recalcPassKey holds the state of the running recalculation scan pass,
// shared by the recalculations it serves.
var recalcPassKey = []byte{kindRecalc}

// PutRecalcPass sets the state of the running recalculation scan pass.
func (b *Batch) PutRecalcPass(value []byte) {
	b.set(recalcPassKey, value)
}

// RecalcPass returns the state of the last recalculation scan pass.
func (s *Store) RecalcPass() ([]byte, bool, error) {
	v, ok, err := s.get(recalcPassKey)
	if err != nil {
		return nil, false, fmt.Errorf("state: read recalculation pass: %w", err)
	}
	return v, ok, nil
}

// PutRecalc sets the state of journey j's running recalculation.
func (b *Batch) PutRecalc(j JourneyID, value []byte) {
	b.key = appendJourneyPrefix(b.key[:0], kindRecalc, j)
	b.set(b.key, value)
}

// DeleteRecalc ends journey j's recalculation: its state, pending log and
// skip set are deleted.
func (b *Batch) DeleteRecalc(j JourneyID) {
	b.key = appendJourneyPrefix(b.key[:0], kindRecalc, j)
	b.record(b.b.Delete(b.key, nil))
	b.deleteJourneyRange(kindPending, j)
	b.deleteJourneyRange(kindSkip, j)
}

// PutPending appends a live statement document to journey j's pending log
// under sequence number seq: the log is read back in ascending seq.
func (b *Batch) PutPending(j JourneyID, seq uint64, doc []byte) {
	b.key = binary.BigEndian.AppendUint64(appendJourneyPrefix(b.key[:0], kindPending, j), seq)
	b.set(b.key, doc)
}

// DeletePendingThrough deletes journey j's pending entries with sequence
// numbers up to and including seq.
func (b *Batch) DeletePendingThrough(j JourneyID, seq uint64) {
	lower := appendJourneyPrefix(b.key[:0], kindPending, j)
	n := len(lower)
	var all []byte
	if seq == ^uint64(0) {
		all = appendPrefixEnd(lower, lower[:n])
	} else {
		all = binary.BigEndian.AppendUint64(append(lower, lower[:n]...), seq+1)
	}
	b.key = all
	b.record(b.b.DeleteRange(all[:n], all[n:], nil))
}

// PutSkip adds statement id to journey j's hand-over skip set.
func (b *Batch) PutSkip(j JourneyID, id [12]byte) {
	b.key = append(appendJourneyPrefix(b.key[:0], kindSkip, j), id[:]...)
	b.set(b.key, nil)
}

// Recalc returns the state of journey j's running recalculation.
func (s *Store) Recalc(j JourneyID) ([]byte, bool, error) {
	v, ok, err := s.get(appendJourneyPrefix(make([]byte, 0, journeyPrefixLen), kindRecalc, j))
	if err != nil {
		return nil, false, fmt.Errorf("state: read recalculation of journey %x: %w", j, err)
	}
	return v, ok, nil
}

// ScanPending calls fn with journey j's pending entries whose sequence
// number is above after, in ascending sequence number.
func (s *Store) ScanPending(j JourneyID, after uint64, fn func(seq uint64, doc []byte) error) error {
	prefix := appendJourneyPrefix(nil, kindPending, j)
	upper := appendPrefixEnd(nil, prefix)
	if after == ^uint64(0) {
		return nil
	}
	lower := binary.BigEndian.AppendUint64(prefix, after+1)
	err := s.scan(lower, upper, func(key, value []byte) error {
		if len(key) != journeyPrefixLen+8 {
			return fmt.Errorf("%w: pending key of %d bytes", errCorruptKey, len(key))
		}
		return fn(binary.BigEndian.Uint64(key[journeyPrefixLen:]), value)
	})
	if err != nil {
		return fmt.Errorf("state: scan pending log of journey %x: %w", j, err)
	}
	return nil
}

// LastPending returns the largest sequence number in journey j's pending
// log, or 0 when it is empty.
func (s *Store) LastPending(j JourneyID) (uint64, error) {
	// The last key only: a pending log may hold an hour of live statements.
	prefix := appendJourneyPrefix(nil, kindPending, j)
	var last uint64
	found := errors.New("found")
	err := s.scanReverse(prefix, appendPrefixEnd(nil, prefix), func(key, _ []byte) error {
		if len(key) != journeyPrefixLen+8 {
			return fmt.Errorf("%w: pending key of %d bytes", errCorruptKey, len(key))
		}
		last = binary.BigEndian.Uint64(key[journeyPrefixLen:])
		return found
	})
	if err != nil && err != found {
		return 0, fmt.Errorf("state: read pending log of journey %x: %w", j, err)
	}
	return last, nil
}

// Skipped reports whether statement id is in journey j's hand-over skip set.
func (s *Store) Skipped(j JourneyID, id [12]byte) (bool, error) {
	key := append(appendJourneyPrefix(make([]byte, 0, journeyPrefixLen+recalcIDLen), kindSkip, j), id[:]...)
	_, ok, err := s.get(key)
	if err != nil {
		return false, fmt.Errorf("state: read skip set of journey %x: %w", j, err)
	}
	return ok, nil
}
