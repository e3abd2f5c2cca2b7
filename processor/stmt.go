package processor

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// header is what the engine reads of a stored statement document's top
// level before any condition is evaluated. It is filled in one pass over the
// raw document's elements, without decoding the statement itself.
type header struct {
	id           [12]byte
	organisation [12]byte
	lrsID        [12]byte
	hasID        bool
	hasOrg       bool
	hasLRS       bool
	hasStored    bool
	voided       bool
	stored       int64 // Unix ms; 0 when absent
	timestamp    int64 // Unix ms; 0 when absent
}

// readHeader fills h from doc without allocating. It reports false when the
// document is not well-formed BSON or lacks the fields every stored
// statement has (_id and organisation as ObjectIds, stored as a date, which
// completion times are taken from); the caller counts such documents as
// malformed and skips them.
func readHeader(doc bson.Raw, h *header) bool {
	*h = header{}
	if len(doc) < 5 || int(int32(uint32(doc[0])|uint32(doc[1])<<8|uint32(doc[2])<<16|uint32(doc[3])<<24)) != len(doc) {
		return false
	}
	rest := bsoncore.Document(doc[4 : len(doc)-1])
	for len(rest) > 0 {
		elem, next, ok := bsoncore.ReadElement(rest)
		if !ok {
			return false
		}
		rest = next
		v := elem.Value()
		switch string(elem.KeyBytes()) {
		case "_id":
			if v.Type == bsontype.ObjectID {
				copy(h.id[:], v.Data)
				h.hasID = true
			}
		case "organisation":
			if v.Type == bsontype.ObjectID {
				copy(h.organisation[:], v.Data)
				h.hasOrg = true
			}
		case "lrs_id":
			if v.Type == bsontype.ObjectID {
				copy(h.lrsID[:], v.Data)
				h.hasLRS = true
			}
		case "voided":
			h.voided = v.Type == bsontype.Boolean && len(v.Data) == 1 && v.Data[0] == 1
		case "stored":
			if t, ok := v.DateTimeOK(); ok {
				h.stored, h.hasStored = t, true
			}
		case "timestamp":
			if t, ok := v.DateTimeOK(); ok {
				h.timestamp = t
			}
		}
	}
	return h.hasID && h.hasOrg && h.hasStored
}
