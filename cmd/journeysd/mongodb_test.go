package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

// TestMongoDBStartup runs the MongoDB startup path of the real binary
// against MONGODB_URI: the existing Learning Locker index is used as is;
// with --no-index-build the listener and /healthz are up while /readyz
// waits for the index an operator builds out of band; a read-only user is
// refused with the missing privileges named. (A standalone or pre-4.2
// server, and an election right after an invalidate, cannot be arranged on
// a test replica set: the mock tests in processor/lrs and processor/source
// cover them.) Skipped without MONGODB_URI.
func TestMongoDBStartup(t *testing.T) {
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
	freshDB := func(t *testing.T) (*mongo.Database, []string) {
		name := fmt.Sprintf("journeys_startup_%d", time.Now().UnixNano())
		db := client.Database(name)
		t.Cleanup(func() { db.Drop(context.Background()) })
		if _, err := db.Collection("statements").InsertOne(ctx, bson.D{{Key: "n", Value: 1}}); err != nil {
			t.Fatal(err)
		}
		return db, []string{"--mongo-uri", uri, "--mongo-db", name}
	}
	llIndex := mongo.IndexModel{
		Keys:    bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: -1}, {Key: "_id", Value: 1}},
		Options: options.Index().SetName("org_stored__id"),
	}
	indexNames := func(t *testing.T, db *mongo.Database) []string {
		specs, err := db.Collection("statements").Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range specs {
			names = append(names, s.Name)
		}
		slices.Sort(names)
		return names
	}

	t.Run("existing LL index used", func(t *testing.T) {
		db, args := freshDB(t)
		if _, err := db.Collection("statements").Indexes().CreateOne(ctx, llIndex); err != nil {
			t.Fatal(err)
		}
		before := indexNames(t, db)
		d := startProc(t, t.TempDir(), args...)
		defer d.stop()
		if after := indexNames(t, db); !slices.Equal(after, before) {
			t.Errorf("statements indexes %v after start, want %v: nothing built", after, before)
		}
	})

	t.Run("index built out of band", func(t *testing.T) {
		db, args := freshDB(t)
		d := &proc{t: t, dataDir: t.TempDir(), extra: append(args, "--no-index-build")}
		d.launch()
		defer d.stop()
		waitFor(t, 30*time.Second, "a waiting /readyz", func() bool {
			code, body := get(d, "/readyz")
			return code == 503 && strings.Contains(body, "--no-index-build")
		})
		if code, _ := get(d, "/healthz"); code != 200 {
			t.Fatalf("/healthz %d while waiting for the index", code)
		}
		if names := indexNames(t, db); len(names) != 1 {
			t.Fatalf("statements indexes %v: an index was built despite --no-index-build", names)
		}
		if _, err := db.Collection("statements").Indexes().CreateOne(ctx, llIndex); err != nil {
			t.Fatal(err)
		}
		d.waitReady(60 * time.Second)
	})

	t.Run("index built behind the listener", func(t *testing.T) {
		db, args := freshDB(t)
		d := startProc(t, t.TempDir(), args...)
		defer d.stop()
		if !slices.Contains(indexNames(t, db), "organisation_1_stored_1__id_1") {
			t.Fatalf("statements indexes %v: {organisation: 1, stored: 1, _id: 1} not built", indexNames(t, db))
		}
	})

	t.Run("read-only user refused", func(t *testing.T) {
		db, args := freshDB(t)
		user, pw := "journeys_ro", "journeys-ro-secret"
		err := db.RunCommand(ctx, bson.D{{Key: "createUser", Value: user}, {Key: "pwd", Value: pw},
			{Key: "roles", Value: bson.A{bson.D{{Key: "role", Value: "read"}, {Key: "db", Value: db.Name()}}}}}).Err()
		if err != nil {
			t.Skipf("cannot create a user here (auth disabled or no userAdmin): %v", err)
		}
		t.Cleanup(func() { db.RunCommand(context.Background(), bson.D{{Key: "dropUser", Value: user}}) })
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(user, pw)
		q := u.Query()
		q.Set("authSource", db.Name())
		u.RawQuery = q.Encode()
		args[1] = u.String()
		out, err := exec.Command(binary, append([]string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"}, args...)...).CombinedOutput()
		if err == nil {
			t.Fatalf("journeysd started with a read-only user:\n%s", out)
		}
		for _, want := range []string{"lacks privileges", "insert on " + db.Name() + ".journeys", "readWrite"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("output does not name %q:\n%s", want, out)
			}
		}
	})
}

// get fetches path from the daemon without credentials.
func get(p *proc, path string) (int, string) {
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
