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
	// A voiding statement stored after a statement that voids it is not
	// voided either (Data §2.3.2).
	post(voiding(uuid(6), uuid(7)))
	post(voiding(uuid(7), uuid(8)))
	if isVoided(t, l, uuid(7)) {
		t.Fatal("a voiding statement stored after its voider was voided")
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
		"statement_insert " + uuid(6), "statement_insert " + uuid(7),
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

// TestVoidingInOneWrite: a voiding statement whose target is written in
// the same group — an array that stores a statement and voids it, or an
// import of an old store holding both — voids it. (The organisation's
// journeys used to be looked up through the target's entry in the
// database, where the group had not put it yet: a 500, and an import that
// refused to start.)
func TestVoidingInOneWrite(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	if err := l.InsertJourney(ctx, bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "organisation", Value: org}, {Key: "isActive", Value: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Ingest(ctx, org, store, []byte(`[`+stmt(uuid(1), 1)+`,`+voiding(uuid(2), uuid(1))+`]`)); err != nil {
		t.Fatalf("a statement and its voiding in one array: %v", err)
	}
	if !isVoided(t, l, uuid(1)) || isVoided(t, l, uuid(2)) {
		t.Fatal("the target is not voided, or the voiding statement is")
	}
	// Voiding it again stores the statement and changes nothing else: no
	// second mark, no second recalculation request.
	marks, last := l.voided, l.Last()
	if _, err := l.Ingest(ctx, org, store, []byte(voiding(uuid(6), uuid(1)))); err != nil {
		t.Fatal(err)
	}
	if l.voided != marks || l.Last() != last+1 {
		t.Fatalf("a second voiding of a voided statement: marks %d → %d, entries %d → %d; want the marks unchanged and one entry", marks, l.voided, last, l.Last())
	}

	doc := func(n int, stored int64, statement bson.D) bson.Raw {
		b, err := bson.Marshal(bson.D{
			{Key: "_id", Value: primitive.ObjectID{11: byte(n)}}, {Key: "organisation", Value: org}, {Key: "lrs_id", Value: store},
			{Key: "stored", Value: primitive.DateTime(stored)}, {Key: "statement", Value: statement},
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	actor := bson.D{{Key: "mbox", Value: "mailto:ada@example.org"}}
	end, err := l.entryTime(l.Last())
	if err != nil {
		t.Fatal(err)
	}
	err = l.Import([]bson.Raw{
		doc(3, end+1, bson.D{{Key: "id", Value: uuid(3)}, {Key: "actor", Value: actor},
			{Key: "verb", Value: bson.D{{Key: "id", Value: "http://adlnet.gov/expapi/verbs/completed"}}},
			{Key: "object", Value: bson.D{{Key: "id", Value: "http://example.org/course"}}}}),
		doc(4, end+2, bson.D{{Key: "id", Value: uuid(4)}, {Key: "actor", Value: actor},
			{Key: "verb", Value: bson.D{{Key: "id", Value: verbVoided}}},
			{Key: "object", Value: bson.D{{Key: "objectType", Value: "StatementRef"}, {Key: "id", Value: uuid(3)}}}}),
	})
	if err != nil {
		t.Fatalf("import of a statement and its voiding: %v", err)
	}
	if !isVoided(t, l, uuid(3)) {
		t.Fatal("the imported target is not voided")
	}
}
