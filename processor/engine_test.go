package processor

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

func engineFixture(t *testing.T) (*Engine, *state.Store) {
	t.Helper()
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewEngine(st, Options{}), st
}

func oneWaypointJourney(t *testing.T, org primitive.ObjectID) *journey.Compiled {
	t.Helper()
	c, err := journey.Compile(&journey.Journey{
		ID: oid(90), Organisation: org, IsActive: true, TrackBy: journey.TrackByActor,
		Waypoints: []journey.Waypoint{{ID: oid(91), IsActive: true, Count: 1,
			Conditions: `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func completedBy(t *testing.T, org primitive.ObjectID, mbox string) bson.Raw {
	t.Helper()
	raw, err := bson.Marshal(bson.D{
		{Key: "_id", Value: primitive.NewObjectID()},
		{Key: "organisation", Value: org},
		{Key: "stored", Value: primitive.NewDateTimeFromTime(time.Now())},
		{Key: "statement", Value: bson.D{
			{Key: "actor", Value: bson.D{{Key: "mbox", Value: mbox}}},
			{Key: "verb", Value: bson.D{{Key: "id", Value: "http://adlnet.gov/expapi/verbs/completed"}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// An identifier longer than the state store accepts is skipped and counted,
// never an error that would stop the pipeline on the same statement forever.
func TestOversizedOwnerIsUntracked(t *testing.T) {
	e, _ := engineFixture(t)
	org := oid(1)
	e.SetJourney(oneWaypointJourney(t, org), 0)
	doc := completedBy(t, org, "mailto:"+strings.Repeat("a", state.MaxOwnerLen)+"@example.com")
	if _, err := e.Statement(doc); err != nil {
		t.Fatalf("statement with an oversized identifier: %v", err)
	}
	if got := e.Stats().Untracked.Load(); got != 1 {
		t.Errorf("untracked = %d, want 1", got)
	}
	if err := e.Commit([]byte("cp")); err != nil {
		t.Fatal(err)
	}
}

// A journey moved to another organisation no longer counts statements of
// the old one.
func TestOrganisationChangeReindexes(t *testing.T) {
	e, st := engineFixture(t)
	oldOrg, newOrg := oid(1), oid(2)
	e.SetJourney(oneWaypointJourney(t, oldOrg), 0)
	if _, err := e.Statement(completedBy(t, oldOrg, "mailto:a@example.com")); err != nil {
		t.Fatal(err)
	}
	e.SetJourney(oneWaypointJourney(t, newOrg), 0)
	e.ResetJourney(oid(90))
	if _, err := e.Statement(completedBy(t, oldOrg, "mailto:b@example.com")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Statement(completedBy(t, newOrg, "mailto:c@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit([]byte("cp")); err != nil {
		t.Fatal(err)
	}
	var owners []string
	if err := st.ScanProgress(oid(90), func(owner, _ []byte) error {
		owners = append(owners, string(owner))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(owners) != 1 || !strings.Contains(owners[0], "c@example.com") {
		t.Errorf("owners with progress: %q, want only c@example.com", owners)
	}
}
