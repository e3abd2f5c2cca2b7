package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/lrs"
)

// TestMongoDB runs the change-stream flow against a real MongoDB replica
// set named by MONGODB_URI (change streams need a replica set), in a fresh
// database dropped afterwards. It is skipped when MONGODB_URI is unset.
func TestMongoDB(t *testing.T) {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip("MONGODB_URI not set")
	}
	ctx := testContext(t)
	client, err := lungo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	name := fmt.Sprintf("journeys_source_test_%d", time.Now().UnixNano())
	db := client.Database(name)
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	e := &embedded{db: db} // insertStatements works on any lungo.IDatabase
	g := xapitest.New(9, xapitest.Options{})
	// Collections must exist before the stream opens for the first inserts
	// to be ordinary inserts on every server version.
	e.insertStatements(t, g, 1)
	mdb := db.(*lungo.MongoDatabase).Database
	// Post-images on journeys where the server has them (6.0+), as an
	// operator following the README enables them; the startup check then
	// picks the stream's options.
	if err := mdb.CreateCollection(ctx, "journeys"); err != nil {
		t.Fatal(err)
	}
	_ = mdb.RunCommand(ctx, bson.D{{Key: "collMod", Value: "journeys"},
		{Key: "changeStreamPreAndPostImages", Value: bson.D{{Key: "enabled", Value: true}}}}).Err()
	info, err := lrs.CheckMongo(ctx, mdb, "journeys")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MongoDB %s (%s, wire %d): post-images %v, split events %v", info.Version, info.Topology, info.WireVersion, info.PostImages, info.SplitLargeEvents)
	fullDocument := options.UpdateLookup
	if info.PostImages {
		fullDocument = options.WhenAvailable
	}

	cfg := Config{DB: db, ServerSideFilter: true, MinBackoff: 10 * time.Millisecond,
		FullDocument: fullDocument, SplitLargeEvents: info.SplitLargeEvents}
	s, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	t.Run("events", func(t *testing.T) {
		stmts := e.insertStatements(t, g, 3)
		jid := primitive.NewObjectID()
		journeys := db.Collection("journeys")
		mustDo(t, func() error {
			_, err := journeys.InsertOne(ctx, bson.D{{Key: "_id", Value: jid}, {Key: "d", Value: "v1"}})
			return err
		})
		mustDo(t, func() error {
			_, err := db.Collection("client").InsertOne(ctx, bson.D{{Key: "n", Value: 1}})
			return err
		})
		mustDo(t, func() error {
			_, err := journeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: jid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "d", Value: "v2"}}}})
			return err
		})
		mustDo(t, func() error {
			_, err := db.Collection("statements").DeleteOne(ctx, bson.D{{Key: "_id", Value: stmts[0]}})
			return err
		})
		mustDo(t, func() error { _, err := journeys.DeleteOne(ctx, bson.D{{Key: "_id", Value: jid}}); return err })

		type want struct {
			kind Kind
			id   primitive.ObjectID
			d    string
		}
		wants := []want{
			{KindStatementInsert, stmts[0], ""}, {KindStatementInsert, stmts[1], ""}, {KindStatementInsert, stmts[2], ""},
			{KindJourneyUpsert, jid, "v1"}, {KindJourneyUpsert, jid, "v2"}, {KindJourneyDelete, jid, ""},
		}
		if !info.PostImages {
			// updateLookup finds the journey already deleted when the
			// stream reads its update: the update arrives without a
			// document and is ignored (the documented collapse; its delete
			// follows).
			wants = slices.Delete(wants, 4, 5)
		}
		for i, w := range wants {
			ev := next(t, s)
			if ev.Kind != w.kind || ev.ID != w.id || w.d != "" && ev.Doc.Lookup("d").StringValue() != w.d {
				t.Fatalf("event %d: %v %v %v, want %v %v %q", i, ev.Kind, ev.ID, ev.Doc, w.kind, w.id, w.d)
			}
		}
	})

	t.Run("Learning Locker's statement updates", func(t *testing.T) {
		stmts := e.insertStatements(t, g, 1)
		coll := db.Collection("statements")
		set := func(fields bson.D) {
			mustDo(t, func() error {
				_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: stmts[0]}}, bson.D{{Key: "$set", Value: fields}})
				return err
			})
		}
		persona := primitive.NewObjectID()
		ignoredBefore := s.Stats().Ignored
		set(bson.D{{Key: "active", Value: false}}) // filtered out on the server
		set(bson.D{{Key: "personaIdentifier", Value: primitive.NewObjectID()},
			{Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: "Ann"}}}})
		set(bson.D{{Key: "voided", Value: true}})
		if ev := next(t, s); ev.Kind != KindStatementInsert || ev.ID != stmts[0] {
			t.Fatalf("first event %v %v, want the insert", ev.Kind, ev.ID)
		}
		ev := next(t, s)
		if ev.Kind != KindStatementUpdate || ev.Changed != FieldPerson || ev.ID != stmts[0] {
			t.Fatalf("persona update: %v %v %v", ev.Kind, ev.Changed, ev.ID)
		}
		if ev.Doc == nil || ev.Doc.Lookup("statement").Type == 0 {
			t.Errorf("persona update without the statement document: %v", ev.Doc)
		}
		ev = next(t, s)
		if ev.Kind != KindStatementUpdate || ev.Changed != FieldVoided || !ev.Doc.Lookup("voided").Boolean() {
			t.Fatalf("voiding update: %v %v %v", ev.Kind, ev.Changed, ev.Doc)
		}
		if got := s.Stats().Ignored; got != ignoredBefore {
			t.Errorf("%d events ignored in Go: the update of active should have been filtered on the server", got-ignoredBefore)
		}
	})

	t.Run("resume", func(t *testing.T) {
		ids := e.insertStatements(t, g, 4)
		var token bson.Raw
		for range 2 {
			token = next(t, s).Token
		}
		later := e.insertStatements(t, g, 2)
		s2, err := Open(ctx, cfg, token)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close(ctx)
		for i, want := range append(ids[2:], later...) {
			if ev := next(t, s2); ev.ID != want {
				t.Fatalf("resumed event %d: %v, want %v", i, ev.ID, want)
			}
		}
	})

	t.Run("journey edits not collapsed", func(t *testing.T) {
		if !info.PostImages {
			t.Skip("this MongoDB keeps no post-images (needs 6.0+): journey edits collapse, as documented")
		}
		s := openMongo(t, cfg)
		jid := primitive.NewObjectID()
		journeys := db.Collection("journeys")
		mustDo(t, func() error {
			_, err := journeys.InsertOne(ctx, bson.D{{Key: "_id", Value: jid}, {Key: "isActive", Value: true}})
			return err
		})
		for _, active := range []bool{false, true} {
			mustDo(t, func() error {
				_, err := journeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: jid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "isActive", Value: active}}}})
				return err
			})
		}
		// Read only now, after all three writes: each arrives as made.
		for i, active := range []bool{true, false, true} {
			ev := next(t, s)
			if ev.Kind != KindJourneyUpsert || ev.ID != jid || ev.Doc.Lookup("isActive").Boolean() != active {
				t.Fatalf("edit %d: %v %v %v, want isActive %v", i, ev.Kind, ev.ID, ev.Doc, active)
			}
		}
	})

	t.Run("journey update without updateDescription", func(t *testing.T) {
		// shapeStages drops a journey update's updateDescription on the
		// server; a raw stream with the same stages shows it.
		cs, err := mdb.Watch(ctx, shapeStages("journeys", false))
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close(ctx)
		jid := primitive.NewObjectID()
		mustDo(t, func() error {
			_, err := db.Collection("journeys").InsertOne(ctx, bson.D{{Key: "_id", Value: jid}, {Key: "n", Value: 1}})
			return err
		})
		mustDo(t, func() error {
			_, err := db.Collection("journeys").UpdateOne(ctx, bson.D{{Key: "_id", Value: jid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 2}}}})
			return err
		})
		mustDo(t, func() error {
			_, err := db.Collection("client").UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 3}}}})
			return err
		})
		var seen []string
		for len(seen) < 3 && cs.Next(ctx) {
			op := cs.Current.Lookup("operationType").StringValue()
			coll := cs.Current.Lookup("ns", "coll").StringValue()
			_, hasDesc := cs.Current.LookupErr("updateDescription")
			seen = append(seen, op+" "+coll)
			if op == "update" && (coll == "journeys") != (hasDesc != nil) {
				t.Errorf("update of %s: updateDescription present = %v", coll, hasDesc == nil)
			}
		}
		if len(seen) < 3 {
			t.Fatalf("events %v: %v", seen, cs.Err())
		}
	})

	t.Run("large event", func(t *testing.T) {
		// A statement of nearly 16 MB: its insert event is over 16 MB.
		s := openMongo(t, cfg)
		id := primitive.NewObjectID()
		doc := bson.D{{Key: "_id", Value: id}, {Key: "statement", Value: bson.D{{Key: "pad", Value: strings.Repeat("x", 16*1024*1024-512)}}}}
		if _, err := db.Collection("statements").InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if !info.SplitLargeEvents {
			_, err := s.Next(ctx)
			if err == nil || !strings.Contains(err.Error(), "6.0.9") {
				t.Fatalf("Next on an event over 16 MB: %v, want the error naming MongoDB 6.0.9", err)
			}
			t.Skip("this MongoDB cannot split events (needs 7.0 or 6.0.9+): the error names the way out")
		}
		ev := next(t, s)
		if ev.Kind != KindStatementInsert || ev.ID != id || len(ev.Doc.Lookup("statement", "pad").StringValue()) != 16*1024*1024-512 {
			t.Fatalf("large event: %v %v (%d bytes)", ev.Kind, ev.ID, len(ev.Doc))
		}
		if st := s.Stats(); st.Fragments < 2 {
			t.Errorf("Stats %+v: the event was not split", st)
		}
	})

	t.Run("token from the embedded engine", func(t *testing.T) {
		token, _ := bson.Marshal(bson.D{{Key: "ts", Value: primitive.Timestamp{T: 1, I: 1}}})
		if _, err := Open(ctx, cfg, token); !errors.Is(err, ErrHistoryLost) {
			t.Fatalf("Open with a lungo token: %v, want ErrHistoryLost", err)
		}
	})

	t.Run("database dropped", func(t *testing.T) {
		s3, err := Open(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s3.Close(ctx)
		mustDo(t, func() error { return db.Drop(ctx) })
		for {
			ev := next(t, s3)
			if ev.Kind == KindInvalidate {
				break
			}
			if ev.Kind != KindJourneysReset {
				t.Fatalf("before the invalidate: %v", ev.Kind)
			}
		}
		id := e.insertStatements(t, g, 1)[0]
		if ev := next(t, s3); ev.Kind != KindStatementInsert || ev.ID != id {
			t.Fatalf("after the invalidate: %v %v, want insert %v", ev.Kind, ev.ID, id)
		}
	})
}

// openMongo opens a Source at the current end of the stream, closed when
// the test ends.
func openMongo(t *testing.T, cfg Config) *Source {
	t.Helper()
	s, err := Open(testContext(t), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}
