package processor

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Statement and StatementFor report what they did in their Result: the
// header fields, whether a waypoint matched, and why a statement was
// skipped.
func TestStatementResult(t *testing.T) {
	org, other := oid(1), oid(2)
	stored := time.UnixMilli(1_700_000_000_123)
	ts := time.UnixMilli(1_699_999_999_000)
	id, lrs := oid(40), oid(41)
	doc := func(verb string, org primitive.ObjectID, voided bool) bson.Raw {
		raw, err := bson.Marshal(bson.D{
			{Key: "_id", Value: id},
			{Key: "organisation", Value: org},
			{Key: "lrs_id", Value: lrs},
			{Key: "voided", Value: voided},
			{Key: "timestamp", Value: primitive.NewDateTimeFromTime(ts)},
			{Key: "stored", Value: primitive.NewDateTimeFromTime(stored)},
			{Key: "statement", Value: bson.D{
				{Key: "actor", Value: bson.D{{Key: "mbox", Value: "mailto:a@example.com"}}},
				{Key: "verb", Value: bson.D{{Key: "id", Value: verb}}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	const completed, launched = "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/launched"
	header := Header{ID: id, Organisation: org, LRS: lrs, HasLRS: true, Stored: stored.UnixMilli(), Timestamp: ts.UnixMilli()}
	noStored, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "organisation", Value: org}})
	if err != nil {
		t.Fatal(err)
	}
	otherHeader := header
	otherHeader.Organisation = other
	voidedHeader := header
	voidedHeader.Voided = true

	cases := []struct {
		name    string
		doc     bson.Raw
		want    Result
		wantFor Result
	}{
		{"matching", doc(completed, org, false),
			Result{Header: header, Matched: true}, Result{Header: header, Matched: true}},
		{"not matching", doc(launched, org, false),
			Result{Header: header}, Result{Header: header}},
		{"another organisation", doc(completed, other, false),
			Result{Header: otherHeader}, Result{Header: otherHeader}},
		{"voided", doc(completed, org, true),
			Result{Header: voidedHeader, Skipped: SkipVoided}, Result{Header: voidedHeader, Skipped: SkipVoided}},
		{"no stored time", noStored,
			Result{Skipped: SkipMalformed}, Result{Skipped: SkipMalformed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := engineFixture(t)
			j := oneWaypointJourney(t, org)
			e.SetJourney(j, 0)
			got, err := e.Statement(c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("Statement = %+v, want %+v", got, c.want)
			}
			got, err = e.StatementFor(j.ID, c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.wantFor {
				t.Errorf("StatementFor = %+v, want %+v", got, c.wantFor)
			}
			if got, _ := e.StatementFor(oid(99), c.doc); got != (Result{Skipped: SkipInactive}) {
				t.Errorf("StatementFor an unknown journey = %+v, want skipped as inactive", got)
			}
		})
	}
}
