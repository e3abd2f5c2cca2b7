package journey

import (
	"math"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// versionBase returns a journey with every field set, freshly each call.
func versionBase(t *testing.T) *Journey {
	t.Helper()
	j, err := DecodeJSON(readTestdata(t, "seed_example_fixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	j.ID = primitive.NewObjectID()
	j.Organisation = primitive.NewObjectID()
	j.Owner = primitive.NewObjectID()
	return j
}

func TestVersionSensitivities(t *testing.T) {
	tests := []struct {
		name   string
		change func(j *Journey)
	}{
		{"organisation", func(j *Journey) { j.Organisation = primitive.NewObjectID() }},
		{"source added", func(j *Journey) { j.Sources = append(j.Sources, primitive.NewObjectID()) }},
		{"source replaced", func(j *Journey) { j.Sources[0] = primitive.NewObjectID() }},
		{"sources emptied", func(j *Journey) { j.Sources = nil }},
		{"trackBy", func(j *Journey) { j.TrackBy = TrackByPersona }},
		{"isActive", func(j *Journey) { j.IsActive = false }},
		{"isSequential", func(j *Journey) { j.IsSequential = false }},
		{"isRepeatable", func(j *Journey) { j.IsRepeatable = true }},
		{"waypoint _id", func(j *Journey) { j.Waypoints[1].ID = primitive.NewObjectID() }},
		{"waypoint isActive", func(j *Journey) { j.Waypoints[0].IsActive = false }},
		{"waypoint conditions value", func(j *Journey) {
			j.Waypoints[0].Conditions = `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/attempted"}`
		}},
		{"waypoint count", func(j *Journey) { j.Waypoints[0].Count = 6 }},
		{"waypoint order", func(j *Journey) { j.Waypoints[1].Order = 0.5 }},
		{"waypoints reordered", func(j *Journey) { slices.Reverse(j.Waypoints) }},
		{"waypoint added", func(j *Journey) {
			j.Waypoints = append(j.Waypoints, Waypoint{ID: primitive.NewObjectID(), IsActive: true, Conditions: "{}", Count: 1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := versionBase(t)
			before := j.Version()
			tt.change(j)
			if after := j.Version(); after == before {
				t.Errorf("version unchanged by %s", tt.name)
			}
		})
	}
	j := versionBase(t)
	j.Waypoints[0].Conditions = `{"a": 1}`
	v := j.Version()
	j.Waypoints[0].Conditions = `{"a": 1.0}`
	if j.Version() == v {
		t.Errorf("int32 and double conditions digest the same; BSON types differ")
	}
}

func TestVersionInvariances(t *testing.T) {
	later := time.Now()
	tests := []struct {
		name   string
		change func(j *Journey)
	}{
		{"description", func(j *Journey) { j.Description = "other" }},
		{"isPublic", func(j *Journey) { j.IsPublic = !j.IsPublic }},
		{"outcomes", func(j *Journey) {
			j.Outcomes = append(j.Outcomes, Outcome{ID: primitive.NewObjectID(), Type: OutcomeCallback, Callback: "http://h/"})
			j.Outcomes[0].IsActive = false
		}},
		{"owner", func(j *Journey) { j.Owner = primitive.NewObjectID() }},
		{"id", func(j *Journey) { j.ID = primitive.NewObjectID() }},
		{"timestamps", func(j *Journey) { j.CreatedAt, j.UpdatedAt = later, later }},
		{"recalculateStatus", func(j *Journey) { j.RecalculateStatus = RecalculateStatus{InProgress: true, TotalCount: 9} }},
		{"source order", func(j *Journey) { slices.Reverse(j.Sources) }},
		{"source duplicated", func(j *Journey) { j.Sources = append(j.Sources, j.Sources[0]) }},
		{"waypoint description", func(j *Journey) { j.Waypoints[0].Description = "renamed" }},
		{"conditions whitespace", func(j *Journey) {
			j.Waypoints[0].Conditions = "{\n\t\"statement.verb.id\"  :\"http://adlnet.gov/expapi/verbs/commented\" }"
		}},
		{"conditions escapes", func(j *Journey) {
			j.Waypoints[0].Conditions = `{"statement.verb.id": "http:\/\/adlnet.gov\/expapi\/verbs\/comm\u0065nted"}`
		}},
		{"conditions canonical form", func(j *Journey) {
			// The same BSON string value via its key written with an escape.
			j.Waypoints[0].Conditions = `{"statement.verb.\u0069d": "http://adlnet.gov/expapi/verbs/commented"}`
		}},
		{"order -0", func(j *Journey) { j.Waypoints[0].Order = math.Copysign(0, -1) }},
		{"inactive waypoint edited", func(j *Journey) {
			j.Waypoints = append(j.Waypoints, Waypoint{ID: primitive.NewObjectID(), IsActive: false, Conditions: "{}", Count: 1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := versionBase(t)
			j.Waypoints[0].Order = 0
			before := j.Version()
			tt.change(j)
			if after := j.Version(); after != before {
				t.Errorf("version changed by %s", tt.name)
			}
		})
	}
}

// A date written as Learning Locker's {"$dte"} marker is the date it
// stands for: the same digest as {"$date"}, a different one from another
// date. A journey saved with $dte before the marker was understood thus
// gets a new version, and is recalculated with the marker now matching.
func TestVersionLearningLockerDate(t *testing.T) {
	j := versionBase(t)
	j.Waypoints[0].Conditions = `{"timestamp": {"$gte": {"$date": "2017-06-01T00:00:00Z"}}}`
	v := j.Version()
	j.Waypoints[0].Conditions = `{"timestamp": {"$gte": {"$dte": "2017-06-01"}}}`
	if j.Version() != v {
		t.Error(`{"$dte": "2017-06-01"} digests differently from the same {"$date"}`)
	}
	j.Waypoints[0].Conditions = `{"timestamp": {"$gte": {"$dte": "2017-06-02"}}}`
	if j.Version() == v {
		t.Error("another $dte date digests the same")
	}
}

func TestVersionNumberForms(t *testing.T) {
	// Relaxed and canonical Extended JSON of the same BSON value agree.
	pairs := [][2]string{
		{`{"a": 5}`, `{"a": {"$numberInt": "5"}}`},
		{`{"a": 1.5}`, `{"a": {"$numberDouble": "1.5"}}`},
		{`{"t": {"$date": "2020-01-02T00:00:00Z"}}`, `{"t": {"$date": {"$numberLong": "1577923200000"}}}`},
	}
	for _, p := range pairs {
		a, b := versionBase(t), versionBase(t)
		b.Organisation, b.Waypoints[0].ID, b.Waypoints[1].ID = a.Organisation, a.Waypoints[0].ID, a.Waypoints[1].ID
		a.Waypoints[0].Conditions, b.Waypoints[0].Conditions = p[0], p[1]
		if a.Version() != b.Version() {
			t.Errorf("%s and %s digest differently", p[0], p[1])
		}
	}
}
