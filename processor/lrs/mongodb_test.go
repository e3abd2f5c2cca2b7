package lrs

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// TestMongoDBOpen opens a real MongoDB deployment named by MONGODB_URI (a
// replica set) the way serve does: the startup checks pass and report the
// server, the missing statements index is built and then found, and a
// journey write carries w: majority (read back from the database profiler
// where the user may enable it). Skipped without MONGODB_URI.
func TestMongoDBOpen(t *testing.T) {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip("MONGODB_URI not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("journeys_lrs_test_%d", time.Now().UnixNano())
	l, err := Open(ctx, Config{URI: uri, Database: name})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	db := l.mongoDB()
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = l.Close(context.Background())
	})
	if l.Mongo.Topology == "" || l.Mongo.Version == "" || l.Mongo.WireVersion < minWireVersion {
		t.Fatalf("MongoInfo %+v", l.Mongo)
	}
	t.Logf("MongoDB %+v", l.Mongo)

	if err := l.BuildIndexes(ctx, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	if idx, ok := l.ScanIndex(); !ok || idx.Name != builtScanIndex.Name || l.IndexesReady() != nil {
		t.Fatalf("after the build: ScanIndex %+v %v, IndexesReady %v", idx, ok, l.IndexesReady())
	}
	// Found, not built again, on the next start.
	l2 := &LRS{Config: l.Config, Client: l.Client, DB: l.DB}
	if err := l2.BuildIndexes(ctx, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	if idx, ok := l2.ScanIndex(); !ok || idx.Name != builtScanIndex.Name {
		t.Fatalf("second start: ScanIndex %+v %v", idx, ok)
	}

	if err := db.RunCommand(ctx, bson.D{{Key: "profile", Value: 2}}).Err(); err != nil {
		t.Skipf("cannot enable the profiler to read the write concern back: %v", err)
	}
	if _, err := l.DB.Collection(l.Journeys).InsertOne(ctx, bson.D{{Key: "name", Value: "majority"}}); err != nil {
		t.Fatal(err)
	}
	var entry bson.Raw
	err = db.Collection("system.profile").FindOne(ctx, bson.D{{Key: "op", Value: "insert"}, {Key: "ns", Value: name + "." + l.Journeys}}).Decode(&entry)
	_ = db.RunCommand(ctx, bson.D{{Key: "profile", Value: 0}}).Err()
	if err != nil {
		t.Fatalf("profiler entry of the journey insert: %v", err)
	}
	if w, err := entry.LookupErr("command", "writeConcern", "w"); err != nil || w.StringValue() != "majority" {
		t.Errorf("journey insert ran with %v, want writeConcern w: majority", entry.Lookup("command", "writeConcern"))
	}
}
