package journey

import (
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// orderedJourney has waypoints v0…v5 whose conditions match verb "v<i>";
// orders tie and one waypoint is inactive.
func orderedJourney(sequential bool) *Journey {
	orders := []float64{3, 1, 2, 1, 0.5, 2}
	j := &Journey{IsActive: true, IsSequential: sequential, TrackBy: TrackByActor}
	for i, o := range orders {
		j.Waypoints = append(j.Waypoints, Waypoint{
			ID:         primitive.NewObjectID(),
			IsActive:   i != 4,
			Conditions: fmt.Sprintf(`{"statement.verb.id": "v%d"}`, i),
			Count:      i + 1,
			Order:      o,
		})
	}
	return j
}

// positions lists the array positions of the compiled waypoints, checking
// that every field was carried over from its source waypoint.
func positions(t *testing.T, c *Compiled) []int {
	t.Helper()
	var ps []int
	for _, w := range c.Waypoints {
		src := c.Doc.Waypoints[w.Position]
		if w.ID != src.ID || w.Order != src.Order || w.Count != src.Count {
			t.Errorf("compiled waypoint %+v does not match source %+v", w, src)
		}
		stmt, err := bson.Marshal(bson.M{"statement": bson.M{"verb": bson.M{"id": fmt.Sprintf("v%d", w.Position)}}})
		if err != nil {
			t.Fatal(err)
		}
		if !w.Matcher.Match(stmt) {
			t.Errorf("waypoint %d matcher does not match its own verb", w.Position)
		}
		ps = append(ps, w.Position)
	}
	return ps
}

func TestCompileSequentialOrder(t *testing.T) {
	c, err := Compile(orderedJourney(true))
	if err != nil {
		t.Fatal(err)
	}
	// Order 1 ties between positions 1 and 3, order 2 between 2 and 5;
	// position 4 (order 0.5) is inactive.
	want := []int{1, 3, 2, 5, 0}
	if got := positions(t, c); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("positions = %v, want %v", got, want)
	}
	if !c.Sequential || !c.Active || c.Repeatable || c.Version != c.Doc.Version() {
		t.Errorf("flags or version wrong: %+v", c)
	}
}

func TestCompileUnorderedKeepsArrayOrder(t *testing.T) {
	c, err := Compile(orderedJourney(false))
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 3, 5}
	if got := positions(t, c); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("positions = %v, want %v", got, want)
	}
}

func TestCompileOutcomes(t *testing.T) {
	j := orderedJourney(false)
	for i, active := range []bool{true, false, true} {
		j.Outcomes = append(j.Outcomes, Outcome{
			ID: primitive.NewObjectID(), IsActive: active, Type: OutcomeCallback,
			Callback: fmt.Sprintf("https://example.org/%d", i),
		})
	}
	c, err := Compile(j)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Outcomes) != 2 || c.Outcomes[0].Callback != "https://example.org/0" || c.Outcomes[1].Callback != "https://example.org/2" {
		t.Errorf("outcomes = %+v, want the active ones in order", c.Outcomes)
	}
}

func TestCompileRejectsInvalid(t *testing.T) {
	j := orderedJourney(true)
	j.Waypoints[2].Conditions = `{"$where": "1"}`
	_, err := Compile(j)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != "waypoints[2].conditions" {
		t.Fatalf("err = %v, want a *ValidationError on waypoints[2].conditions", err)
	}
}

func TestHasSource(t *testing.T) {
	a, b := primitive.NewObjectID(), primitive.NewObjectID()
	j := orderedJourney(false)
	c, err := Compile(j)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasSource(a) {
		t.Error("empty sources must accept every store")
	}
	j.Sources = []primitive.ObjectID{b}
	c, err = Compile(j)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasSource(a) || !c.HasSource(b) {
		t.Errorf("HasSource wrong for sources %v", c.Sources)
	}
	j.Sources[0] = a // Compiled keeps its own copy
	if !c.HasSource(b) {
		t.Error("Compiled shares Sources with the document")
	}
	if n := testing.AllocsPerRun(100, func() { c.HasSource(a) }); n != 0 {
		t.Errorf("HasSource allocates %v times", n)
	}
}
