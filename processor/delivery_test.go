package processor

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
)

// The delivery a completion queues carries the body of docs/design.md §8 exactly.
func TestCallbackBody(t *testing.T) {
	e, st := engineFixture(t)
	org := oid(1)
	j := &journey.Journey{
		ID: oid(90), Organisation: org, Description: "complete a course", IsActive: true, TrackBy: journey.TrackByActor,
		Waypoints: []journey.Waypoint{{ID: oid(91), IsActive: true, Count: 1, Order: 3,
			Conditions: `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`}},
		Outcomes: []journey.Outcome{{ID: oid(92), IsActive: true, Type: "callback", Callback: "https://example.org/hook"}},
	}
	c, err := journey.Compile(j)
	if err != nil {
		t.Fatal(err)
	}
	e.SetJourney(c, 0)
	stored := time.Date(2026, 3, 4, 5, 6, 7, 890e6, time.UTC)
	stmtID := primitive.NewObjectID()
	doc, _ := bson.Marshal(bson.D{
		{Key: "_id", Value: stmtID}, {Key: "organisation", Value: org},
		{Key: "stored", Value: primitive.NewDateTimeFromTime(stored)},
		{Key: "timestamp", Value: primitive.NewDateTimeFromTime(stored.Add(-time.Hour))},
		{Key: "statement", Value: bson.D{
			{Key: "actor", Value: bson.D{{Key: "name", Value: "A"}, {Key: "mbox", Value: "mailto:a@example.com"}}},
			{Key: "verb", Value: bson.D{{Key: "id", Value: "http://adlnet.gov/expapi/verbs/completed"}}},
		}},
	})
	if _, err := e.Statement(doc); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit([]byte("cp")); err != nil {
		t.Fatal(err)
	}
	var ds []*outbox.Delivery
	if err := st.ScanOutbox(func(_, v []byte) error {
		d, err := outbox.Decode(v)
		ds = append(ds, d)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].URL != "https://example.org/hook" || ds[0].Attempt != 1 {
		t.Fatalf("deliveries: %+v", ds)
	}
	var body map[string]any
	if err := json.Unmarshal(ds[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	at := "2026-03-04T05:06:07.890Z"
	want := map[string]any{
		"owner": map[string]any{"trackBy": "actor", "ident": map[string]any{"mbox": "mailto:a@example.com", "objectType": "Agent"}},
		"attempt": map[string]any{
			"waypoints": []any{map[string]any{
				"waypoint": oid(91).Hex(), "order": 3.0, "completedAt": at, "isCompleted": true,
				"statements": []any{map[string]any{"statement": stmtID.Hex(), "timestamp": "2026-03-04T04:06:07.890Z"}},
			}},
			"completedAt": at, "isCompleted": true,
		},
		"completedAt": at,
	}
	jdoc, _ := body["journey"].(map[string]any)
	delete(body, "journey")
	if !reflect.DeepEqual(body, want) {
		got, _ := json.MarshalIndent(body, "", " ")
		t.Errorf("callback body:\n%s", got)
	}
	if jdoc["_id"] != oid(90).Hex() || jdoc["description"] != "complete a course" {
		t.Errorf("journey in the body: %v", jdoc)
	}
}
