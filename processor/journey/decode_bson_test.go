package journey

import (
	"errors"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/rawbson"
)

// A journey written by another tool: conditions as an embedded document,
// defaults left out, waypoints without ids.
func TestDecodeBSONAppliesDefaults(t *testing.T) {
	id := primitive.NewObjectID()
	raw, err := bson.Marshal(bson.D{
		{Key: "_id", Value: id},
		{Key: "organisation", Value: primitive.NewObjectID()},
		{Key: "description", Value: "written elsewhere"},
		{Key: "waypoints", Value: bson.A{
			bson.D{{Key: "conditions", Value: bson.D{{Key: "statement.verb.id", Value: "http://adlnet.gov/expapi/verbs/commented"}}}},
			bson.D{{Key: "conditions", Value: `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`}, {Key: "count", Value: 2}, {Key: "isActive", Value: false}},
		}},
		{Key: "outcomes", Value: bson.A{bson.D{{Key: "type", Value: "callback"}, {Key: "callback", Value: "https://example.org/hook"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := DecodeBSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !j.IsActive || j.TrackBy != TrackByActor {
		t.Errorf("journey defaults not applied: isActive=%v trackBy=%q", j.IsActive, j.TrackBy)
	}
	w0, w1 := j.Waypoints[0], j.Waypoints[1]
	if !w0.IsActive || w0.Count != 1 || w0.Order != 0 || w0.ID.IsZero() {
		t.Errorf("waypoint 0 defaults not applied: %+v", w0)
	}
	if w1.IsActive || w1.Count != 2 || w1.Order != 1 {
		t.Errorf("waypoint 1 lost its stored values: %+v", w1)
	}
	if w0.Conditions != `{"statement.verb.id":"http://adlnet.gov/expapi/verbs/commented"}` {
		t.Errorf("object conditions not converted to a string: %s", w0.Conditions)
	}
	if !j.Outcomes[0].IsActive || j.Outcomes[0].ID.IsZero() {
		t.Errorf("outcome defaults not applied: %+v", j.Outcomes[0])
	}
	c, err := Compile(j)
	if err != nil {
		t.Fatalf("does not compile: %v", err)
	}
	again, err := DecodeBSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version() != c.Version || again.Waypoints[0].ID != w0.ID {
		t.Error("derived ids or version differ between two reads of the same document")
	}
}

// A document as this daemon's API stores it decodes to the same journey as
// plain bson.Unmarshal.
func TestDecodeBSONRoundTrip(t *testing.T) {
	j, err := DecodeJSON([]byte(`{"description":"d","waypoints":[{"conditions":"{\"a\":1}","count":3,"order":2}],"outcomes":[{"type":"callback","callback":"https://example.org/x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	j.ID, j.Organisation = primitive.NewObjectID(), primitive.NewObjectID()
	raw, err := bson.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var want Journey
	if err := bson.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	// Malformed documents are an error (rawbson's policy), never a panic:
	// a zero length prefix, and a nested document whose length is zero.
	nested := []byte{17, 0, 0, 0, 3, 'w', 'p', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for _, doc := range []bson.Raw{{0, 0, 0, 0}, {0, 0, 0, 0, 0}, nested} {
		if _, err := DecodeBSON(doc); err == nil || !errors.Is(err, rawbson.ErrMalformed) {
			t.Errorf("DecodeBSON(%v) = %v, want rawbson's malformed error", []byte(doc), err)
		}
	}
}
