package source

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
)

// embedded is an in-memory lungo engine holding database "lrs".
type embedded struct {
	engine *lungo.Engine
	db     lungo.IDatabase
}

func newEmbedded(t testing.TB, opts lungo.Options) *embedded {
	t.Helper()
	opts.Store = lungo.NewMemoryStore()
	client, engine, err := lungo.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	return &embedded{engine: engine, db: client.Database("lrs")}
}

// insertStatements inserts n generated statements in one write and returns
// their _ids in order.
func (e *embedded) insertStatements(t testing.TB, g *xapitest.Generator, n int) []primitive.ObjectID {
	t.Helper()
	docs := make([]any, n)
	ids := make([]primitive.ObjectID, n)
	for i := range docs {
		doc := g.Next()
		docs[i], ids[i] = doc, doc.Lookup("_id").ObjectID()
	}
	if _, err := e.db.Collection("statements").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	return ids
}

func openSource(t testing.TB, db lungo.IDatabase, token bson.Raw) *Source {
	t.Helper()
	s, err := Open(testContext(t), Config{DB: db, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, token)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// next reads one event and fails the test on error.
func next(t testing.TB, s *Source) Event {
	t.Helper()
	ev, err := s.Next(testContext(t))
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

// expectDrained checks that no event is pending.
func expectDrained(t testing.TB, s *Source) {
	t.Helper()
	if ev, ok, err := s.TryNext(testContext(t)); ok || err != nil {
		t.Fatalf("TryNext = %v %v %v, want nothing pending", ev.Kind, ok, err)
	}
}

func TestEmbeddedEventsClassified(t *testing.T) {
	ctx := testContext(t)
	e := newEmbedded(t, lungo.Options{})
	g := xapitest.New(1, xapitest.Options{})
	before := e.insertStatements(t, g, 2) // before Open: not delivered
	s := openSource(t, e.db, nil)
	if !s.Ready() {
		t.Fatal("not Ready after Open")
	}

	stmts := e.insertStatements(t, g, 3)
	journeys, clients := e.db.Collection("journeys"), e.db.Collection("client")
	jid := primitive.NewObjectID()
	mustDo(t, func() error {
		_, err := journeys.InsertOne(ctx, bson.D{{Key: "_id", Value: jid}, {Key: "description", Value: "v1"}})
		return err
	})
	mustDo(t, func() error { _, err := clients.InsertOne(ctx, bson.D{{Key: "name", Value: "client"}}); return err })
	mustDo(t, func() error {
		_, err := journeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: jid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "description", Value: "v2"}}}})
		return err
	})
	mustDo(t, func() error {
		_, err := e.db.Collection("statements").UpdateOne(ctx, bson.D{{Key: "_id", Value: stmts[0]}}, bson.D{{Key: "$set", Value: bson.D{{Key: "voided", Value: true}}}})
		return err
	})
	mustDo(t, func() error {
		_, err := e.db.Collection("statements").UpdateOne(ctx, bson.D{{Key: "_id", Value: stmts[2]}}, bson.D{{Key: "$set", Value: bson.D{{Key: "active", Value: false}}}})
		return err
	})
	mustDo(t, func() error {
		_, err := journeys.ReplaceOne(ctx, bson.D{{Key: "_id", Value: jid}}, bson.D{{Key: "_id", Value: jid}, {Key: "description", Value: "v3"}})
		return err
	})
	mustDo(t, func() error {
		_, err := e.db.Collection("statements").DeleteOne(ctx, bson.D{{Key: "_id", Value: stmts[1]}})
		return err
	})
	mustDo(t, func() error { _, err := journeys.DeleteOne(ctx, bson.D{{Key: "_id", Value: jid}}); return err })

	want := []struct {
		kind Kind
		id   primitive.ObjectID
		desc string // journey description in Doc
	}{
		{KindStatementInsert, stmts[0], ""},
		{KindStatementInsert, stmts[1], ""},
		{KindStatementInsert, stmts[2], ""},
		{KindJourneyUpsert, jid, "v1"},
		{KindJourneyUpsert, jid, "v2"},
		{KindStatementUpdate, stmts[0], ""},
		{KindJourneyUpsert, jid, "v3"},
		{KindJourneyDelete, jid, ""},
	}
	var prev primitive.Timestamp
	for i, w := range want {
		ev := next(t, s)
		if ev.Kind != w.kind || ev.ID != w.id {
			t.Fatalf("event %d: %v %v, want %v %v", i, ev.Kind, ev.ID, w.kind, w.id)
		}
		if ev.ID == before[0] || ev.ID == before[1] {
			t.Fatalf("event %d: a statement inserted before Open was delivered", i)
		}
		switch {
		case w.kind == KindStatementInsert && ev.Doc.Lookup("_id").ObjectID() != w.id:
			t.Errorf("event %d: Doc is not the inserted statement", i)
		case w.kind == KindStatementUpdate && (!ev.Doc.Lookup("voided").Boolean() || ev.Changed != FieldVoided):
			t.Errorf("event %d: voiding update with Doc %v and Changed %v, want the voided statement and FieldVoided", i, ev.Doc, ev.Changed)
		case w.desc != "" && ev.Doc.Lookup("description").StringValue() != w.desc:
			t.Errorf("event %d: journey Doc %v, want description %q", i, ev.Doc, w.desc)
		case w.kind == KindJourneyDelete && ev.Doc != nil:
			t.Errorf("event %d: delete carries a Doc", i)
		}
		if len(ev.Token) == 0 || ev.ClusterTime.Compare(prev) <= 0 {
			t.Errorf("event %d: token %v, cluster time %v after %v", i, ev.Token, ev.ClusterTime, prev)
		}
		prev = ev.ClusterTime
	}
	expectDrained(t, s)
	st := s.Stats()
	if st.Events != uint64(len(want)) || st.Ignored != 3 || st.Failures != 0 || st.Reconnects != 0 {
		t.Errorf("Stats = %+v, want %d events and 3 ignored (client insert, statement update of active, statement delete)", st, len(want))
	}
}

func TestEmbeddedResumeNeitherSkipsNorRepeats(t *testing.T) {
	e := newEmbedded(t, lungo.Options{})
	g := xapitest.New(2, xapitest.Options{})
	s := openSource(t, e.db, nil)
	first := e.insertStatements(t, g, 5)
	var token bson.Raw
	for i := range 3 {
		ev := next(t, s)
		if ev.ID != first[i] {
			t.Fatalf("event %d is %v, want %v", i, ev.ID, first[i])
		}
		token = ev.Token
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(context.Background()); err == nil {
		t.Fatal("Next after Close succeeded")
	}
	later := e.insertStatements(t, g, 4)

	s2 := openSource(t, e.db, token)
	for i, want := range append(first[3:], later...) {
		if ev := next(t, s2); ev.ID != want {
			t.Fatalf("resumed event %d is %v, want %v", i, ev.ID, want)
		}
	}
	expectDrained(t, s2)
}

func TestEmbeddedHistoryLost(t *testing.T) {
	// lungo trims an oplog entry only once it is older than MinOplogAge,
	// counted in whole seconds, so the test waits for the next second.
	e := newEmbedded(t, lungo.Options{MinOplogSize: 1, MaxOplogSize: 5, MinOplogAge: time.Nanosecond})
	g := xapitest.New(3, xapitest.Options{})

	closed := openSource(t, e.db, nil)
	live := openSource(t, e.db, nil)
	e.insertStatements(t, g, 1)
	token := next(t, closed).Token
	if err := closed.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	next(t, live) // live now sits on the entry about to be trimmed

	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	for range 10 { // separate writes: lungo trims at each commit
		e.insertStatements(t, g, 1)
	}

	if _, err := Open(testContext(t), Config{DB: e.db}, token); !errors.Is(err, ErrHistoryLost) {
		t.Errorf("Open from a trimmed token: %v, want ErrHistoryLost", err)
	}
	if _, err := live.Next(testContext(t)); !errors.Is(err, ErrHistoryLost) {
		t.Errorf("Next after the stream's position was trimmed: %v, want ErrHistoryLost", err)
	}
	if st := live.Stats(); st.HistoryLost != 1 || live.Ready() {
		t.Errorf("Stats %+v, Ready %v; want one history loss and not ready", st, live.Ready())
	}

	// The recovery the pipeline performs: a new Source from the current end.
	fresh := openSource(t, e.db, nil)
	id := e.insertStatements(t, g, 1)[0]
	if ev := next(t, fresh); ev.ID != id {
		t.Errorf("fresh source delivered %v, want %v", ev.ID, id)
	}
}

func TestEmbeddedCollectionDropAndDatabaseDrop(t *testing.T) {
	ctx := testContext(t)
	e := newEmbedded(t, lungo.Options{})
	g := xapitest.New(4, xapitest.Options{})
	s := openSource(t, e.db, nil)

	a := e.insertStatements(t, g, 1)[0]
	mustDo(t, func() error { return e.db.Collection("statements").Drop(ctx) })
	b := e.insertStatements(t, g, 1)[0]
	for _, want := range []primitive.ObjectID{a, b} {
		if ev := next(t, s); ev.Kind != KindStatementInsert || ev.ID != want {
			t.Fatalf("around a statements drop: got %v %v, want insert %v", ev.Kind, ev.ID, want)
		}
	}

	mustDo(t, func() error {
		_, err := e.db.Collection("journeys").InsertOne(ctx, bson.D{{Key: "n", Value: 1}})
		return err
	})
	if ev := next(t, s); ev.Kind != KindJourneyUpsert {
		t.Fatalf("journey insert: %v", ev.Kind)
	}
	mustDo(t, func() error { return e.db.Drop(ctx) })
	var kinds []Kind
	for {
		ev := next(t, s)
		kinds = append(kinds, ev.Kind)
		if ev.Kind == KindInvalidate {
			if len(ev.Token) == 0 {
				t.Error("invalidate without a token")
			}
			break
		}
	}
	// lungo sends a drop per collection (journeys: reset), then
	// dropDatabase (reset), then invalidate.
	if len(kinds) != 3 || kinds[0] != KindJourneysReset || kinds[1] != KindJourneysReset {
		t.Errorf("database drop produced %v, want journeys_reset ×2 then invalidate", kinds)
	}
	if s.Ready() {
		t.Error("Ready while the invalidated stream awaits reopening")
	}

	c := e.insertStatements(t, g, 1)[0]
	if ev := next(t, s); ev.Kind != KindStatementInsert || ev.ID != c {
		t.Fatalf("after the invalidation: %v %v, want insert %v", ev.Kind, ev.ID, c)
	}
	if st := s.Stats(); st.Invalidates != 1 || st.Reconnects != 1 || st.Failures != 0 || !s.Ready() {
		t.Errorf("Stats %+v, Ready %v; want one invalidation, one reconnect, ready", st, s.Ready())
	}
}

func TestEmbeddedCheckpointAfterIgnoredChanges(t *testing.T) {
	ctx := testContext(t)
	e := newEmbedded(t, lungo.Options{})
	s, err := Open(ctx, Config{DB: e.db, CheckpointInterval: time.Nanosecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	mustDo(t, func() error {
		_, err := e.db.Collection("client").InsertOne(ctx, bson.D{{Key: "n", Value: 1}})
		return err
	})
	ev := next(t, s)
	if ev.Kind != KindCheckpoint || len(ev.Token) == 0 {
		t.Fatalf("after an ignored change: %v %v, want a checkpoint", ev.Kind, ev.Token)
	}
	// Nothing moved since: no second checkpoint.
	expectDrained(t, s)

	id := e.insertStatements(t, xapitest.New(5, xapitest.Options{}), 1)[0]
	resumed := openSource(t, e.db, ev.Token)
	if got := next(t, resumed); got.ID != id {
		t.Errorf("resumed from the checkpoint: %v, want %v", got.ID, id)
	}
}

func TestEmbeddedCancelledReadLosesNothing(t *testing.T) {
	e := newEmbedded(t, lungo.Options{})
	g := xapitest.New(8, xapitest.Options{})
	s := openSource(t, e.db, nil) // no change read yet: no token
	for round := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := s.Next(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("round %d: Next on an idle stream: %v", round, err)
		}
		// Made while no stream is open: the reopened one must see it.
		id := e.insertStatements(t, g, 1)[0]
		if ev := next(t, s); ev.ID != id {
			t.Fatalf("round %d: after a cancelled read got %v, want %v", round, ev.ID, id)
		}
	}
	if st := s.Stats(); st.Reconnects != 2 || st.Failures != 0 {
		t.Errorf("Stats %+v, want two reconnects and no failure", st)
	}
}

func TestEmbeddedEngineClosed(t *testing.T) {
	e := newEmbedded(t, lungo.Options{})
	s := openSource(t, e.db, nil)
	e.engine.Close()
	_, err := s.Next(testContext(t))
	if err == nil || errors.Is(err, ErrHistoryLost) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on a closed engine: %v, want a permanent error", err)
	}
	if st := s.Stats(); st.Failures != 0 {
		t.Errorf("a closed engine was retried: %+v", st)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	ctx := testContext(t)
	if _, err := Open(ctx, Config{}, nil); err == nil {
		t.Error("Open without a database succeeded")
	}
	e := newEmbedded(t, lungo.Options{})
	if _, err := Open(ctx, Config{DB: e.db, ServerSideFilter: true}, nil); err == nil {
		t.Error("Open with ServerSideFilter on the embedded engine succeeded")
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	s := &Source{cfg: Config{MinBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}}
	for failures, ceiling := range map[int]time.Duration{1: 10, 2: 20, 3: 40, 4: 80, 5: 80, 1000: 80} {
		s.failures = failures
		ceiling *= time.Millisecond
		for range 50 {
			if d := s.backoff(); d < ceiling/2 || d > ceiling {
				t.Fatalf("after %d failures: %v, want in [%v, %v]", failures, d, ceiling/2, ceiling)
			}
		}
	}
}

func mustDo(t testing.TB, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkEmbeddedNext measures reading statement inserts from the
// embedded engine's change stream: lungo's event conversion, the decode to
// bson.Raw and classification.
func BenchmarkEmbeddedNext(b *testing.B) {
	const n = 2000
	e := newEmbedded(b, lungo.Options{MaxOplogSize: 2 * n})
	start := openSource(b, e.db, nil)
	e.insertStatements(b, xapitest.New(6, xapitest.Options{}), 1)
	token := next(b, start).Token
	e.insertStatements(b, xapitest.New(7, xapitest.Options{}), n)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(ctx, Config{DB: e.db}, token)
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			if ev, err := s.Next(ctx); err != nil || ev.Kind != KindStatementInsert {
				b.Fatalf("%v %v", ev.Kind, err)
			}
		}
		_ = s.Close(ctx)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
