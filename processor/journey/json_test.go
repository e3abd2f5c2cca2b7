package journey

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestMarshalJSON(t *testing.T) {
	oid := func(h string) primitive.ObjectID {
		id, err := primitive.ObjectIDFromHex(h)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	started := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	j := Journey{
		ID:           oid("aaaaaaaaaaaaaaaaaaaaaaaa"),
		Organisation: oid("bbbbbbbbbbbbbbbbbbbbbbbb"),
		Owner:        oid("cccccccccccccccccccccccc"),
		CreatedAt:    time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAt:    time.Date(2017, 1, 2, 2, 0, 0, 5e6, time.UTC),
		Description:  "d",
		IsActive:     true,
		Waypoints: []Waypoint{{
			ID: oid("dddddddddddddddddddddddd"), Description: "w", IsActive: true,
			Conditions: `{"a": 1}`, Count: 3, Order: 1.5,
		}},
		TrackBy:           TrackByPersona,
		RecalculateStatus: RecalculateStatus{InProgress: true, TotalCount: 10, RemainingCount: 4, StartedAt: &started},
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_id":          "aaaaaaaaaaaaaaaaaaaaaaaa",
		"organisation": "bbbbbbbbbbbbbbbbbbbbbbbb",
		"owner":        "cccccccccccccccccccccccc",
		"createdAt":    "2017-01-01T00:00:00.000Z",
		"updatedAt":    "2017-01-02T02:00:00.005Z",
		"description":  "d",
		"isActive":     true,
		"sources":      []any{},
		"waypoints": []any{map[string]any{
			"_id": "dddddddddddddddddddddddd", "description": "w", "isActive": true,
			"conditions": `{"a": 1}`, "count": 3.0, "order": 1.5,
		}},
		"outcomes":     []any{},
		"isSequential": false,
		"isRepeatable": false,
		"trackBy":      "persona",
		"recalculateStatus": map[string]any{
			"inProgress": true, "totalCount": 10.0, "remainingCount": 4.0,
			"startedAt": "2024-05-06T05:08:09.123Z", "finishedAt": nil, "error": "", "scanRate": 0.0,
		},
		"isPublic": false,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON =\n%s\nwant\n%v", b, want)
	}
}

// TestBSONFieldNames pins the stored field names to the seed's camelCase.
func TestBSONFieldNames(t *testing.T) {
	now := time.Now()
	j := Journey{
		Waypoints:         []Waypoint{{}},
		Outcomes:          []Outcome{{}},
		RecalculateStatus: RecalculateStatus{StartedAt: &now, FinishedAt: &now, Error: "e"},
	}
	raw, err := bson.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(doc bson.Raw) []string {
		elems, err := doc.Elements()
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, e := range elems {
			ks = append(ks, e.Key())
		}
		return ks
	}
	doc := bson.Raw(raw)
	checks := []struct {
		doc  bson.Raw
		want []string
	}{
		{doc, []string{"_id", "organisation", "owner", "createdAt", "updatedAt", "description", "isActive", "sources",
			"waypoints", "outcomes", "isSequential", "isRepeatable", "trackBy", "recalculateStatus", "isPublic"}},
		{doc.Lookup("waypoints", "0").Document(), []string{"_id", "description", "isActive", "conditions", "count", "order"}},
		{doc.Lookup("outcomes", "0").Document(), []string{"_id", "description", "isActive", "type", "callback"}},
		{doc.Lookup("recalculateStatus").Document(), []string{"inProgress", "totalCount", "remainingCount", "startedAt", "finishedAt", "error"}},
	}
	for _, c := range checks {
		if got := keys(c.doc); !reflect.DeepEqual(got, c.want) {
			t.Errorf("keys = %q, want %q", got, c.want)
		}
	}
	var back Journey
	if err := bson.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.RecalculateStatus.Error != "e" || back.RecalculateStatus.StartedAt == nil {
		t.Errorf("round trip lost fields: %+v", back.RecalculateStatus)
	}
}
