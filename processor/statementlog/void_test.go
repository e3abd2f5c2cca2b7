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
// the stream deliver it with voided: true, and a statement stored before
// its voiding statement is delivered again, voided, as a statement update
// of voided (as a change stream delivers Learning Locker's update), right
// after the voiding statement. No journey is asked to recalculate.
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
	// The stream: after the voiding statement, an update of its target;
	// a target stored after its voiding statement arrives voided.
	r, _ := l.Open(ctx, Token(before, mustTime(t, l, before)))
	var kinds []string
	for {
		ev, ok, err := r.TryNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		id := ev.Doc.Lookup("statement", "id").StringValue()
		switch ev.Kind {
		case source.KindJourneyUpsert:
			t.Fatalf("a journey change after a voiding: %s", ev.Doc)
		case source.KindStatementUpdate:
			if v, _ := ev.Doc.Lookup("voided").BooleanOK(); !v || ev.Changed != source.FieldVoided || ev.ID != ev.Doc.Lookup("_id").ObjectID() {
				t.Fatalf("voided update: Changed %v, ID %v, Doc %s", ev.Changed, ev.ID, ev.Doc)
			}
		case source.KindStatementInsert:
			if v, _ := ev.Doc.Lookup("voided").BooleanOK(); v != (id == uuid(5)) {
				t.Fatalf("the stream delivers %s with voided %v", id, v)
			}
		}
		kinds = append(kinds, ev.Kind.String()+" "+id)
	}
	// One update: of uuid(1), which the pipeline may have counted. uuid(5)
	// is stored voided, so it never counts; uuid(2) is not voided.
	want := []string{
		"statement_insert " + uuid(2), "statement_update " + uuid(1),
		"statement_insert " + uuid(3),
		"statement_insert " + uuid(4), "statement_insert " + uuid(5),
	}
	if len(kinds) != len(want) {
		t.Fatalf("stream %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("stream %v, want %v", kinds, want)
		}
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
