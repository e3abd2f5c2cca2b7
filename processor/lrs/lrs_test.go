package lrs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openMemory opens an in-memory embedded LRS closed at the end of the test.
func openMemory(t testing.TB) *LRS {
	t.Helper()
	l, err := Open(testContext(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// indexKeys returns the key documents of coll's indexes, as extended JSON.
func indexKeys(t testing.TB, l *LRS, coll string) map[string]bool {
	t.Helper()
	cur, err := l.DB.Collection(coll).Indexes().List(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	var specs []bson.Raw
	if err := cur.All(testContext(t), &specs); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, s := range specs {
		keys[s.Lookup("key").String()] = true
	}
	return keys
}

func TestOpenEmbeddedFile(t *testing.T) {
	ctx := testContext(t)
	dir := filepath.Join(t.TempDir(), "data")
	l, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Embedded || l.Database != "learninglocker_v2" || l.Statements != "statements" ||
		l.Journeys != "journeys" || l.Clients != "client" || l.MaxOplogSize != 10_000 {
		t.Errorf("defaults not applied: %+v", l.Config)
	}
	if l.DB.Name() != "learninglocker_v2" {
		t.Errorf("database %q", l.DB.Name())
	}
	want := map[string][]string{
		"statements": {`{"organisation": {"$numberInt":"1"},"stored": {"$numberInt":"1"},"_id": {"$numberInt":"1"}}`},
		"journeys":   {`{"organisation": {"$numberInt":"1"}}`},
	}
	for coll, keys := range want {
		got := indexKeys(t, l, coll)
		for _, k := range keys {
			if !got[k] {
				t.Errorf("%s indexes %v lack %s", coll, got, k)
			}
		}
	}
	if err := l.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ids, err := l.Ingest(ctx, primitive.NewObjectID(), primitive.NewObjectID(), []byte(minimalStatement))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(ctx); err == nil {
		t.Error("Ping succeeded after Close")
	}
	if _, err := os.Stat(filepath.Join(dir, StoreFile)); err != nil {
		t.Fatalf("store file: %v", err)
	}

	// Reopening finds the statement, and creating the indexes again is
	// harmless.
	l2, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer l2.Close(ctx)
	var doc bson.Raw
	if err := l2.DB.Collection("statements").FindOne(ctx, bson.D{}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Lookup("statement", "id").StringValue(); got != ids[0] {
		t.Errorf("reopened store holds statement %q, want %q", got, ids[0])
	}
}

func TestOpenCustomNames(t *testing.T) {
	l, err := Open(testContext(t), Config{Database: "lrs", Statements: "st", Journeys: "jr", Clients: "cl", MaxOplogSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	if l.DB.Name() != "lrs" || len(indexKeys(t, l, "st")) < 2 || len(indexKeys(t, l, "jr")) < 2 {
		t.Errorf("custom names not used: db %q, st %v, jr %v", l.DB.Name(), indexKeys(t, l, "st"), indexKeys(t, l, "jr"))
	}
}

func TestOpenBadDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testContext(t), Config{DataDir: filepath.Join(file, "sub")}); err == nil {
		t.Error("Open under a regular file succeeded")
	}
}

// minimalStatement is the smallest statement Ingest accepts.
const minimalStatement = `{"actor":{"mbox":"mailto:ada@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example.org/course/1"}}`
