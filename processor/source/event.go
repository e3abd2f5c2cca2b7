package source

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/rawbson"
)

// Event is one change event that matters to journeysd. Its byte slices
// belong to the Event: later reads do not overwrite them.
type Event struct {
	// Kind says what the change means.
	Kind Kind
	// Token is the resume token just after this event: the checkpoint to
	// commit together with the event's effects and to pass to Open.
	Token bson.Raw
	// ClusterTime is when the change was made; zero for KindCheckpoint.
	ClusterTime primitive.Timestamp
	// Doc is the stored statement (KindStatementInsert) or the journey
	// after the change (KindJourneyUpsert); nil for other kinds.
	Doc bson.Raw
	// ID is the changed document's _id (documentKey._id) when it is an
	// ObjectId; zero otherwise.
	ID primitive.ObjectID
	// Changed says which fields that matter a KindStatementUpdate changed;
	// zero for other kinds.
	Changed Fields
}

// event returns the Event of the given kind the scanned parts describe.
func (p *parts) event(kind Kind) Event {
	ev := Event{Kind: kind, Token: p.id}
	if t, i, ok := p.clusterTime.Timestamp(); ok {
		ev.ClusterTime = primitive.Timestamp{T: t, I: i}
	}
	switch kind {
	case KindStatementInsert, KindJourneyUpsert:
		ev.Doc, _ = p.full.Document()
	case KindStatementUpdate:
		ev.Doc, _ = p.full.Document()
		ev.Changed = p.statementFields()
	}
	if v, err := rawbson.Lookup(p.documentKey, "_id"); err == nil {
		if id, ok := v.ObjectID(); ok {
			ev.ID = id
		}
	}
	return ev
}
