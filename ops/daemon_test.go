package ops

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/dispatch"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/state"
)

// daemon is a journeysd assembled from its real parts over an in-memory
// embedded LRS: pipeline, engine, Pebble store, callback dispatcher
// delivering to a local receiver, and Metrics served over HTTP.
type daemon struct {
	db       lungo.IDatabase
	store    *state.Store
	pipeline *processor.Pipeline
	metrics  *Metrics
	srv      *httptest.Server // serves /metrics
	gen      *xapitest.Generator
	// received counts callbacks the receiver accepted.
	received atomic.Int64
	// inserted counts documents inserted into statements.
	inserted int
}

// startDaemon starts a daemon with one repeatable journey (experienced
// twice, then completed once) whose callback points at a local receiver,
// and stops it when the test ends.
func startDaemon(t testing.TB) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	goRun := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}()
	}
	client, engine, err := lungo.Open(ctx, lungo.Options{Store: lungo.NewMemoryStore(), MaxOplogSize: 100000})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the parts started below stop before
	// the stores they use are closed.
	t.Cleanup(engine.Close)
	d := &daemon{db: client.Database("lrs")}
	d.store, err = state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.store.Close() })
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		d.received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	// The pipeline hands deliveries to the dispatcher, which is created
	// after the metrics so that it can register on their registry.
	var disp *dispatch.Dispatcher
	d.pipeline, err = processor.NewPipeline(processor.PipelineConfig{
		Store: d.store, DB: d.db, SkewMargin: time.Minute,
		OnDurable: func(ds []outbox.Delivery) { disp.Enqueue(ds...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	disp, err = dispatch.New(dispatch.Config{Store: d.store, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	d.metrics = NewMetrics(Sources{
		Engine:     d.pipeline.Engine().Stats(),
		Pipeline:   d.pipeline.Stats(),
		Ready:      d.pipeline.Ready,
		Stream:     d.pipeline.StreamStats,
		Dispatcher: disp,
		Pebble:     d.store.Metrics,
		Limits:     &journey.LimitStats{},
	})

	org := primitive.NewObjectID()
	insertJourney(t, d.db, org, receiver.URL)

	goRun(func() error { return d.pipeline.Run(ctx) })
	goRun(func() error { return disp.Run(ctx) })
	d.srv = httptest.NewServer(d.metrics.Handler())
	t.Cleanup(func() {
		d.srv.Close()
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("daemon part failed: %v", err)
		}
	})
	waitFor(t, "pipeline ready", func() bool { return d.pipeline.Ready() == nil })
	// Stored times must follow the journey's recalculation at the start:
	// completions by statements stored before it are history, which does
	// not notify.
	d.gen = xapitest.New(11, xapitest.Options{Organisation: org, Actors: 20, Start: time.Now()})
	return d
}

func insertJourney(t testing.TB, db lungo.IDatabase, org primitive.ObjectID, callback string) {
	t.Helper()
	j := journey.Journey{
		ID: primitive.NewObjectID(), Organisation: org, Description: "metrics test",
		IsActive: true, IsRepeatable: true, TrackBy: journey.TrackByActor,
		Waypoints: []journey.Waypoint{
			{ID: primitive.NewObjectID(), IsActive: true, Count: 2, Order: 0,
				Conditions: `{"statement.verb.id": "` + xapitest.VerbExperienced + `"}`},
			{ID: primitive.NewObjectID(), IsActive: true, Count: 1, Order: 1,
				Conditions: `{"statement.verb.id": "` + xapitest.VerbCompleted + `"}`},
		},
		Outcomes: []journey.Outcome{{ID: primitive.NewObjectID(), IsActive: true, Type: journey.OutcomeCallback, Callback: callback}},
	}
	if _, err := db.Collection("journeys").InsertOne(context.Background(), j); err != nil {
		t.Fatal(err)
	}
}

// traffic is what a batch of inserted statement documents holds.
type traffic struct {
	voided, malformed, anonymous int
}

// insert stores n statement documents: mostly learners experiencing and
// completing things, plus the skips described by tr (anonymous ones
// completing things, so that the journey would have counted them). It
// waits until the pipeline has processed them all.
func (d *daemon) insert(t testing.TB, n int, tr traffic) {
	t.Helper()
	verbs := []string{xapitest.VerbExperienced, xapitest.VerbExperienced, xapitest.VerbCompleted, xapitest.VerbAnswered}
	docs := make([]any, 0, n)
	for i := 0; len(docs) < n; i++ {
		// Round r gives every learner verbs[r]: each completes an attempt
		// every len(verbs) rounds.
		actors := d.gen.Options().Actors
		spec := xapitest.Spec{Actor: d.gen.Actor(i % actors), Verb: verbs[i/actors%len(verbs)]}
		switch {
		case tr.voided > 0:
			tr.voided--
			spec.Voided = true
		case tr.anonymous > 0:
			tr.anonymous--
			spec.Anonymous, spec.Verb = true, xapitest.VerbCompleted
		case tr.malformed > 0:
			tr.malformed--
			// A row another writer put there: no statement at all.
			docs = append(docs, bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "note", Value: "not a statement"}})
			continue
		}
		docs = append(docs, d.gen.Make(spec))
	}
	// The embedded store slows down with large single writes; batches keep
	// each insert short.
	for len(docs) > 0 {
		k := min(len(docs), 100)
		if _, err := d.db.Collection("statements").InsertMany(context.Background(), docs[:k]); err != nil {
			t.Fatal(err)
		}
		docs = docs[k:]
	}
	d.inserted += n
	waitFor(t, "statements processed", func() bool {
		return d.pipeline.Engine().Stats().Processed.Load() >= uint64(d.inserted)
	})
}

// scrape returns the text exposition served at /metrics.
func (d *daemon) scrape(t testing.TB) string {
	t.Helper()
	resp, err := http.Get(d.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	return string(body)
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
