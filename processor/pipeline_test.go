package processor

import (
	"context"
	"math/rand"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

// pipelineFixture runs a Pipeline over an in-memory lungo engine.
type pipelineFixture struct {
	t      *testing.T
	db     lungo.IDatabase
	store  *state.Store
	p      *Pipeline
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error
	// scanRate, when set, limits recalculation scans (PipelineConfig).
	scanRate int
}

func newPipelineFixture(t *testing.T) *pipelineFixture {
	t.Helper()
	client, engine, err := lungo.Open(context.Background(), lungo.Options{Store: lungo.NewMemoryStore(), MaxOplogSize: 100000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &pipelineFixture{t: t, db: client.Database("lrs"), store: st}
}

func (f *pipelineFixture) start() {
	f.t.Helper()
	p, err := NewPipeline(PipelineConfig{Store: f.store, DB: f.db, SkewMargin: time.Minute, ScanRate: f.scanRate})
	if err != nil {
		f.t.Fatal(err)
	}
	f.p = p
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.err = p.Run(ctx)
	}()
	waitUntil(f.t, "pipeline ready", func() bool { return p.Ready() == nil })
}

func (f *pipelineFixture) stop() {
	f.t.Helper()
	f.cancel()
	f.wg.Wait()
	if f.err != nil {
		f.t.Fatalf("pipeline: %v", f.err)
	}
}

func (f *pipelineFixture) insertJourney(j *journey.Journey) {
	f.t.Helper()
	if _, err := f.db.Collection("journeys").InsertOne(context.Background(), j); err != nil {
		f.t.Fatal(err)
	}
}

func (f *pipelineFixture) insertStatements(stmts []modelStmt) {
	f.t.Helper()
	docs := make([]any, len(stmts))
	for i, s := range stmts {
		docs[i] = s.doc
	}
	if _, err := f.db.Collection("statements").InsertMany(context.Background(), docs); err != nil {
		f.t.Fatal(err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pipelineJourneys draws journeys for the pipeline tests, all in the first
// model organisation so that they see traffic.
func pipelineJourneys(r *rand.Rand, n int) []*journey.Journey {
	var out []*journey.Journey
	for i := 0; i < n; i++ {
		j := modelJourney(r, i)
		j.Organisation = modelOrgs[0]
		j.IsActive = true
		j.CreatedAt, j.UpdatedAt = time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC()
		out = append(out, j)
	}
	return out
}

func checkAgainstModel(t *testing.T, st *state.Store, js []*journey.Journey, stmts []modelStmt) {
	t.Helper()
	for _, j := range js {
		m := newRefModel(t, j)
		for _, s := range stmts {
			m.apply(s)
		}
		got := storedAttempts(t, st, j.ID)
		if !reflect.DeepEqual(got, m.owners) && !(len(got) == 0 && len(m.owners) == 0) {
			t.Errorf("journey %s (sequential=%v repeatable=%v):\n got %s\nwant %s", j.ID.Hex(), j.IsSequential, j.IsRepeatable, dumpAttempts(got), dumpAttempts(m.owners))
		}
	}
}

// TestPipelineLive: journeys exist first, statements stream in.
func TestPipelineLive(t *testing.T) {
	f := newPipelineFixture(t)
	r := rand.New(rand.NewSource(3))
	js := pipelineJourneys(r, 4)
	for _, j := range js {
		f.insertJourney(j)
	}
	f.start()
	var stmts []modelStmt
	for i := 0; i < 600; i++ {
		stmts = append(stmts, modelStatement(r, i))
	}
	for i := 0; i < len(stmts); i += 50 {
		f.insertStatements(stmts[i : i+50])
	}
	waitUntil(t, "statements processed", func() bool { return f.p.Engine().Stats().Processed.Load() >= uint64(len(stmts)) })
	f.stop()
	checkAgainstModel(t, f.store, js, stmts)

	// A restart resumes from the checkpoint without re-applying anything.
	f.start()
	more := []modelStmt{}
	for i := 600; i < 700; i++ {
		more = append(more, modelStatement(r, i))
	}
	f.insertStatements(more)
	waitUntil(t, "more statements processed", func() bool { return f.p.Engine().Stats().Processed.Load() >= uint64(len(more)) })
	f.stop()
	checkAgainstModel(t, f.store, js, append(stmts, more...))
}

// TestPipelineRecalculation: journeys created and changed after statements
// exist, while more arrive, end equal to a replay of every statement.
func TestPipelineRecalculation(t *testing.T) {
	f := newPipelineFixture(t)
	r := rand.New(rand.NewSource(4))
	var stmts []modelStmt
	for i := 0; i < 400; i++ {
		stmts = append(stmts, modelStatement(r, i))
	}
	f.insertStatements(stmts)
	f.start()
	js := pipelineJourneys(r, 3)
	done := make(chan struct{})
	var later []modelStmt
	for i := 400; i < 800; i++ {
		later = append(later, modelStatement(r, i))
	}
	go func() {
		defer close(done)
		for i := 0; i < len(later); i += 20 {
			f.insertStatements(later[i : i+20])
			time.Sleep(time.Millisecond)
		}
	}()
	for _, j := range js {
		f.insertJourney(j)
	}
	// Change a definition: the journey recalculates at this position.
	js[0].Waypoints[0].Count++
	if _, err := f.db.Collection("journeys").ReplaceOne(context.Background(), bson.M{"_id": js[0].ID}, js[0]); err != nil {
		t.Fatal(err)
	}
	<-done
	waitUntil(t, "statements processed", func() bool { return f.p.Engine().Stats().Processed.Load() >= uint64(len(later)) })
	f.waitRecalculations(activeCount(js) + 1)
	f.stop()
	checkAgainstModel(t, f.store, js, append(stmts, later...))
}
