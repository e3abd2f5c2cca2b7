package processor

import (
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/rawbson"
)

// Header is what the engine reads of a stored statement document's top
// level before any condition is evaluated: the fields that place it in
// the order and decide its eligibility.
type Header struct {
	// ID is the document's _id.
	ID primitive.ObjectID
	// Organisation is the document's organisation.
	Organisation primitive.ObjectID
	// LRS is the document's lrs_id (the store); meaningful when HasLRS.
	LRS primitive.ObjectID
	// HasLRS reports whether the document has an ObjectId lrs_id.
	HasLRS bool
	// Voided reports whether the document's voided is true.
	Voided bool
	// Stored is the document's stored time in Unix milliseconds.
	Stored int64
	// Timestamp is the document's timestamp in Unix milliseconds; 0 when
	// absent.
	Timestamp int64
}

// Skip says why the engine did not apply a statement.
type Skip uint8

const (
	// SkipNone: the statement was applied to every journey it is eligible
	// for (which may be none).
	SkipNone Skip = iota
	// SkipMalformed: the document is not a well-formed stored statement —
	// its top level is malformed BSON (rawbson's policy), or it lacks an
	// ObjectId _id or organisation or a date stored. Its Header is zero.
	SkipMalformed
	// SkipVoided: the statement is voided.
	SkipVoided
	// SkipInactive: StatementFor was asked about a journey the engine does
	// not know or that is not active.
	SkipInactive
)

// String returns the reason's name, for logs and tests.
func (s Skip) String() string {
	switch s {
	case SkipNone:
		return "none"
	case SkipMalformed:
		return "malformed"
	case SkipVoided:
		return "voided"
	case SkipInactive:
		return "inactive"
	}
	return "unknown"
}

// Result is what the engine did with one statement: the value
// Engine.Statement and Engine.StatementFor return, so that their callers
// need nothing of the engine's state.
type Result struct {
	// Header holds the statement's header fields; zero when Skipped is
	// SkipMalformed (and for SkipInactive, which reads nothing).
	Header Header
	// Matched reports whether the statement matched some waypoint of a
	// journey it is eligible for (whether it counted depends on the
	// progress at that moment; whether it matched does not).
	Matched bool
	// Skipped says why the statement was not applied, SkipNone when it was.
	Skipped Skip
}

// readHeader reads the header of the stored statement document doc in one
// pass over its top level, without allocating. It reports false when that
// top level is malformed (rawbson's policy: the document is rejected
// whole, even if the fields it needs come before the damage) or lacks the
// fields every stored statement has: _id and organisation as ObjectIds and
// stored as a date, which completion times are taken from.
func readHeader(doc []byte, h *Header) bool {
	*h = Header{}
	var hasID, hasOrg, hasStored bool
	it := rawbson.Elements(doc)
	for {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "_id":
			h.ID, hasID = v.ObjectID()
		case "organisation":
			h.Organisation, hasOrg = v.ObjectID()
		case "lrs_id":
			h.LRS, h.HasLRS = v.ObjectID()
		case "voided":
			h.Voided = v.Boolean()
		case "stored":
			h.Stored, hasStored = v.DateTime()
		case "timestamp":
			h.Timestamp, _ = v.DateTime()
		}
	}
	if it.Malformed() || !hasID || !hasOrg || !hasStored {
		*h = Header{}
		return false
	}
	return true
}
