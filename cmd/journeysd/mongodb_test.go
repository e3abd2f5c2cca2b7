package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/internal/xapitest"
)

// TestMongoDBEndToEnd runs the daemon against a real MongoDB replica set
// (MONGODB_URI), in a database of its own: statements inserted the way an
// LRS inserts them advance progress, a SIGKILL and restart in the middle
// loses nothing, and a journey created afterwards is recalculated to the same
// result as a fresh daemon's. Skipped without MONGODB_URI: no MongoDB server
// can be installed on the development machines.
func TestMongoDBEndToEnd(t *testing.T) {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip("MONGODB_URI not set: no MongoDB replica set to test against")
	}
	ctx := context.Background()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	dbName := fmt.Sprintf("journeys_e2e_%d", time.Now().UnixNano())
	db := client.Database(dbName)
	defer db.Drop(ctx)

	dir := t.TempDir()
	args := []string{"--mongo-uri", uri, "--mongo-db", dbName}
	d := startProc(t, filepath.Join(dir, "live"), args...)
	sentinelID := d.createJourney(sentinelJourney())
	var ids []string
	for _, j := range crashJourneys()[:3] {
		ids = append(ids, d.createJourney(j))
	}
	org, _ := primitive.ObjectIDFromHex(testOrg)
	g := xapitest.New(3, xapitest.Options{Organisation: org, Actors: 30})
	verbs := []string{verbCommented, verbCompleted, verbExperienced, verbPassed}
	types := []string{typeCourse, typeModule}
	insert := func(n int) {
		docs := make([]any, n)
		for i := range docs {
			docs[i] = g.Make(xapitest.Spec{Actor: g.Actor(i % 30), Verb: verbs[i%len(verbs)], ActivityType: types[i%len(types)]})
		}
		if _, err := db.Collection("statements").InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	insert(500)
	time.Sleep(300 * time.Millisecond)
	d.kill()
	insert(500)
	d = startProc(t, filepath.Join(dir, "live"), args...)
	defer d.stop()
	sentinel := g.Make(xapitest.Spec{Actor: g.Actor(0), Verb: verbSentinel})
	if _, err := db.Collection("statements").InsertOne(ctx, sentinel); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the sentinel", func() bool { return len(d.progress(sentinelID)) == 1 })
	got := map[string][]string{}
	for _, id := range ids {
		got[id] = d.progress(id)
	}

	// A fresh daemon over the same database rebuilds the same progress.
	f := startProc(t, filepath.Join(dir, "fresh"), args...)
	defer f.stop()
	for _, id := range ids {
		waitRecalculated(t, f, id)
		if want := f.progress(id); fmt.Sprint(want) != fmt.Sprint(got[id]) {
			t.Errorf("journey %s differs from a fresh daemon's:\n got %v\nwant %v", id, got[id], want)
		}
	}
	if n, _ := db.Collection("journeys").CountDocuments(ctx, bson.D{}); n != 4 {
		t.Errorf("journeys collection holds %d documents, want 4", n)
	}
}
