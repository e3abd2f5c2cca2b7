package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/lrs"
)

// TestImportOldStore starts the daemon on a data directory of an earlier
// version, whose embedded store is lrs.bson: its statements and journeys
// are imported into the statement log once, the file is renamed, and the
// journey's progress is rebuilt from the imported statements.
func TestImportOldStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "old")
	ctx := context.Background()
	old, err := lrs.Open(ctx, lrs.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	org, _ := primitive.ObjectIDFromHex(testOrg)
	store := adminStore(t, dir)
	jid := primitive.NewObjectID()
	journeyDoc := bson.D{
		{Key: "_id", Value: jid}, {Key: "organisation", Value: org}, {Key: "description", Value: "old journey"},
		{Key: "isActive", Value: true},
		{Key: "waypoints", Value: bson.A{bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "conditions", Value: `{"statement.verb.id": "` + verbCompleted + `"}`}, {Key: "count", Value: 1}}}},
	}
	if _, err := old.DB.Collection("journeys").InsertOne(ctx, journeyDoc); err != nil {
		t.Fatal(err)
	}
	stmts := crashTraffic(3, 300, 20)
	body, _ := json.Marshal(stmts)
	if _, err := old.Ingest(ctx, org, store, body); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}

	d := startProc(t, dir)
	defer d.stop()
	if _, err := os.Stat(filepath.Join(dir, lrs.StoreFile+".imported")); err != nil {
		t.Fatalf("lrs.bson was not renamed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, lrs.StoreFile+importingSuffix)); !os.IsNotExist(err) {
		t.Errorf("the import's marker is left behind: %v", err)
	}
	if !containsLog(d, "imported the old embedded store") {
		t.Errorf("the import was not logged:\n%s", d.log)
	}
	waitRecalculated(t, d, jid.Hex())
	// Every learner with a completed statement has progress.
	learners := map[string]bool{}
	for _, s := range stmts {
		if s["verb"].(map[string]any)["id"] == verbCompleted {
			learners[s["actor"].(map[string]any)["mbox"].(string)] = true
		}
	}
	waitFor(t, 30*time.Second, "the imported statements' progress", func() bool { return len(d.progress(jid.Hex())) == len(learners) })
	// An imported statement is known: reposting it changes nothing.
	ingest(t, func() *proc { return d }, stmts[:1], 1)
	var got map[string]any
	d.mustDo("GET", "/data/xAPI/statements?statementId="+stmts[0]["id"].(string), nil, &got)
	if got["id"] != stmts[0]["id"] {
		t.Errorf("imported statement: %v", got)
	}
}

// TestImportRefused: a data directory with both an old lrs.bson and a
// statement log holding entries is refused, with what to run.
func TestImportRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "both")
	d := startProc(t, dir)
	ingest(t, func() *proc { return d }, crashTraffic(4, 10, 2), 10)
	d.stop()
	if err := os.WriteFile(filepath.Join(dir, lrs.StoreFile), []byte{}, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--admin-key", testAdminKey, "--admin-secret", testAdminSecret, "--admin-organisation", testOrg).CombinedOutput()
	if err == nil {
		t.Fatalf("the daemon started:\n%s", out)
	}
	if !strings.Contains(string(out), "mv "+filepath.Join(dir, lrs.StoreFile)) {
		t.Errorf("the refusal does not say what to run:\n%s", out)
	}

	// An import a crash interrupted (its marker is still there): the
	// refusal says to remove the partial log and start again.
	if err := os.WriteFile(filepath.Join(dir, lrs.StoreFile+importingSuffix), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(binary, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--admin-key", testAdminKey, "--admin-secret", testAdminSecret, "--admin-organisation", testOrg).CombinedOutput()
	if err == nil {
		t.Fatalf("the daemon started:\n%s", out)
	}
	if !strings.Contains(string(out), "was interrupted") || !strings.Contains(string(out), "rm -r "+filepath.Join(dir, "log")) {
		t.Errorf("the refusal after an interrupted import does not say what to run:\n%s", out)
	}
}
