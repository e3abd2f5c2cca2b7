package lrs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/integration/mtest"
)

// TestMongoScannerCommands runs MongoScanner against mtest's mock
// deployment and checks the finds it sends: majority read concern on the
// primary (never a secondary picked by the URI), the organisation, sources,
// position and pushdown filter, (stored, _id) order and the chunk limit,
// and that the second chunk starts after the first one's last statement.
func TestMongoScannerCommands(t *testing.T) {
	mt := mtest.New(t, mtest.NewOptions().ClientType(mtest.Mock))
	org, src := primitive.NewObjectID(), primitive.NewObjectID()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stmt := func(i int) bson.D {
		return bson.D{
			{Key: "_id", Value: primitive.NewObjectIDFromTimestamp(base.Add(time.Duration(i) * time.Second))},
			{Key: "organisation", Value: org},
			{Key: "stored", Value: primitive.NewDateTimeFromTime(base.Add(time.Duration(i) * time.Second))},
		}
	}
	s1, s2, s3 := stmt(1), stmt(2), stmt(3)
	mt.Run("chunks", func(mt *mtest.T) {
		mt.AddMockResponses(
			mtest.CreateCursorResponse(0, "lrs.statements", mtest.FirstBatch, s1, s2),
			mtest.CreateCursorResponse(0, "lrs.statements", mtest.FirstBatch, s3),
		)
		db := (&lungo.MongoClient{Client: mt.Client}).Database("lrs")
		sc := NewMongoScanner(db, "statements")
		sc.Chunk = 2
		pushed := bson.D{{Key: "statement.verb.id", Value: "http://example.com/v"}}
		var got []primitive.ObjectID
		err := sc.Scan(context.Background(), ScanQuery{Organisation: org, Sources: []primitive.ObjectID{src}, Filter: pushed}, func(doc bson.Raw) error {
			got = append(got, doc.Lookup("_id").ObjectID())
			return nil
		})
		if err != nil {
			mt.Fatal(err)
		}
		if len(got) != 3 {
			mt.Fatalf("read %d statements, want 3", len(got))
		}
		finds := startedFinds(mt)
		if len(finds) != 2 {
			mt.Fatalf("%d finds, want 2", len(finds))
		}
		for i, f := range finds {
			if lvl, err := f.LookupErr("readConcern", "level"); err != nil || lvl.StringValue() != "majority" {
				mt.Errorf("find %d: readConcern %v, want majority", i, f.Lookup("readConcern"))
			}
			// On a direct connection (mtest's mock is one) the driver
			// sends primaryPreferred for a primary read, as the server
			// selection spec requires; on a replica set it sends none.
			if rp, err := f.LookupErr("$readPreference", "mode"); err == nil && rp.StringValue() != "primary" && rp.StringValue() != "primaryPreferred" {
				mt.Errorf("find %d: read preference %s, want primary", i, rp)
			}
			if sort := f.Lookup("sort").Document().String(); sort != `{"stored": {"$numberInt":"1"},"_id": {"$numberInt":"1"}}` {
				mt.Errorf("find %d: sort %s", i, sort)
			}
			if lim, _ := f.Lookup("limit").AsInt64OK(); lim != 2 {
				mt.Errorf("find %d: limit %v, want 2", i, f.Lookup("limit"))
			}
			and, _ := f.Lookup("filter", "$and").Array().Values()
			want := 3 // organisation, sources, pushed filter
			if i == 1 {
				want = 4 // and the position after s2
			}
			if len(and) != want {
				mt.Fatalf("find %d: filter %s, want %d clauses", i, f.Lookup("filter"), want)
			}
			if o := and[0].Document().Lookup("organisation").ObjectID(); o != org {
				mt.Errorf("find %d: organisation %s", i, o.Hex())
			}
			if !bytesEqual(and[len(and)-1].Document(), mustMarshal(mt, pushed)) {
				mt.Errorf("find %d: pushdown filter %s, want %v", i, and[len(and)-1], pushed)
			}
		}
		pos, _ := finds[1].Lookup("filter", "$and").Array().Values()
		after := pos[2].Document().Lookup("$or").Array().Index(1).Value().Document()
		if id := after.Lookup("_id", "$gt").ObjectID(); id != s2[0].Value.(primitive.ObjectID) {
			mt.Errorf("second chunk starts after %s, want the first chunk's last statement", id.Hex())
		}
	})
}

func mustMarshal(mt *mtest.T, v any) bson.Raw {
	b, err := bson.Marshal(v)
	if err != nil {
		mt.Fatal(err)
	}
	return b
}

func bytesEqual(a, b bson.Raw) bool { return string(a) == string(b) }

// TestMongoScannerDescendingTies scripts a scan served by Learning
// Locker's org_stored__id (ties on stored in descending _id order): the
// finds ask for that order, a run cut short by the chunk limit is asked for
// whole, and the statements come out in ascending (stored, _id) order.
func TestMongoScannerDescendingTies(t *testing.T) {
	mt := mtest.New(t, mtest.NewOptions().ClientType(mtest.Mock))
	org := primitive.NewObjectID()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]primitive.ObjectID, 7)
	for i := range ids {
		ids[i] = primitive.NewObjectIDFromTimestamp(base.Add(time.Duration(i) * time.Second))
	}
	stmt := func(stored, id int) bson.D {
		return bson.D{{Key: "_id", Value: ids[id]}, {Key: "organisation", Value: org},
			{Key: "stored", Value: primitive.NewDateTimeFromTime(base.Add(time.Duration(stored) * time.Millisecond))}}
	}
	mt.Run("ties", func(mt *mtest.T) {
		mt.AddMockResponses(
			// Chunk of 2: the run of stored 2 is cut after _id 5.
			mtest.CreateCursorResponse(0, "lrs.statements", mtest.FirstBatch, stmt(1, 1), stmt(2, 5)),
			// The whole run of stored 2, descending.
			mtest.CreateCursorResponse(0, "lrs.statements", mtest.FirstBatch, stmt(2, 5), stmt(2, 4), stmt(2, 3)),
			mtest.CreateCursorResponse(0, "lrs.statements", mtest.FirstBatch, stmt(3, 6)),
		)
		db := (&lungo.MongoClient{Client: mt.Client}).Database("lrs")
		sc := NewMongoScanner(db, "statements")
		sc.Chunk = 2
		sc.Index = func() (ScanIndex, bool) { return ScanIndex{Name: "org_stored__id", IDDescending: true}, true }
		var got []primitive.ObjectID
		if err := sc.Scan(context.Background(), ScanQuery{Organisation: org}, func(doc bson.Raw) error {
			got = append(got, doc.Lookup("_id").ObjectID())
			return nil
		}); err != nil {
			mt.Fatal(err)
		}
		want := []primitive.ObjectID{ids[1], ids[3], ids[4], ids[5], ids[6]}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			mt.Fatalf("order %v, want %v", got, want)
		}
		finds := startedFinds(mt)
		if len(finds) != 3 {
			mt.Fatalf("%d finds, want 3", len(finds))
		}
		for i, f := range finds {
			if sort := f.Lookup("sort").Document().String(); sort != `{"stored": {"$numberInt":"1"},"_id": {"$numberInt":"-1"}}` {
				mt.Errorf("find %d: sort %s, want the index's order", i, sort)
			}
		}
		if _, err := finds[1].LookupErr("limit"); err == nil {
			mt.Errorf("the run was asked for with a limit: %s", finds[1])
		}
		and, _ := finds[1].Lookup("filter", "$and").Array().Values()
		if st := and[len(and)-1].Document().Lookup("stored").Time(); !st.Equal(base.Add(2 * time.Millisecond)) {
			mt.Errorf("run query %s, want stored = the cut run's", finds[1].Lookup("filter"))
		}
	})
}

// startedFinds returns the find commands the mock deployment received.
func startedFinds(mt *mtest.T) []bson.Raw {
	var finds []bson.Raw
	for _, e := range mt.GetAllStartedEvents() {
		if e.CommandName == "find" {
			finds = append(finds, e.Command)
		}
	}
	return finds
}
