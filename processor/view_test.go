package processor

import (
	"bytes"
	"encoding/json"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
	"github.com/journeys/journeys/state"
)

// viewFixture runs the real engine over statements for one journey and
// returns what ProgressDocument needs for owner.
type viewFixture struct {
	t     *testing.T
	store *state.Store
	c     *journey.Compiled
}

func newViewFixture(t *testing.T, body string, org primitive.ObjectID) *viewFixture {
	t.Helper()
	j, err := journey.DecodeJSON([]byte(body))
	if err != nil {
		t.Fatalf("decode journey: %v", err)
	}
	j.ID, j.Organisation = primitive.NewObjectID(), org
	c, err := journey.Compile(j)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &viewFixture{t: t, store: st, c: c}
}

func (f *viewFixture) run(docs ...bson.Raw) {
	f.t.Helper()
	e := NewEngine(f.store, Options{})
	e.SetJourney(f.c, 0)
	for _, d := range docs {
		if _, err := e.Statement(d); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := e.Commit(nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *viewFixture) document(owner []byte) ProgressDoc {
	f.t.Helper()
	v, ok, err := f.store.Progress(f.c.ID, owner)
	if err != nil || !ok {
		f.t.Fatalf("progress of %q: ok=%v err=%v", owner, ok, err)
	}
	var rec progress.Record
	if err := rec.Decode(v); err != nil {
		f.t.Fatal(err)
	}
	var archived []progress.Attempt
	err = f.store.Attempts(f.c.ID, owner, func(_ uint32, value []byte) error {
		a, err := progress.DecodeAttempt(value)
		archived = append(archived, a)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	doc, err := ProgressDocument(f.c, owner, &rec, archived)
	if err != nil {
		f.t.Fatal(err)
	}
	return doc
}

func stmtID(d bson.Raw) primitive.ObjectID { return d.Lookup("_id").ObjectID() }

func stmtStored(d bson.Raw) string {
	return FormatTime(d.Lookup("stored").Time().UnixMilli())
}

func TestProgressDocumentAttempts(t *testing.T) {
	g := xapitest.New(7, xapitest.Options{Actors: 8})
	org := g.Options().Organisation
	f := newViewFixture(t, `{"isRepeatable": true, "waypoints": [
		{"description": "comment twice", "conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCommented+`\"}", "count": 2},
		{"description": "complete", "conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCompleted+`\"}", "order": 5}]}`, org)
	actor := g.Actor(0) // index 0 has an mbox
	stmt := func(verb string) bson.Raw { return g.Make(xapitest.Spec{Actor: actor, Verb: verb}) }
	s := []bson.Raw{stmt(xapitest.VerbCommented), stmt(xapitest.VerbCompleted), stmt(xapitest.VerbCommented), stmt(xapitest.VerbCommented)}
	f.run(s...)

	owner, ok := journey.AppendOwnerKey(nil, s[0], journey.TrackByActor)
	if !ok {
		t.Fatal("no owner key")
	}
	doc := f.document(owner)

	if doc.ID != ProgressID(f.c.ID, owner) || doc.Journey != f.c.ID || doc.Organisation != org {
		t.Errorf("ids: got %+v", doc)
	}
	if doc.Owner.TrackBy != journey.TrackByActor || doc.Owner.Ident["mbox"] != actor.Mbox || doc.Owner.Ident["objectType"] != "Agent" {
		t.Errorf("owner: got %+v", doc.Owner)
	}
	if doc.CreatedAt != stmtStored(s[0]) || doc.UpdatedAt != stmtStored(s[3]) {
		t.Errorf("createdAt/updatedAt = %s/%s, want %s/%s", doc.CreatedAt, doc.UpdatedAt, stmtStored(s[0]), stmtStored(s[3]))
	}
	if len(doc.Completions) != 2 {
		t.Fatalf("got %d completions, want 2: %+v", len(doc.Completions), doc.Completions)
	}
	first, second := doc.Completions[0], doc.Completions[1]
	if first.Attempt != 1 || !first.IsCompleted || first.CompletedAt == nil || *first.CompletedAt != stmtStored(s[2]) {
		t.Errorf("first attempt: %+v", first)
	}
	w0, w1 := first.Waypoints[0], first.Waypoints[1]
	if w0.Waypoint != f.c.Waypoints[0].ID || len(w0.Statements) != 2 ||
		w0.Statements[0].Statement != stmtID(s[0]).Hex() || w0.Statements[1].Statement != stmtID(s[2]).Hex() ||
		!w0.IsCompleted || *w0.CompletedAt != stmtStored(s[2]) {
		t.Errorf("first attempt, waypoint 0: %+v", w0)
	}
	if w1.Order != 5 || len(w1.Statements) != 1 || w1.Statements[0].Statement != stmtID(s[1]).Hex() || *w1.CompletedAt != stmtStored(s[1]) {
		t.Errorf("first attempt, waypoint 1: %+v", w1)
	}
	if second.Attempt != 2 || second.IsCompleted || second.CompletedAt != nil {
		t.Errorf("second attempt: %+v", second)
	}
	if sw := second.Waypoints; len(sw[0].Statements) != 1 || sw[0].IsCompleted || sw[0].CompletedAt != nil ||
		len(sw[1].Statements) != 0 || sw[1].Statements == nil {
		t.Errorf("second attempt waypoints: %+v", sw)
	}
}

// TestProgressDocumentJSON checks the wire shape: attempts' waypoints are an
// object keyed by waypoint id in evaluation order, unset times are null.
func TestProgressDocumentJSON(t *testing.T) {
	g := xapitest.New(8, xapitest.Options{Actors: 8})
	// Sequential, so evaluation order (by order) differs from array order.
	f := newViewFixture(t, `{"isSequential": true, "waypoints": [
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCompleted+`\"}", "order": 2},
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbLaunched+`\"}", "order": 1}]}`, g.Options().Organisation)
	d := g.Make(xapitest.Spec{Actor: g.Actor(1), Verb: xapitest.VerbLaunched})
	f.run(d)
	owner, _ := journey.AppendOwnerKey(nil, d, journey.TrackByActor)
	b, err := json.Marshal(f.document(owner))
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Completions []struct {
			Waypoints   json.RawMessage `json:"waypoints"`
			CompletedAt *string         `json:"completedAt"`
		} `json:"completions"`
	}
	if err := json.Unmarshal(b, &top); err != nil || len(top.Completions) != 1 {
		t.Fatalf("decode %s: %v", b, err)
	}
	keys := objectKeys(t, top.Completions[0].Waypoints)
	want := []string{f.c.Doc.Waypoints[1].ID.Hex(), f.c.Doc.Waypoints[0].ID.Hex()}
	if len(keys) != 2 || keys[0] != want[0] || keys[1] != want[1] {
		t.Errorf("waypoint keys %v, want %v", keys, want)
	}
	if !bytes.Contains(b, []byte(`"completedAt":null`)) || top.Completions[0].CompletedAt != nil {
		t.Errorf("incomplete attempt should have completedAt null: %s", b)
	}
}

func objectKeys(t *testing.T, obj []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", obj)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestProgressDocumentPersona(t *testing.T) {
	g := xapitest.New(9, xapitest.Options{Actors: 8})
	f := newViewFixture(t, `{"trackBy": "persona", "waypoints": [
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbPassed+`\"}"}]}`, g.Options().Organisation)
	d := g.Make(xapitest.Spec{Actor: g.Actor(2), Verb: xapitest.VerbPassed})
	f.run(d)
	owner, ok := journey.AppendOwnerKey(nil, d, journey.TrackByPersona)
	if !ok {
		t.Fatal("statement has no persona")
	}
	doc := f.document(owner)
	display := journey.PersonaDisplay(d)
	if doc.Owner.Ident["persona"] != g.Actor(2).Person.Hex() || display == "" || doc.Owner.Ident["display"] != display {
		t.Errorf("persona ident %v, want persona %s display %q", doc.Owner.Ident, g.Actor(2).Person.Hex(), display)
	}
	if len(doc.Completions) != 1 || !doc.Completions[0].IsCompleted {
		t.Errorf("completions: %+v", doc.Completions)
	}
}

// TestProgressDocumentSlotMismatch renders a record kept under a definition
// with fewer waypoints: missing slots show as not started.
func TestProgressDocumentSlotMismatch(t *testing.T) {
	f := newViewFixture(t, `{"waypoints": [{"conditions": "{\"a\": 1}"}, {"conditions": "{\"b\": 1}"}]}`, primitive.NewObjectID())
	rec := progress.Record{CreatedAt: 1000, UpdatedAt: 2000, Attempt: progress.Attempt{
		Number: 1, Waypoints: []progress.Waypoint{{Count: 1, CompletedAt: 2000, Refs: []progress.Ref{{Timestamp: 1500}}}},
	}}
	doc, err := ProgressDocument(f.c, []byte("mmailto:x@example.org"), &rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := doc.Completions[0].Waypoints
	if len(ws) != 2 || !ws[0].IsCompleted || ws[1].IsCompleted || ws[1].Statements == nil || len(ws[1].Statements) != 0 {
		t.Errorf("waypoints %+v", ws)
	}
	if _, err := ProgressDocument(f.c, []byte("?"), &rec, nil); err == nil {
		t.Error("a malformed owner key should be an error")
	}
}
