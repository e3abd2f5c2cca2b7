package source

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/cond"
)

// change builds a raw change event as MongoDB shapes it.
func change(op string, ns bson.D, extra ...bson.E) bson.Raw {
	d := bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: "8265"}}},
		{Key: "operationType", Value: op},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 3}},
	}
	if ns != nil {
		d = append(d, bson.E{Key: "ns", Value: ns})
	}
	raw, err := bson.Marshal(append(d, extra...))
	if err != nil {
		panic(err)
	}
	return raw
}

// updated is an updateDescription that sets the given fields (as keys of
// updatedFields, the way MongoDB names them).
func updated(fields ...string) bson.E {
	set := bson.D{}
	for _, f := range fields {
		set = append(set, bson.E{Key: f, Value: true})
	}
	return bson.E{Key: "updateDescription", Value: bson.D{{Key: "updatedFields", Value: set}, {Key: "removedFields", Value: bson.A{}}}}
}

// removed is an updateDescription that unsets the given fields.
func removed(fields ...string) bson.E {
	arr := bson.A{}
	for _, f := range fields {
		arr = append(arr, f)
	}
	return bson.E{Key: "updateDescription", Value: bson.D{{Key: "updatedFields", Value: bson.D{}}, {Key: "removedFields", Value: arr}}}
}

func ns(db, coll string) bson.D {
	if coll == "" {
		return bson.D{{Key: "db", Value: db}}
	}
	return bson.D{{Key: "db", Value: db}, {Key: "coll", Value: coll}}
}

var (
	fullDoc = bson.E{Key: "fullDocument", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}}}
	nullDoc = bson.E{Key: "fullDocument", Value: nil}
)

// classifyCases pairs raw events with what Classify must return and whether
// Pipeline's $match lets them through. The server filter may be wider than
// Classify (it is never narrower): it does not check the database, the
// target database of a rename, or whether a post-image was found.
var classifyCases = []struct {
	name   string
	ev     bson.Raw
	want   Kind
	passes bool
}{
	{"statement insert", change("insert", ns("lrs", "statements"), fullDoc), KindStatementInsert, true},
	{"statement insert, other database", change("insert", ns("other", "statements"), fullDoc), KindIgnore, true},
	{"insert without fullDocument", change("insert", ns("lrs", "statements")), KindIgnore, true},
	{"statement update without updateDescription", change("update", ns("lrs", "statements"), fullDoc), KindIgnore, false},
	{"statement replace", change("replace", ns("lrs", "statements"), fullDoc), KindStatementUpdate, true},
	{"statement update of person (LL's persona worker)", change("update", ns("lrs", "statements"), fullDoc, updated("person", "personaIdentifier")), KindStatementUpdate, true},
	{"statement update of personaIdentifier only", change("update", ns("lrs", "statements"), fullDoc, updated("personaIdentifier")), KindStatementUpdate, true},
	{"statement update of voided (LL's voiding)", change("update", ns("lrs", "statements"), fullDoc, updated("voided")), KindStatementUpdate, true},
	{"statement update of voided, no fullDocument", change("update", ns("lrs", "statements"), updated("voided")), KindStatementUpdate, true},
	{"statement update removing person", change("update", ns("lrs", "statements"), fullDoc, removed("person")), KindStatementUpdate, true},
	{"statement update of other fields", change("update", ns("lrs", "statements"), fullDoc, updated("active", "statement.result")), KindIgnore, false},
	{"statement update of person._id (dotted)", change("update", ns("lrs", "statements"), fullDoc, updated("person._id")), KindIgnore, false},
	{"statement update of voided, other database", change("update", ns("other", "statements"), fullDoc, updated("voided")), KindIgnore, true},
	{"statement delete", change("delete", ns("lrs", "statements")), KindIgnore, false},
	{"statements dropped", change("drop", ns("lrs", "statements")), KindIgnore, false},
	{"statements renamed", change("rename", ns("lrs", "statements"), bson.E{Key: "to", Value: ns("lrs", "old")}), KindIgnore, false},
	{"journey insert", change("insert", ns("lrs", "journeys"), fullDoc), KindJourneyUpsert, true},
	{"journey update", change("update", ns("lrs", "journeys"), fullDoc), KindJourneyUpsert, true},
	{"journey update, post-image gone", change("update", ns("lrs", "journeys"), nullDoc), KindIgnore, true},
	{"journey replace", change("replace", ns("lrs", "journeys"), fullDoc), KindJourneyUpsert, true},
	{"journey delete", change("delete", ns("lrs", "journeys")), KindJourneyDelete, true},
	{"journeys dropped", change("drop", ns("lrs", "journeys")), KindJourneysReset, true},
	{"journeys renamed away", change("rename", ns("lrs", "journeys"), bson.E{Key: "to", Value: ns("lrs", "j2")}), KindJourneysReset, true},
	{"collection renamed to journeys", change("rename", ns("lrs", "j2"), bson.E{Key: "to", Value: ns("lrs", "journeys")}), KindJourneysReset, true},
	{"renamed to journeys of another database", change("rename", ns("lrs", "j2"), bson.E{Key: "to", Value: ns("other", "journeys")}), KindIgnore, true},
	{"database dropped", change("dropDatabase", ns("lrs", "")), KindJourneysReset, true},
	{"other database dropped", change("dropDatabase", ns("other", "")), KindIgnore, true},
	{"invalidate", change("invalidate", nil), KindInvalidate, true},
	{"client insert", change("insert", ns("lrs", "client"), fullDoc), KindIgnore, false},
	{"client update", change("update", ns("lrs", "client"), fullDoc), KindIgnore, false},
	{"other drop", change("drop", ns("lrs", "client")), KindIgnore, false},
	{"create index (expanded event)", change("createIndexes", ns("lrs", "journeys")), KindIgnore, false},
	{"no operationType", change("", ns("lrs", "statements"), fullDoc), KindIgnore, false},
}

func TestClassify(t *testing.T) {
	for _, c := range classifyCases {
		if got := Classify(c.ev, "lrs", "statements", "journeys"); got != c.want {
			t.Errorf("%s: Classify = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestClassifyCustomNames(t *testing.T) {
	ev := change("insert", ns("ll", "stmts"), fullDoc)
	if got := Classify(ev, "ll", "stmts", "jrn"); got != KindStatementInsert {
		t.Errorf("insert into configured statements collection: %v", got)
	}
	if got := Classify(ev, "ll", "statements", "jrn"); got != KindIgnore {
		t.Errorf("insert into a collection not configured: %v", got)
	}
}

// TestPipelineMatchesClassify evaluates Pipeline's $match with MongoDB query
// semantics (package cond) on every case.
func TestPipelineMatchesClassify(t *testing.T) {
	p := Pipeline("statements", "journeys")
	if len(p) != 1 || len(p[0]) != 1 || p[0][0].Key != "$match" {
		t.Fatalf("Pipeline is not a single $match stage: %v", p)
	}
	query, err := bson.Marshal(p[0][0].Value)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cond.Compile(query)
	if err != nil {
		t.Fatalf("compile $match: %v", err)
	}
	for _, c := range classifyCases {
		got := m.Match(c.ev)
		if got != c.passes {
			t.Errorf("%s: $match passes = %v, want %v", c.name, got, c.passes)
		}
		if !got && c.want != KindIgnore {
			t.Errorf("%s: the server filter drops an event Classify keeps (%v)", c.name, c.want)
		}
	}
}

func TestClassifyDoesNotAllocate(t *testing.T) {
	ev := insertEvent(xapitest.New(1, xapitest.Options{}).Next())
	if n := testing.AllocsPerRun(100, func() { Classify(ev, "lrs", "statements", "journeys") }); n != 0 {
		t.Errorf("Classify allocates %v times per event", n)
	}
}

func TestEvent(t *testing.T) {
	doc := xapitest.New(2, xapitest.Options{}).Next()
	p := scan(insertEvent(doc))
	ev := p.event(KindStatementInsert)
	if string(ev.Doc) != string(doc) {
		t.Error("Doc is not the fullDocument")
	}
	if ev.ID != doc.Lookup("_id").ObjectID() {
		t.Errorf("ID = %v, want the statement's _id", ev.ID)
	}
	if got := ev.Token.Lookup("_data").StringValue(); got != "8265" {
		t.Errorf("Token = %v", ev.Token)
	}
	if ev.ClusterTime != (primitive.Timestamp{T: 1700000000, I: 3}) {
		t.Errorf("ClusterTime = %v", ev.ClusterTime)
	}
	p = scan(change("delete", ns("lrs", "journeys"),
		bson.E{Key: "documentKey", Value: bson.D{{Key: "_id", Value: "not-an-objectid"}}}))
	del := p.event(KindJourneyDelete)
	if del.Doc != nil || !del.ID.IsZero() {
		t.Errorf("delete with a string key: Doc %v, ID %v; want nil and zero", del.Doc, del.ID)
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := KindIgnore; k <= KindStatementUpdate; k++ {
		s := k.String()
		if s == "unknown" || seen[s] {
			t.Errorf("Kind %d has name %q", k, s)
		}
		seen[s] = true
	}
	if Kind(200).String() != "unknown" {
		t.Error("out-of-range Kind has a name")
	}
}

// insertEvent wraps a statement document in an insert change event.
func insertEvent(doc bson.Raw) bson.Raw {
	return change("insert", ns("lrs", "statements"),
		bson.E{Key: "documentKey", Value: bson.D{{Key: "_id", Value: doc.Lookup("_id")}}},
		bson.E{Key: "fullDocument", Value: doc})
}

func BenchmarkClassify(b *testing.B) {
	ev := insertEvent(xapitest.New(1, xapitest.Options{}).Next())
	b.ReportAllocs()
	for b.Loop() {
		if Classify(ev, "lrs", "statements", "journeys") != KindStatementInsert {
			b.Fatal("misclassified")
		}
	}
}

// BenchmarkScanEvent is the per-event work of Source.read after decoding:
// one scan, classification and the Event.
func BenchmarkScanEvent(b *testing.B) {
	ev := insertEvent(xapitest.New(1, xapitest.Options{}).Next())
	b.ReportAllocs()
	for b.Loop() {
		p := scan(ev)
		if p.event(p.classify("lrs", "statements", "journeys")).Doc == nil {
			b.Fatal("no document")
		}
	}
}
