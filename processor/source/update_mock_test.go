package source

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// llStatementUpdate is a statement update event as MongoDB sends it for
// Learning Locker's writes: updateDescription names the fields set
// (updatedFields) and unset (removedFields); fullDocument is the statement
// after the update (updateLookup), or absent when doc is nil.
func llStatementUpdate(data string, id primitive.ObjectID, set bson.D, doc bson.D) bson.D {
	ev := bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: data}}},
		{Key: "operationType", Value: "update"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 2}},
		{Key: "wallTime", Value: primitive.NewDateTimeFromTime(primitive.NewObjectID().Timestamp())},
		{Key: "ns", Value: bson.D{{Key: "db", Value: "lrs"}, {Key: "coll", Value: "statements"}}},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: id}}},
		{Key: "updateDescription", Value: bson.D{
			{Key: "updatedFields", Value: set},
			{Key: "removedFields", Value: bson.A{}},
			{Key: "truncatedArrays", Value: bson.A{}},
		}},
	}
	if doc != nil {
		ev = append(ev, bson.E{Key: "fullDocument", Value: doc})
	}
	return ev
}

// TestMockStatementUpdates scripts Learning Locker's two updates as MongoDB
// sends them: the persona worker's $set of person and personaIdentifier
// with the document looked up (fullDocument: updateLookup), and a voiding
// $set of voided whose document the server did not send (the stream asked
// for post-images, none was stored), which the Source then looks up
// itself. An update of another field passes the driver but is ignored.
func TestMockStatementUpdates(t *testing.T) {
	stmt, voided := primitive.NewObjectID(), primitive.NewObjectID()
	persona, ident := primitive.NewObjectID(), primitive.NewObjectID()
	person := bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: "Ann"}}
	withPerson := bson.D{{Key: "_id", Value: stmt}, {Key: "person", Value: person}, {Key: "personaIdentifier", Value: ident}}
	voidedDoc := bson.D{{Key: "_id", Value: voided}, {Key: "voided", Value: true}}
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1",
			llStatementUpdate("u1", stmt, bson.D{{Key: "personaIdentifier", Value: ident}, {Key: "person", Value: person}}, withPerson),
			llStatementUpdate("u2", stmt, bson.D{{Key: "active", Value: false}}, withPerson),
			llStatementUpdate("u3", voided, bson.D{{Key: "voided", Value: true}}, nil),
		),
		// The Source's lookup of u3's statement.
		{{Key: "ok", Value: 1}, {Key: "cursor", Value: bson.D{
			{Key: "id", Value: int64(0)}, {Key: "ns", Value: "lrs.statements"}, {Key: "firstBatch", Value: bson.A{voidedDoc}},
		}}},
		killed,
	}
	runMock(t, "updates", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{FullDocument: options.WhenAvailable}, nil)
		ev := next(mt, s)
		if ev.Kind != KindStatementUpdate || ev.ID != stmt || ev.Changed != FieldPerson {
			mt.Fatalf("persona update: %v %v changed %v", ev.Kind, ev.ID, ev.Changed)
		}
		if got := ev.Doc.Lookup("person", "_id").ObjectID(); got != persona {
			mt.Errorf("persona update: person._id %v, want %v", got, persona)
		}
		ev = next(mt, s)
		if ev.Kind != KindStatementUpdate || ev.ID != voided || ev.Changed != FieldVoided {
			mt.Fatalf("voiding update: %v %v changed %v", ev.Kind, ev.ID, ev.Changed)
		}
		if !ev.Doc.Lookup("voided").Boolean() || ev.Token.Lookup("_data").StringValue() != "u3" {
			mt.Errorf("voiding update: Doc %v token %v, want the looked-up voided statement at u3", ev.Doc, ev.Token)
		}
		var finds int
		for _, e := range mt.GetAllStartedEvents() {
			if e.CommandName == "find" {
				finds++
				if got := e.Command.Lookup("filter", "_id").ObjectID(); got != voided {
					mt.Errorf("lookup of %v, want %v", got, voided)
				}
			}
		}
		if st := s.Stats(); finds != 1 || st.Lookups != 1 || st.Ignored != 1 {
			mt.Errorf("%d finds, Stats %+v: want one lookup and the update of active ignored", finds, st)
		}
	})
}

// TestMockStatementUpdateDeletedBeforeLookup: updateLookup found nothing
// (the statement was deleted since): the Source looks again, finds
// nothing, and returns the event without a document.
func TestMockStatementUpdateDeletedBeforeLookup(t *testing.T) {
	id := primitive.NewObjectID()
	ev := llStatementUpdate("u1", id, bson.D{{Key: "voided", Value: true}}, nil)
	ev = append(ev, bson.E{Key: "fullDocument", Value: nil})
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", ev),
		{{Key: "ok", Value: 1}, {Key: "cursor", Value: bson.D{
			{Key: "id", Value: int64(0)}, {Key: "ns", Value: "lrs.statements"}, {Key: "firstBatch", Value: bson.A{}},
		}}},
		killed,
	}
	runMock(t, "deleted", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		got := next(mt, s)
		if got.Kind != KindStatementUpdate || got.Doc != nil || got.ID != id {
			mt.Fatalf("%v %v Doc %v, want a statement update of %v without a document", got.Kind, got.ID, got.Doc, id)
		}
	})
}
