package lrs

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/processor/journey"
)

// fullStatement exercises every rewrite: objectType defaults (actor,
// object, members, context activities), dotted extension keys in context,
// result and definition (nested objects encoded, arrays not), a single
// context activity, client-sent stored and authority, a null inside
// extensions (dropped).
const fullStatement = `{
  "actor": {"name": "Ada Lovelace", "mbox": "mailto:ada@example.org"},
  "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
  "object": {
    "id": "https://lms.example.org/course/1",
    "definition": {
      "type": "http://adlnet.gov/expapi/activities/course",
      "extensions": {"https://lms.example.org/ext/level": {"a.b": 1, "list": [{"c.d": 2}]}}
    }
  },
  "result": {"score": {"scaled": 0.5, "raw": 50}, "success": true, "extensions": {"http://x.org/r.t": 1}},
  "context": {
    "registration": "0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    "instructor": {"account": {"homePage": "https://sso.example.org", "name": "grace"}},
    "team": {"member": [{"mbox": "mailto:bob@example.org"}]},
    "contextActivities": {
      "parent": {"id": "https://lms.example.org/programme/1"},
      "grouping": [{"id": "https://lms.example.org/curriculum/1", "objectType": "Activity"}]
    },
    "extensions": {"http://id.tincanapi.com/extension/browser-info": {"code_name": "Mozilla", "gone": null}}
  },
  "timestamp": "2024-03-01T10:00:00.123+01:00",
  "stored": "1999-01-01T00:00:00Z",
  "authority": {"mbox": "mailto:spoof@example.org"}
}`

func ingest(t testing.TB, l *LRS, org, store primitive.ObjectID, body string) []string {
	t.Helper()
	ids, err := l.Ingest(testContext(t), org, store, []byte(body))
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return ids
}

// storedDocs returns the statements collection in insertion order.
func storedDocs(t testing.TB, l *LRS) []bson.Raw {
	t.Helper()
	cur, err := l.DB.Collection(l.Statements).Find(testContext(t), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(testContext(t), &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

// keys returns the keys of doc in order.
func keys(t testing.TB, doc bson.Raw) []string {
	t.Helper()
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

func strs(v bson.RawValue) []string {
	vals, _ := v.Array().Values()
	out := []string{}
	for _, s := range vals {
		out = append(out, s.StringValue())
	}
	return out
}

func TestIngestShape(t *testing.T) {
	l := openMemory(t)
	org, store := primitive.NewObjectID(), primitive.NewObjectID()
	before := time.Now().Truncate(time.Millisecond)
	ids := ingest(t, l, org, store, fullStatement)
	after := time.Now()
	docs := storedDocs(t, l)
	if len(ids) != 1 || len(docs) != 1 {
		t.Fatalf("ids %v, %d documents", ids, len(docs))
	}
	doc := docs[0]
	if !isUUID(ids[0]) || doc.Lookup("statement", "id").StringValue() != ids[0] {
		t.Errorf("generated id %q, stored %v", ids[0], doc.Lookup("statement", "id"))
	}

	if want := []string{"_id", "organisation", "lrs_id", "person", "personaIdentifier", "active", "voided",
		"timestamp", "stored", "agents", "relatedAgents", "registrations", "verbs", "activities",
		"relatedActivities", "statement"}; !slices.Equal(keys(t, doc), want) {
		t.Errorf("document keys %v, want %v", keys(t, doc), want)
	}
	if doc.Lookup("_id").Type != bsontype.ObjectID || doc.Lookup("organisation").ObjectID() != org ||
		doc.Lookup("lrs_id").ObjectID() != store || doc.Lookup("voided").Boolean() || !doc.Lookup("active").Boolean() {
		t.Errorf("header fields wrong: %v", doc)
	}

	stored := doc.Lookup("stored").Time()
	if stored.Before(before) || stored.After(after) {
		t.Errorf("stored %v not within the call [%v, %v]", stored, before, after)
	}
	stmt := doc.Lookup("statement").Document()
	if got := stmt.Lookup("stored").StringValue(); got != stored.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("statement.stored %q, document stored %v", got, stored)
	}
	if got := doc.Lookup("timestamp").Time(); !got.Equal(time.Date(2024, 3, 1, 9, 0, 0, 123e6, time.UTC)) {
		t.Errorf("timestamp date %v, want the statement's", got)
	}
	if got := stmt.Lookup("timestamp").StringValue(); got != "2024-03-01T10:00:00.123+01:00" {
		t.Errorf("statement.timestamp %q, want it as sent", got)
	}
	if got := stmt.Lookup("authority", "mbox").StringValue(); got != "mailto:journeysd@journeys.invalid" {
		t.Errorf("authority %v, want the LRS's", stmt.Lookup("authority"))
	}
	if got := stmt.Lookup("version").StringValue(); got != "1.0.0" {
		t.Errorf("version %q", got)
	}
	if want := []string{"actor", "verb", "object", "result", "context", "timestamp", "id", "stored", "authority", "version"}; !slices.Equal(keys(t, stmt), want) {
		t.Errorf("statement keys %v, want %v", keys(t, stmt), want)
	}

	for path, want := range map[string]string{
		"actor.objectType":                                "Agent",
		"object.objectType":                               "Activity",
		"context.instructor.objectType":                   "Agent",
		"context.team.objectType":                         "Group",
		"context.team.member.0.objectType":                "Agent",
		"context.contextActivities.parent.0.id":           "https://lms.example.org/programme/1",
		"context.contextActivities.parent.0.objectType":   "Activity",
		"context.contextActivities.grouping.0.objectType": "Activity",
		"context.extensions.http://id&46;tincanapi&46;com/extension/browser-info.code_name": "Mozilla",
	} {
		if got, err := stmt.LookupErr(strings.Split(path, ".")...); err != nil || got.StringValue() != want {
			t.Errorf("statement.%s = %v, want %q", path, got, want)
		}
	}
	// The key with dots is one path segment; LookupErr splits nothing.
	ext := stmt.Lookup("object", "definition", "extensions", "https://lms&46;example&46;org/ext/level").Document()
	if ext.Lookup("a&46;b").Int32() != 1 || ext.Lookup("list", "0", "c.d").Int32() != 2 {
		t.Errorf("definition extensions %v: nested object keys encoded, arrays left alone", ext)
	}
	if stmt.Lookup("result", "extensions", "http://x&46;org/r&46;t").Int32() != 1 {
		t.Errorf("result extensions %v", stmt.Lookup("result", "extensions"))
	}
	if _, err := stmt.LookupErr("context", "extensions", "http://id&46;tincanapi&46;com/extension/browser-info", "gone"); err == nil {
		t.Error("a null inside extensions was stored")
	}
	if got := keys(t, stmt.Lookup("actor").Document()); !slices.Equal(got, []string{"name", "mbox", "objectType"}) {
		t.Errorf("actor keys %v, want the order sent then objectType", got)
	}
	if raw := stmt.Lookup("result", "score", "raw"); raw.Type != bsontype.Int32 || stmt.Lookup("result", "score", "scaled").Type != bsontype.Double {
		t.Errorf("score types raw %v, scaled %v", raw.Type, stmt.Lookup("result", "score", "scaled").Type)
	}

	for field, want := range map[string][]string{
		"agents":            {"mailto:ada@example.org"},
		"relatedAgents":     {"mailto:ada@example.org", "mailto:bob@example.org", "https://sso.example.org|grace", "mailto:journeysd@journeys.invalid"},
		"registrations":     {"0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		"verbs":             {"http://adlnet.gov/expapi/verbs/completed"},
		"activities":        {"https://lms.example.org/course/1"},
		"relatedActivities": {"https://lms.example.org/course/1", "https://lms.example.org/programme/1", "https://lms.example.org/curriculum/1"},
	} {
		if got := strs(doc.Lookup(field)); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	if got := doc.Lookup("person", "display").StringValue(); got != "Ada Lovelace" {
		t.Errorf("person.display %q", got)
	}
}

func TestIngestPersonaIsStablePerOrganisation(t *testing.T) {
	l := openMemory(t)
	orgA, orgB, store := primitive.NewObjectID(), primitive.NewObjectID(), primitive.NewObjectID()
	anon := `{"actor":{"objectType":"Group","member":[{"mbox":"mailto:x@example.org"}]},"verb":{"id":"http://v.org/v"},"object":{"id":"http://o.org/o"}}`
	ingest(t, l, orgA, store, "["+minimalStatement+","+minimalStatement+","+anon+"]")
	ingest(t, l, orgB, store, minimalStatement)
	docs := storedDocs(t, l)
	person := func(i int) primitive.ObjectID { return docs[i].Lookup("person", "_id").ObjectID() }
	if person(0).IsZero() || person(0) != person(1) {
		t.Errorf("one actor got personas %v and %v", person(0), person(1))
	}
	if person(3) == person(0) {
		t.Error("the same actor shares a persona across organisations")
	}
	if _, err := docs[2].LookupErr("person"); err == nil {
		t.Error("an anonymous group got a persona")
	}
	// The engine's owner keys work on what Ingest stores.
	for _, by := range []journey.TrackBy{journey.TrackByActor, journey.TrackByPersona} {
		if _, ok := journey.AppendOwnerKey(nil, docs[0], by); !ok {
			t.Errorf("no %s owner in an ingested statement", by)
		}
	}
	if d := docs[0].Lookup("person", "display").StringValue(); d != "mailto:ada@example.org" {
		t.Errorf("display of a nameless actor %q, want its identifier", d)
	}
}

func TestIngestValidation(t *testing.T) {
	const verb, obj = `"verb":{"id":"http://v.org/v"}`, `"object":{"id":"http://o.org/o"}`
	cases := []struct {
		name, body string
		want       []string // "path: message"
	}{
		{"empty object", `{}`, []string{"statements[0].actor: required", "statements[0].verb: required", "statements[0].object: required"}},
		{"verb without id", `[` + minimalStatement + `,{"actor":{"mbox":"mailto:a@b.org"},"verb":{},` + obj + `}]`, []string{"statements[1].verb.id: required"}},
		{"relative verb IRI", `{"actor":{"mbox":"mailto:a@b.org"},"verb":{"id":"completed"},` + obj + `}`, []string{"statements[0].verb.id: must be an absolute IRI"}},
		{"two IFIs", `{"actor":{"mbox":"mailto:a@b.org","openid":"http://id.org/a"},` + verb + `,` + obj + `}`, []string{"statements[0].actor: an Agent needs exactly one of mbox, mbox_sha1sum, openid, account"}},
		{"bad IFIs", `{"actor":{"objectType":"Group","mbox":"a@b.org","member":[{"mbox_sha1sum":"xyz"},{"account":{"homePage":"sso","name":""}}]},` + verb + `,` + obj + `}`, []string{
			"statements[0].actor.mbox: must be a mailto: IRI",
			"statements[0].actor.member[0].mbox_sha1sum: must be a hex SHA-1 digest",
			"statements[0].actor.member[1].account.homePage: must be an absolute IRI",
			"statements[0].actor.member[1].account.name: must be a non-empty string",
		}},
		{"anonymous group without members", `{"actor":{"objectType":"Group"},` + verb + `,` + obj + `}`, []string{"statements[0].actor: an anonymous Group needs members"}},
		{"group member that is a group", `{"actor":{"objectType":"Group","member":[{"objectType":"Group","mbox":"mailto:g@b.org"}]},` + verb + `,` + obj + `}`, []string{`statements[0].actor.member[0].objectType: must be "Agent"`}},
		{"activity without id", `{"actor":{"mbox":"mailto:a@b.org"},` + verb + `,"object":{"definition":{}}}`, []string{"statements[0].object.id: required"}},
		{"unknown objectType", `{"actor":{"mbox":"mailto:a@b.org"},` + verb + `,"object":{"objectType":"Thing","id":"http://o.org"}}`, []string{`statements[0].object.objectType: must be "Activity", "Agent", "Group", "StatementRef" or "SubStatement"`}},
		{"statement ref", `{"actor":{"mbox":"mailto:a@b.org"},` + verb + `,"object":{"objectType":"StatementRef","id":"nope"}}`, []string{"statements[0].object.id: must be a UUID"}},
		{"nested substatement", `{"actor":{"mbox":"mailto:a@b.org"},` + verb + `,"object":{"objectType":"SubStatement","id":"x","actor":{"mbox":"mailto:a@b.org"},` + verb + `,"object":{"objectType":"SubStatement"}}}`, []string{
			"statements[0].object.id: not allowed in a SubStatement",
			"statements[0].object.object.objectType: a SubStatement cannot contain a SubStatement",
		}},
		{"bad id, timestamp, version", `{"id":"123","timestamp":"2024-01-01 10:00","version":"2.0.0","actor":{"mbox":"mailto:a@b.org"},` + verb + `,` + obj + `}`, []string{
			"statements[0].id: must be a UUID",
			"statements[0].version: must be a 1.0.x version",
			"statements[0].timestamp: must be an ISO 8601 timestamp with a time zone",
		}},
		{"timestamp without zone", `{"timestamp":"2024-01-01T10:00:00","actor":{"mbox":"mailto:a@b.org"},` + verb + `,` + obj + `}`, []string{"statements[0].timestamp: must be an ISO 8601 timestamp with a time zone"}},
		{"ill-typed parts", `{"actor":{"mbox":"mailto:a@b.org"},` + verb + `,"object":{"id":"http://o.org","definition":{"extensions":[1]}},"result":{"extensions":"x"},"context":{"registration":"r","extensions":5,"contextActivities":{"parent":[{"id":"p"}]}}}`, []string{
			"statements[0].object.definition.extensions: must be an object",
			"statements[0].context.registration: must be a UUID",
			"statements[0].context.extensions: must be an object",
			"statements[0].context.contextActivities.parent[0].id: must be an absolute IRI",
			"statements[0].result.extensions: must be an object",
		}},
		{"not an object", `[` + minimalStatement + `, 5, "x"]`, []string{"statements[1]: must be a statement object", "statements[2]: must be a statement object"}},
		{"scalar body", `"statement"`, []string{"statements: the body must be a statement object or an array of statements"}},
		{"duplicate key and huge number", `{"actor":{"mbox":"mailto:a@b.org","mbox":"mailto:c@b.org"},` + verb + `,` + obj + `,"result":{"score":{"raw":1e999}}}`, []string{
			"statements[0].actor.mbox: duplicate key",
			"statements[0].result.score.raw: number out of range",
		}},
		{"repeated id", `[{"id":"0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b","actor":{"mbox":"mailto:a@b.org"},` + verb + `,` + obj + `},` +
			`{"id":"0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b","actor":{"mbox":"mailto:a@b.org"},` + verb + `,` + obj + `}]`,
			[]string{"statements[1].id: repeats the id of statements[0]"}},
	}
	l := openMemory(t)
	for _, c := range cases {
		_, err := l.Ingest(testContext(t), primitive.NewObjectID(), primitive.NewObjectID(), []byte(c.body))
		var ie *IngestError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want an *IngestError", c.name, err)
			continue
		}
		var got []string
		for _, fe := range ie.Errors {
			got = append(got, fe.Path()+": "+fe.Message)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	if n := len(storedDocs(t, l)); n != 0 {
		t.Errorf("%d statements stored from invalid bodies", n)
	}
}

func TestIngestSyntaxError(t *testing.T) {
	l := openMemory(t)
	// The seed's journey example has the same mistake: a missing comma.
	body := "[\n  {\"actor\": {\"mbox\": \"mailto:a@b.org\"}\n   \"verb\": {}}\n]"
	_, err := l.Ingest(testContext(t), primitive.NewObjectID(), primitive.NewObjectID(), []byte(body))
	var se *journey.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *journey.SyntaxError", err)
	}
	if at := strings.Index(body, `"verb"`); se.Offset != int64(at+1) || se.Line != 3 || se.Column != 4 {
		t.Errorf("offset %d line %d column %d, want %d 3 4", se.Offset, se.Line, se.Column, at+1)
	}
	for _, bad := range []string{"", "[", `{"a":1} {"b":2}`, `{"a":}`} {
		if _, err := l.Ingest(testContext(t), primitive.NewObjectID(), primitive.NewObjectID(), []byte(bad)); !errors.As(err, &se) {
			t.Errorf("body %q: %v, want a syntax error", bad, err)
		}
	}
}

func TestIngestNumbers(t *testing.T) {
	l := openMemory(t)
	ingest(t, l, primitive.NewObjectID(), primitive.NewObjectID(),
		`{"actor":{"mbox":"mailto:a@b.org"},"verb":{"id":"http://v.org/v"},"object":{"id":"http://o.org/o"},`+
			`"result":{"extensions":{"urn:n":[1, 1.0, 1e2, 2147483647, 2147483648, -2147483648, 1.5, -0, 9007199254740993, null]}}}`)
	vals, _ := storedDocs(t, l)[0].Lookup("statement", "result", "extensions", "urn:n").Array().Values()
	want := []bsontype.Type{bsontype.Int32, bsontype.Int32, bsontype.Int32, bsontype.Int32, bsontype.Double,
		bsontype.Int32, bsontype.Double, bsontype.Double, bsontype.Double}
	if len(vals) != len(want) {
		t.Fatalf("%d values (null dropped?), want %d", len(vals), len(want))
	}
	for i, v := range vals {
		if v.Type != want[i] {
			t.Errorf("value %d (%v): type %v, want %v", i, v, v.Type, want[i])
		}
	}
	if vals[4].Double() != 2147483648 || vals[2].Int32() != 100 {
		t.Errorf("values %v", vals)
	}
}

func TestIngestConflicts(t *testing.T) {
	l := openMemory(t)
	org, store := primitive.NewObjectID(), primitive.NewObjectID()
	const id = "0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	withID := `{"id":"` + id + `",` + minimalStatement[1:]
	ingest(t, l, org, store, withID)

	_, err := l.Ingest(testContext(t), org, store, []byte("["+minimalStatement+","+withID+"]"))
	var ce *ConflictError
	if !errors.As(err, &ce) || !slices.Equal(ce.IDs, []string{id}) {
		t.Fatalf("re-posting %s: %v, want a ConflictError naming it", id, err)
	}
	if n := len(storedDocs(t, l)); n != 1 {
		t.Errorf("%d statements stored, want 1: a conflicting batch stores nothing", n)
	}
	// Ids are unique per store, not across stores.
	if ids := ingest(t, l, org, primitive.NewObjectID(), withID); ids[0] != id {
		t.Errorf("ids %v", ids)
	}
}

// countingDB counts the writes to the statements collection.
type countingDB struct {
	lungo.IDatabase
	writes *atomic.Int32
}

type countingColl struct {
	lungo.ICollection
	writes *atomic.Int32
}

func (d countingDB) Collection(name string, opts ...*options.CollectionOptions) lungo.ICollection {
	return countingColl{d.IDatabase.Collection(name, opts...), d.writes}
}

func (c countingColl) InsertMany(ctx context.Context, docs []any, opts ...*options.InsertManyOptions) (*mongo.InsertManyResult, error) {
	c.writes.Add(1)
	return c.ICollection.InsertMany(ctx, docs, opts...)
}

func (c countingColl) InsertOne(ctx context.Context, doc any, opts ...*options.InsertOneOptions) (*mongo.InsertOneResult, error) {
	c.writes.Add(1)
	return c.ICollection.InsertOne(ctx, doc, opts...)
}

func TestIngestIsOneWrite(t *testing.T) {
	l := openMemory(t)
	var writes atomic.Int32
	l.DB = countingDB{l.DB, &writes}
	body := "[" + strings.Repeat(minimalStatement+",", 49) + fullStatement + "]"
	ids := ingest(t, l, primitive.NewObjectID(), primitive.NewObjectID(), body)
	if len(ids) != 50 || writes.Load() != 1 {
		t.Errorf("%d ids in %d writes, want 50 in 1", len(ids), writes.Load())
	}
	docs := storedDocs(t, l)
	for i, doc := range docs {
		if doc.Lookup("statement", "id").StringValue() != ids[i] {
			t.Fatalf("document %d holds %v, want id %s in body order", i, doc.Lookup("statement", "id"), ids[i])
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 50 {
		t.Error("generated ids repeat")
	}
	if ids, err := l.Ingest(testContext(t), primitive.NewObjectID(), primitive.NewObjectID(), []byte("[]")); err != nil || len(ids) != 0 || writes.Load() != 1 {
		t.Errorf("empty array: %v %v, %d writes", ids, err, writes.Load())
	}
}

// TestMongoDBIngest runs Open and Ingest against the MongoDB named by
// MONGODB_URI, in a fresh database dropped afterwards; skipped when unset.
func TestMongoDBIngest(t *testing.T) {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip("MONGODB_URI not set")
	}
	ctx := testContext(t)
	cfg := Config{URI: uri, Database: "journeys_lrs_test_" + primitive.NewObjectID().Hex()}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	defer l.DB.Drop(ctx)
	if l.Embedded || l.Ping(ctx) != nil {
		t.Fatalf("Embedded %v, Ping %v", l.Embedded, l.Ping(ctx))
	}
	// An index with the same keys under another name is accepted.
	if _, err := l.DB.Collection(l.Journeys).Indexes().DropOne(ctx, "organisation_1"); err != nil {
		t.Fatal(err)
	}
	_, err = l.DB.Collection(l.Journeys).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "organisation", Value: 1}}, Options: options.Index().SetName("by_org")})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("reopen with a differently named index: %v", err)
	}
	defer l2.Close(ctx)
	org, store := primitive.NewObjectID(), primitive.NewObjectID()
	ids := ingest(t, l, org, store, "["+minimalStatement+","+fullStatement+"]")
	if docs := storedDocs(t, l); len(docs) != 2 || docs[1].Lookup("statement", "id").StringValue() != ids[1] {
		t.Fatalf("stored %v", docs)
	}
	var ce *ConflictError
	if _, err := l.Ingest(ctx, org, store, []byte(`{"id":"`+ids[0]+`",`+minimalStatement[1:])); !errors.As(err, &ce) {
		t.Errorf("conflict: %v", err)
	}
}
