package journey

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// versionDomain starts every digest input; bump it when the encoding below
// changes, so old and new digests can never collide.
const versionDomain = "journeys/version/v1\x00"

// Version returns the hex SHA-256 digest of exactly the fields that affect
// progress (docs/design.md §7): organisation; sources as a set (order and duplicates
// do not matter); trackBy; isActive, isSequential, isRepeatable; and, for
// each active waypoint in array order, its _id, conditions (canonical
// Extended JSON of the parsed query, so formatting does not matter), count
// and order. Inactive waypoints take no part in progress, so they are left
// out entirely — toggling a waypoint's isActive still changes the digest,
// editing one that stays inactive does not. Description, isPublic, outcomes,
// owner, timestamps and recalculateStatus never change it.
func (j *Journey) Version() string {
	b := make([]byte, 0, 256)
	b = append(b, versionDomain...)
	b = append(b, j.Organisation[:]...)

	sources := slices.Clone(j.Sources)
	slices.SortFunc(sources, func(x, y primitive.ObjectID) int { return bytes.Compare(x[:], y[:]) })
	sources = slices.Compact(sources)
	b = binary.AppendUvarint(b, uint64(len(sources)))
	for _, s := range sources {
		b = append(b, s[:]...)
	}

	b = appendString(b, string(j.TrackBy))
	b = append(b, flags(j.IsActive, j.IsSequential, j.IsRepeatable))

	for _, w := range j.Waypoints {
		if !w.IsActive {
			continue
		}
		b = append(b, 'w')
		b = append(b, w.ID[:]...)
		if canon, ok := canonicalConditions(w.Conditions); ok {
			b = append(b, 'c')
			b = appendString(b, string(canon))
		} else {
			// Unparsable conditions never pass Validate, but the digest
			// must still be total: use the text itself, tagged apart.
			b = append(b, 'r')
			b = appendString(b, w.Conditions)
		}
		b = binary.AppendVarint(b, int64(w.Count))
		order := w.Order
		if order == 0 {
			order = 0 // fold -0 into 0: the two sort identically
		}
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(order))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// appendString appends s length-prefixed, keeping the encoding unambiguous.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// flags packs booleans into one byte, first argument in the lowest bit.
func flags(bs ...bool) byte {
	var f byte
	for i, v := range bs {
		if v {
			f |= 1 << i
		}
	}
	return f
}
