package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// AttemptsBefore calls fn with the archived attempts of owner in journey j
// numbered below before, in descending attempt number, at most limit of
// them (limit ≤ 0: no bound). before 0 means from the newest. It is how a
// page of an owner's attempts is read without touching the older ones, so
// an owner with 100,000 attempts costs a page, not a scan.
func (s *Store) AttemptsBefore(j JourneyID, owner []byte, before uint32, limit int, fn func(n uint32, value []byte) error) error {
	if err := checkOwner(owner); err != nil {
		return fmt.Errorf("state: scan attempts: %w", err)
	}
	prefix := appendOwnerKey(nil, kindAttempt, j, owner)
	upper := appendPrefixEnd(nil, prefix)
	if before != 0 {
		upper = binary.BigEndian.AppendUint32(append([]byte(nil), prefix...), before)
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	n := 0
	err := s.scanReverse(prefix, upper, func(key, value []byte) error {
		if len(key) != len(prefix)+attemptLen {
			return fmt.Errorf("%w: attempt key of %d bytes, want %d", errCorruptKey, len(key), len(prefix)+attemptLen)
		}
		if n == limit {
			return errScanDone
		}
		n++
		return fn(binary.BigEndian.Uint32(key[len(prefix):]), value)
	})
	if err != nil && !errors.Is(err, errScanDone) {
		return fmt.Errorf("state: scan attempts of journey %x: %w", j, err)
	}
	return nil
}

// errScanDone ends a scan early without an error.
var errScanDone = errors.New("state: scan done")
