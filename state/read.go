package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Checkpoint returns the change-stream checkpoint of the last committed
// batch that set one.
func (s *Store) Checkpoint() ([]byte, bool, error) {
	v, ok, err := s.get(checkpointKey)
	if err != nil {
		return nil, false, fmt.Errorf("state: read checkpoint: %w", err)
	}
	return v, ok, nil
}

// Progress returns the progress value of owner in journey j.
func (s *Store) Progress(j JourneyID, owner []byte) ([]byte, bool, error) {
	if err := checkOwner(owner); err != nil {
		return nil, false, fmt.Errorf("state: read progress: %w", err)
	}
	v, ok, err := s.get(appendOwnerKey(make([]byte, 0, ownerKeyLen(owner)), kindProgress, j, owner))
	if err != nil {
		return nil, false, fmt.Errorf("state: read progress of journey %x: %w", j, err)
	}
	return v, ok, nil
}

// ScanProgress calls fn with every owner's progress in journey j, in owner
// order (shortlex: shorter owners first, then bytewise).
func (s *Store) ScanProgress(j JourneyID, fn func(owner, value []byte) error) error {
	lower := appendJourneyPrefix(nil, kindProgress, j)
	return s.scanProgress(j, lower, fn)
}

// ScanProgressFrom is ScanProgress restricted to the owners strictly after
// afterOwner in owner order, for pagination: pass the last owner of the
// previous page. Use ScanProgress for the first page (an empty afterOwner
// is the empty owner, so it would skip an owner with an empty key).
func (s *Store) ScanProgressFrom(j JourneyID, afterOwner []byte, fn func(owner, value []byte) error) error {
	if err := checkOwner(afterOwner); err != nil {
		return fmt.Errorf("state: scan progress: %w", err)
	}
	// Appending 0x00 yields the immediate successor of afterOwner's key, so
	// the range starts strictly after it whether or not that owner exists.
	lower := appendOwnerKey(nil, kindProgress, j, afterOwner)
	lower = append(lower, 0x00)
	return s.scanProgress(j, lower, fn)
}

// scanProgress scans progress keys of journey j from lower to the end of the
// journey's progress range.
func (s *Store) scanProgress(j JourneyID, lower []byte, fn func(owner, value []byte) error) error {
	upper := appendPrefixEnd(nil, appendJourneyPrefix(nil, kindProgress, j))
	err := s.scan(lower, upper, func(key, value []byte) error {
		owner, tail, err := decodeOwner(key[journeyPrefixLen:])
		if err != nil {
			return err
		}
		if len(tail) != 0 {
			return fmt.Errorf("%w: %d trailing bytes after progress owner", errCorruptKey, len(tail))
		}
		return fn(owner, value)
	})
	if err != nil {
		return fmt.Errorf("state: scan progress of journey %x: %w", j, err)
	}
	return nil
}

// Attempts calls fn with each archived attempt of owner in journey j, in
// ascending attempt number.
func (s *Store) Attempts(j JourneyID, owner []byte, fn func(n uint32, value []byte) error) error {
	if err := checkOwner(owner); err != nil {
		return fmt.Errorf("state: scan attempts: %w", err)
	}
	lower := appendOwnerKey(nil, kindAttempt, j, owner)
	upper := appendPrefixEnd(nil, lower)
	err := s.scan(lower, upper, func(key, value []byte) error {
		if len(key) != len(lower)+attemptLen {
			return fmt.Errorf("%w: attempt key of %d bytes, want %d", errCorruptKey, len(key), len(lower)+attemptLen)
		}
		return fn(binary.BigEndian.Uint32(key[len(lower):]), value)
	})
	if err != nil {
		return fmt.Errorf("state: scan attempts of journey %x: %w", j, err)
	}
	return nil
}

// Fired reports whether the outcomes of attempt n of owner in journey j have
// fired (see Batch.MarkFired).
func (s *Store) Fired(j JourneyID, owner []byte, n uint32) (bool, error) {
	if err := checkOwner(owner); err != nil {
		return false, fmt.Errorf("state: read fired marker: %w", err)
	}
	key := appendAttemptKey(make([]byte, 0, ownerKeyLen(owner)+attemptLen), kindFired, j, owner, n)
	_, ok, err := s.get(key)
	if err != nil {
		return false, fmt.Errorf("state: read fired marker of journey %x: %w", j, err)
	}
	return ok, nil
}

// JourneyMeta returns the engine metadata of journey j.
func (s *Store) JourneyMeta(j JourneyID) ([]byte, bool, error) {
	v, ok, err := s.get(appendJourneyPrefix(make([]byte, 0, journeyPrefixLen), kindMeta, j))
	if err != nil {
		return nil, false, fmt.Errorf("state: read metadata of journey %x: %w", j, err)
	}
	return v, ok, nil
}

// ScanJourneyMeta calls fn with the metadata of every journey, in journey id
// order.
func (s *Store) ScanJourneyMeta(fn func(j JourneyID, value []byte) error) error {
	err := s.scan([]byte{kindMeta}, []byte{kindMeta + 1}, func(key, value []byte) error {
		if len(key) != journeyPrefixLen {
			return fmt.Errorf("%w: metadata key of %d bytes", errCorruptKey, len(key))
		}
		return fn(JourneyID(key[1:]), value)
	})
	if err != nil {
		return fmt.Errorf("state: scan journey metadata: %w", err)
	}
	return nil
}

// ScanOutbox calls fn with every pending delivery, in id order.
func (s *Store) ScanOutbox(fn func(id, value []byte) error) error {
	if err := s.scanIDs(kindOutbox, fn); err != nil {
		return fmt.Errorf("state: scan outbox: %w", err)
	}
	return nil
}

// ScanDead calls fn with every dead-lettered delivery, in id order.
func (s *Store) ScanDead(fn func(id, value []byte) error) error {
	if err := s.scanIDs(kindDead, fn); err != nil {
		return fmt.Errorf("state: scan dead letters: %w", err)
	}
	return nil
}

// Dead returns the dead-lettered delivery with the given id.
func (s *Store) Dead(id []byte) ([]byte, bool, error) {
	key := append(append(make([]byte, 0, 1+len(id)), kindDead), id...)
	v, ok, err := s.get(key)
	if err != nil {
		return nil, false, fmt.Errorf("state: read dead letter %q: %w", id, err)
	}
	return v, ok, nil
}

// Outbox returns the pending delivery with the given id.
func (s *Store) Outbox(id []byte) ([]byte, bool, error) {
	key := append(append(make([]byte, 0, 1+len(id)), kindOutbox), id...)
	v, ok, err := s.get(key)
	if err != nil {
		return nil, false, fmt.Errorf("state: read outbox record %q: %w", id, err)
	}
	return v, ok, nil
}

// scanIDs scans the id-keyed records of one kind.
func (s *Store) scanIDs(kind byte, fn func(id, value []byte) error) error {
	return s.scan([]byte{kind}, []byte{kind + 1}, func(key, value []byte) error {
		return fn(key[1:], value)
	})
}

// get returns a copy of the value stored under key.
func (s *Store) get(key []byte) ([]byte, bool, error) {
	if !s.gate.enter() {
		return nil, false, ErrClosed
	}
	defer s.gate.exit()
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	// Pebble's slice is only valid until closer.Close. A non-nil copy, even
	// of an empty value, keeps "present" distinguishable from "absent".
	out := make([]byte, len(v))
	copy(out, v)
	return out, true, closer.Close()
}

// scan calls fn for each key in [lower, upper), in ascending key order.
func (s *Store) scan(lower, upper []byte, fn func(key, value []byte) error) error {
	return s.iterate(lower, upper, false, fn)
}

// scanReverse calls fn for each key in [lower, upper), in descending key
// order.
func (s *Store) scanReverse(lower, upper []byte, fn func(key, value []byte) error) error {
	return s.iterate(lower, upper, true, fn)
}

// iterate calls fn for each key in [lower, upper), in descending key order
// when reverse is set, ascending otherwise.
func (s *Store) iterate(lower, upper []byte, reverse bool, fn func(key, value []byte) error) (err error) {
	if !s.gate.enter() {
		return ErrClosed
	}
	defer s.gate.exit()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer func() {
		// A close error (say, a read error met while positioning) matters
		// only when the scan otherwise succeeded: fn's error comes first.
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	first, next := it.First, it.Next
	if reverse {
		first, next = it.Last, it.Prev
	}
	for valid := first(); valid; valid = next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			return err
		}
	}
	return nil
}

// StatementPersona returns the persona that statement last counted for in a
// persona-tracked journey (see Batch.SetStatementPersona).
func (s *Store) StatementPersona(statement [12]byte) (persona [12]byte, ok bool, err error) {
	v, ok, err := s.get(append([]byte{kindPersonaOf}, statement[:]...))
	if err != nil || !ok {
		return persona, false, err
	}
	if len(v) != len(persona) {
		return persona, false, fmt.Errorf("state: persona of statement %x: corrupt value of %d bytes", statement, len(v))
	}
	copy(persona[:], v)
	return persona, true, nil
}
