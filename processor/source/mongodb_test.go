package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/internal/xapitest"
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

	cfg := Config{DB: db, ServerSideFilter: true, MinBackoff: 10 * time.Millisecond}
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

		for i, w := range []struct {
			kind Kind
			id   primitive.ObjectID
			d    string
		}{
			{KindStatementInsert, stmts[0], ""}, {KindStatementInsert, stmts[1], ""}, {KindStatementInsert, stmts[2], ""},
			{KindJourneyUpsert, jid, "v1"}, {KindJourneyUpsert, jid, "v2"}, {KindJourneyDelete, jid, ""},
		} {
			ev := next(t, s)
			if ev.Kind != w.kind || ev.ID != w.id || w.d != "" && ev.Doc.Lookup("d").StringValue() != w.d {
				t.Fatalf("event %d: %v %v %v, want %v %v %q", i, ev.Kind, ev.ID, ev.Doc, w.kind, w.id, w.d)
			}
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
