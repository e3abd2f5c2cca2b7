package lrs

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// TestSetRecalculateStatuses writes different statuses on several journeys
// in one call (two share one, one has its own, one journey is missing) and
// reads each document back: every journey holds its own status, the
// missing one is no error and other fields are untouched.
func TestSetRecalculateStatuses(t *testing.T) {
	l := openMemory(t)
	ctx := testContext(t)
	coll := l.DB.Collection("journeys")
	js := CollectionJourneys{Coll: coll}
	ids := []primitive.ObjectID{primitive.NewObjectID(), primitive.NewObjectID(), primitive.NewObjectID()}
	for i, id := range ids {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "description", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Millisecond)
	shared := journey.RecalculateStatus{InProgress: true, TotalCount: 100, RemainingCount: 40, StartedAt: &t0, ScanRate: 12}
	own := journey.RecalculateStatus{InProgress: true, TotalCount: 100, RemainingCount: 40, StartedAt: &t1, ScanRate: 12}
	want := map[primitive.ObjectID]journey.RecalculateStatus{ids[0]: shared, ids[1]: own, ids[2]: shared}
	in := map[primitive.ObjectID]journey.RecalculateStatus{primitive.NewObjectID(): own}
	for id, s := range want {
		in[id] = s
	}
	if err := js.SetRecalculateStatuses(ctx, in); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		var doc struct {
			Description int                       `bson:"description"`
			Status      journey.RecalculateStatus `bson:"recalculateStatus"`
		}
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		got, w := doc.Status, want[id]
		if doc.Description != i || got.TotalCount != w.TotalCount || got.RemainingCount != w.RemainingCount ||
			got.StartedAt == nil || !got.StartedAt.Equal(*w.StartedAt) || got.ScanRate != w.ScanRate || !got.InProgress {
			t.Errorf("journey %d: %+v (description %d), want %+v", i, got, doc.Description, w)
		}
	}
	if err := js.SetRecalculateStatuses(ctx, nil); err != nil {
		t.Errorf("no statuses: %v", err)
	}
}
