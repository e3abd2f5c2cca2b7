package lrs

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestRecent(t *testing.T) {
	ctx := testContext(t)
	l := openMemory(t)
	org, other := primitive.NewObjectID(), primitive.NewObjectID()
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	// stored times out of insertion order, two documents sharing one stored
	// time (ordered by _id), and another organisation's documents in between.
	type doc struct {
		id     primitive.ObjectID
		org    primitive.ObjectID
		stored time.Time
	}
	ids := make([]primitive.ObjectID, 6)
	for i := range ids {
		ids[i] = primitive.NewObjectIDFromTimestamp(base.Add(time.Duration(i) * time.Second))
	}
	docs := []doc{
		{ids[0], org, base.Add(3 * time.Minute)},
		{ids[1], org, base.Add(1 * time.Minute)},
		{ids[2], other, base.Add(9 * time.Minute)},
		{ids[3], org, base.Add(3 * time.Minute)},
		{ids[4], org, base.Add(2 * time.Minute)},
		{ids[5], other, base},
	}
	for _, d := range docs {
		_, err := l.DB.Collection(l.Statements).InsertOne(ctx, bson.D{
			{Key: "_id", Value: d.id}, {Key: "organisation", Value: d.org}, {Key: "stored", Value: d.stored},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read := func(n int) []primitive.ObjectID {
		var got []primitive.ObjectID
		err := l.Recent(ctx, org, n, func(doc bson.Raw) error {
			if doc.Lookup("organisation").ObjectID() != org {
				t.Errorf("another organisation's statement: %v", doc)
			}
			got = append(got, doc.Lookup("_id").ObjectID())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got, want := read(10), []primitive.ObjectID{ids[3], ids[0], ids[4], ids[1]}; !slices.Equal(got, want) {
		t.Errorf("Recent(10) = %v, want %v", got, want)
	}
	if got, want := read(2), []primitive.ObjectID{ids[3], ids[0]}; !slices.Equal(got, want) {
		t.Errorf("Recent(2) = %v, want %v", got, want)
	}
	if got := read(0); len(got) != 0 {
		t.Errorf("Recent(0) = %v", got)
	}
	stop := errors.New("stop")
	calls := 0
	err := l.Recent(ctx, org, 10, func(bson.Raw) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn's error: got %v after %d calls", err, calls)
	}
}
