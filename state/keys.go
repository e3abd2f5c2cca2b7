package state

import (
	"encoding/binary"
	"fmt"
)

// JourneyID identifies a journey. It has the layout of a MongoDB ObjectId
// (primitive.ObjectID is a [12]byte), so callers pass the id directly.
type JourneyID = [12]byte

// MaxOwnerLen is the longest owner key, in bytes, that the store accepts.
// Real owner keys (an actor's IFI or a persona id) are far shorter; the bound
// keeps a malformed statement from producing huge keys and fits the uint16
// length prefix of the key layout.
const MaxOwnerLen = 4096

// Record kinds: the first byte of every key. See the package documentation
// for the complete layout.
const (
	kindVersion    byte = 0x00
	kindCheckpoint byte = 0x01
	kindMeta       byte = 0x02
	kindProgress   byte = 0x03
	kindAttempt    byte = 0x04
	kindFired      byte = 0x05
	kindOutbox     byte = 0x06
	kindDead       byte = 0x07
	kindRecalc     byte = 0x08
	kindPending    byte = 0x09
	kindSkip       byte = 0x0A
	kindPersonaOf  byte = 0x0B
)

// Encoded sizes of the fixed-width key parts.
const (
	journeyPrefixLen = 1 + len(JourneyID{})
	ownerLenLen      = 2
	attemptLen       = 4
)

// layoutVersion is stored under the version key. Open refuses a store whose
// version differs, so a future incompatible layout cannot be misread.
const layoutVersion = 1

// Single-key records.
var (
	versionKey    = []byte{kindVersion}
	checkpointKey = []byte{kindCheckpoint}
)

// checkOwner reports an owner that cannot be encoded in the key layout.
func checkOwner(owner []byte) error {
	if len(owner) > MaxOwnerLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrOwnerTooLong, len(owner), MaxOwnerLen)
	}
	return nil
}

// appendJourneyPrefix appends kind ‖ journey: the prefix shared by all of a
// journey's records of that kind.
func appendJourneyPrefix(dst []byte, kind byte, j JourneyID) []byte {
	dst = append(dst, kind)
	return append(dst, j[:]...)
}

// appendOwnerKey appends kind ‖ journey ‖ len(owner) ‖ owner. The caller has
// checked the owner with checkOwner.
func appendOwnerKey(dst []byte, kind byte, j JourneyID, owner []byte) []byte {
	dst = appendJourneyPrefix(dst, kind, j)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(owner)))
	return append(dst, owner...)
}

// appendAttemptKey appends kind ‖ journey ‖ len(owner) ‖ owner ‖ n, the key
// of an archived attempt or a fired marker.
func appendAttemptKey(dst []byte, kind byte, j JourneyID, owner []byte, n uint32) []byte {
	dst = appendOwnerKey(dst, kind, j, owner)
	return binary.BigEndian.AppendUint32(dst, n)
}

// ownerKeyLen returns the encoded length of an owner key.
func ownerKeyLen(owner []byte) int {
	return journeyPrefixLen + ownerLenLen + len(owner)
}

// appendPrefixEnd appends the smallest key greater than every key that
// starts with prefix: the exclusive upper bound of the prefix's range. It
// increments the last byte that is not 0xFF and drops the bytes after it;
// every prefix used here starts with a kind byte below 0xFF, so one exists.
func appendPrefixEnd(dst, prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			dst = append(dst, prefix[:i]...)
			return append(dst, prefix[i]+1)
		}
	}
	panic("state: key prefix has no upper bound")
}

// decodeOwner splits the owner off the front of rest (the part of a key
// after kind ‖ journey) and returns the owner and the bytes that follow it.
func decodeOwner(rest []byte) (owner, tail []byte, err error) {
	if len(rest) < ownerLenLen {
		return nil, nil, fmt.Errorf("%w: owner length truncated", errCorruptKey)
	}
	n := int(binary.BigEndian.Uint16(rest))
	rest = rest[ownerLenLen:]
	if len(rest) < n {
		return nil, nil, fmt.Errorf("%w: owner of %d bytes truncated to %d", errCorruptKey, n, len(rest))
	}
	return rest[:n], rest[n:], nil
}
