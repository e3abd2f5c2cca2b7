package statementlog

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/source"
)

// voiding returns a statement with id that voids target.
func voiding(id, target string) string {
	return `{"id":"` + id + `","actor":{"mbox":"mailto:admin@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},` +
		`"object":{"objectType":"StatementRef","id":"` + target + `"}}`
}

func isVoided(t *testing.T, l *Log, id string) bool {
	t.Helper()
	_, v, err := l.Statement(context.Background(), store, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVoidingMarks follows xAPI 1.0.3 Data §2.3.2: a statement is voided
// if and only if it is not itself a voiding statement and the LRS holds a
// voiding statement referring to it, whichever came first; the scan and
// the stream deliver it with voided: true, and the organisation's active
// journeys are asked to recalculate.
func TestVoidingMarks(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	jid := primitive.NewObjectID()
	if err := l.InsertJourney(ctx, bson.D{{Key: "_id", Value: jid}, {Key: "organisation", Value: org}, {Key: "isActive", Value: true}}); err != nil {
		t.Fatal(err)
	}
	other := primitive.NewObjectID()
	if err := l.InsertJourney(ctx, bson.D{{Key: "_id", Value: other}, {Key: "organisation", Value: primitive.ObjectID{0xcc}}}); err != nil {
		t.Fatal(err)
	}
	post := func(body string) {
		t.Helper()
		if _, err := l.Ingest(ctx, org, store, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	post(stmt(uuid(1), 1))
	before := l.Last()
	post(voiding(uuid(2), uuid(1)))
	if !isVoided(t, l, uuid(1)) || isVoided(t, l, uuid(2)) {
		t.Fatal("the target is not voided, or the voiding statement is")
	}
	// A voiding statement cannot be voided.
	post(voiding(uuid(3), uuid(2)))
	if isVoided(t, l, uuid(2)) {
		t.Fatal("a voiding statement was voided")
	}
	// The voiding statement first, then its target.
	post(voiding(uuid(4), uuid(5)))
	post(stmt(uuid(5), 5))
	if !isVoided(t, l, uuid(5)) {
		t.Fatal("a target stored after its voiding statement is not voided")
	}
	var voidedIDs []string
	for _, doc := range scanAll(t, l) {
		if v, _ := doc.Lookup("voided").BooleanOK(); v {
			voidedIDs = append(voidedIDs, doc.Lookup("statement", "id").StringValue())
		}
	}
	if len(voidedIDs) != 2 || voidedIDs[0] != uuid(1) || voidedIDs[1] != uuid(5) {
		t.Fatalf("the scan delivers voided %v", voidedIDs)
	}
	// The stream: the voided target voided, a recalculation request for
	// the organisation's journey after the voiding, none for the other.
	r, _ := l.Open(ctx, Token(before, mustTime(t, l, before)))
	var requests int
	for {
		ev, ok, err := r.TryNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if ev.Kind == source.KindJourneyUpsert {
			if ev.ID != jid {
				t.Fatalf("a journey of another organisation was asked to recalculate")
			}
			if _, ok := ev.Doc.Lookup("recalculateRequest", "_id").ObjectIDOK(); !ok {
				t.Fatalf("journey change without a recalculation request: %s", ev.Doc)
			}
			requests++
		}
		if ev.Kind == source.KindStatementInsert && ev.Doc.Lookup("statement", "id").StringValue() == uuid(5) {
			if v, _ := ev.Doc.Lookup("voided").BooleanOK(); !v {
				t.Fatal("the stream delivers a voided statement as not voided")
			}
		}
	}
	// One: voiding uuid(1), which the pipeline may have counted. uuid(5)
	// is stored voided, so it never counts; uuid(2) is not voided.
	if requests != 1 {
		t.Fatalf("%d recalculation requests, want 1", requests)
	}
}

func mustTime(t *testing.T, l *Log, seq uint64) int64 {
	t.Helper()
	ms, err := l.entryTime(seq)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
