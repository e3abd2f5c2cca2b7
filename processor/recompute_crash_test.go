package processor

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
	"github.com/journeys/journeys/state"
)

// The kill -9 tests of Learning Locker's updates. The daemon itself cannot
// be used: its embedded LRS sets person at insert and takes no updates, and
// no MongoDB server exists here. So a child process (this test binary,
// re-executed) runs the real Pipeline over a lungo file store, with a
// durable Pebble state store, and is SIGKILLed; the parent writes LL's
// statements and updates into the lungo file while the child is down, and
// reads the state store while it is down.

const (
	recomputeDirEnv = "JOURNEYS_RECOMPUTE_CRASH_DIR" // the child's directory; unset: not the child
	lrsFile         = "lrs.bson"
)

// TestRecomputeHelperProcess is the child: it runs the pipeline until
// SIGTERM (then stops cleanly) or SIGKILL, printing "ready" and a line per
// commit.
func TestRecomputeHelperProcess(t *testing.T) {
	dir := os.Getenv(recomputeDirEnv)
	if dir == "" {
		t.Skip("helper process for TestUpdatesAcrossKill")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	client, engine, err := openLRSFile(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	st, err := state.Open(filepath.Join(dir, "state"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := NewPipeline(PipelineConfig{Store: st, DB: client.Database("lrs"), SkewMargin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p.Stats().CommitDuration = func(float64) {
		fmt.Printf("commit processed=%d recomputes=%d\n", p.Engine().Stats().Processed.Load(), p.Stats().OwnerRecomputes.Load())
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for p.Ready() != nil {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("ready")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// openLRSFile opens the lungo engine on dir's file, after the second in
// which it was last written: lungo's change event stamps restart with the
// process, and a stamp reused within that second would make resume tokens
// ambiguous (see lrs.waitPastLastWrite).
func openLRSFile(ctx context.Context, dir string) (lungo.IClient, *lungo.Engine, error) {
	path := filepath.Join(dir, lrsFile)
	if fi, err := os.Stat(path); err == nil {
		time.Sleep(time.Until(time.Unix(fi.ModTime().Unix()+1, 0)))
	}
	return lungo.Open(ctx, lungo.Options{Store: lungo.NewFileStore(path, 0o600), MaxOplogSize: 100000, MaxOplogAge: time.Hour, MinOplogAge: time.Second})
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecomputeHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), recomputeDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	c.await(t, "ready")
	return c
}

// await reads the child's lines until one starting with prefix for which
// ok (if given) holds.
func (c *child) await(t *testing.T, prefix string, ok ...func(line string) bool) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, open := <-c.lines:
			if !open {
				t.Fatalf("child exited before %q", prefix)
			}
			if strings.HasPrefix(line, prefix) && (len(ok) == 0 || ok[0](line)) {
				return
			}
		case <-timeout:
			t.Fatalf("timed out waiting for the child's %q", prefix)
		}
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

func (c *child) term(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child stopped with %v", err)
	}
}

// offline runs f on the lungo file while no child runs.
func offline(t *testing.T, dir string, f func(db lungo.IDatabase)) {
	t.Helper()
	ctx := context.Background()
	client, engine, err := openLRSFile(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	f(client.Database("lrs"))
	engine.Close()
}

// snapshot is what the state store holds for one scenario's owners.
type snapshot struct {
	records    map[string]progress.Record // by journey hex + owner
	deliveries int
}

func readSnapshot(t *testing.T, dir string, js []primitive.ObjectID) snapshot {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := snapshot{records: map[string]progress.Record{}}
	for _, j := range js {
		err := st.ScanProgress(j, func(owner, v []byte) error {
			var rec progress.Record
			if err := rec.Decode(v); err != nil {
				return err
			}
			s.records[j.Hex()+string(owner)] = rec
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ScanOutbox(func(_, _ []byte) error { s.deliveries++; return nil }); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustInsert(t *testing.T, db lungo.IDatabase, coll string, docs ...any) {
	t.Helper()
	for _, d := range docs {
		if _, err := db.Collection(coll).InsertOne(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
}

func mustUpdate(t *testing.T, db lungo.IDatabase, filter, set bson.D) {
	t.Helper()
	if _, err := db.Collection("statements").UpdateMany(context.Background(), filter, bson.D{{Key: "$set", Value: set}}); err != nil {
		t.Fatal(err)
	}
}

func personSet(persona, ident primitive.ObjectID, display string) bson.D {
	return bson.D{{Key: "personaIdentifier", Value: ident}, {Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: display}}}}
}

func withPerson(d bson.D, persona primitive.ObjectID) bson.D {
	return append(d, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: "Ann"}}})
}

// TestUpdatesAcrossKill replays each of LL's sequences with the child
// SIGKILLed between the inserts and the update, then repeatedly at random
// moments while it applies the update. After every kill the deliveries
// never exceed the final count (a callback is never queued twice), and the
// final state is the one the sequence must produce.
func TestUpdatesAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	a, b, identX, identY := oid(21), oid(22), oid(31), oid(32)
	actorJ, personaJ := oid(160), oid(161)
	ann := "mailto:ann@example.com"
	annKey := []byte("m" + ann)
	cases := []struct {
		name      string
		before    func(t *testing.T, db lungo.IDatabase) // statements (and updates) applied before the kill
		processed int64
		update    func(t *testing.T, db lungo.IDatabase) // written while the child is down
		check     func(s snapshot) []string              // what is wrong with the final state
		delivered int
	}{
		{
			name: "TestPersonaAssignedByUpdate",
			before: func(t *testing.T, db lungo.IDatabase) {
				mustInsert(t, db, "statements", llStatement(1, ann, verbAttempted), llStatement(2, ann, verbAttempted), llStatement(3, ann, verbCompleted))
			},
			processed: 3,
			update: func(t *testing.T, db lungo.IDatabase) {
				for i := 3; i >= 1; i-- {
					mustUpdate(t, db, bson.D{{Key: "_id", Value: llStmtID(i)}}, personSet(a, identX, "Ann"))
				}
			},
			check: func(s snapshot) (bad []string) {
				rec := s.records[personaJ.Hex()+string(journey.PersonaKey(a))]
				if rec.Attempt.Number != 1 || rec.Attempt.CompletedAt != llBase+3000 {
					bad = append(bad, fmt.Sprintf("persona A: attempt %d completed at %d, want 1 at %d", rec.Attempt.Number, rec.Attempt.CompletedAt, llBase+3000))
				}
				return bad
			},
			delivered: 2, // the actor journey's at insert, the persona journey's after the update
		},
		{
			name: "TestPersonaMerge",
			before: func(t *testing.T, db lungo.IDatabase) {
				mustInsert(t, db, "statements", llStatement(1, ann, verbAttempted), llStatement(2, "mailto:ann@work.example.com", verbAttempted), llStatement(3, ann, verbCompleted))
				mustUpdate(t, db, bson.D{{Key: "statement.actor.mbox", Value: ann}}, personSet(a, identX, "Ann"))
				mustUpdate(t, db, bson.D{{Key: "statement.actor.mbox", Value: "mailto:ann@work.example.com"}}, personSet(b, identY, "Ann (work)"))
			},
			processed: 3,
			update: func(t *testing.T, db lungo.IDatabase) {
				mustUpdate(t, db, bson.D{{Key: "personaIdentifier", Value: identY}}, personSet(a, identY, "Ann"))
			},
			check: func(s snapshot) (bad []string) {
				rec := s.records[personaJ.Hex()+string(journey.PersonaKey(a))]
				if !rec.Done() || rec.Attempt.CompletedAt != llBase+3000 {
					bad = append(bad, fmt.Sprintf("persona A after the merge: %+v, want completed by statement 3", rec.Attempt))
				}
				if rec, ok := s.records[personaJ.Hex()+string(journey.PersonaKey(b))]; ok {
					bad = append(bad, fmt.Sprintf("persona B after the merge: %+v, want no progress", rec.Attempt))
				}
				return bad
			},
			delivered: 1, // the persona journey's (the actor journey sees two learners)
		},
		{
			name: "TestVoidedByUpdate",
			before: func(t *testing.T, db lungo.IDatabase) {
				mustInsert(t, db, "statements",
					withPerson(llStatement(1, ann, verbAttempted), a), withPerson(llStatement(2, ann, verbAttempted), a), withPerson(llStatement(3, ann, verbCompleted), a))
			},
			processed: 3,
			update: func(t *testing.T, db lungo.IDatabase) {
				mustUpdate(t, db, bson.D{{Key: "_id", Value: llStmtID(3)}}, bson.D{{Key: "voided", Value: true}})
			},
			check: func(s snapshot) (bad []string) {
				for _, k := range []string{actorJ.Hex() + string(annKey), personaJ.Hex() + string(journey.PersonaKey(a))} {
					rec := s.records[k]
					if c := counts(rec); rec.Done() || len(c) != 2 || c[0] != 2 || c[1] != 0 {
						bad = append(bad, fmt.Sprintf("after voiding: attempt %d counts %v done %v, want [2 0] not done", rec.Attempt.Number, c, rec.Done()))
					}
				}
				return bad
			},
			delivered: 2, // both completions before the voiding; none recalled
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			offline(t, dir, func(db lungo.IDatabase) {
				mustInsert(t, db, "journeys", llJourney(actorJ, journey.TrackByActor), llJourney(personaJ, journey.TrackByPersona))
			})
			ch := startChild(t, dir)
			time.Sleep(200 * time.Millisecond) // the fresh start's recalculations commit
			ch.term(t)
			offline(t, dir, func(db lungo.IDatabase) { c.before(t, db) })
			ch = startChild(t, dir)
			ch.await(t, "commit", func(line string) bool {
				var n, r int64
				fmt.Sscanf(line, "commit processed=%d recomputes=%d", &n, &r)
				return n >= c.processed
			})
			time.Sleep(100 * time.Millisecond) // let the before-updates, if any, commit
			ch.kill()
			offline(t, dir, func(db lungo.IDatabase) { c.update(t, db) })
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
			for i := 0; i < 4; i++ {
				ch = startChild(t, dir)
				time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
				ch.kill()
				if s := readSnapshot(t, dir, []primitive.ObjectID{actorJ, personaJ}); s.deliveries > c.delivered {
					t.Fatalf("after kill %d: %d deliveries, more than the %d the sequence makes", i, s.deliveries, c.delivered)
				}
			}
			// Run to the end: the child is stopped cleanly and the state
			// checked, until it is final (a loaded machine may need more
			// than one run's time).
			var bad []string
			for round := 0; round < 10; round++ {
				ch = startChild(t, dir)
				time.Sleep(500 * time.Millisecond)
				ch.term(t)
				s := readSnapshot(t, dir, []primitive.ObjectID{actorJ, personaJ})
				if s.deliveries > c.delivered {
					t.Fatalf("%d deliveries, more than the %d the sequence makes", s.deliveries, c.delivered)
				}
				if bad = c.check(s); s.deliveries != c.delivered {
					bad = append(bad, fmt.Sprintf("%d deliveries, want %d", s.deliveries, c.delivered))
				}
				if len(bad) == 0 {
					break
				}
			}
			for _, b := range bad {
				t.Error(b)
			}
		})
	}
}
