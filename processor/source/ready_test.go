package source

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/integration/mtest"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Mock scripts for what a real deployment does that the embedded engine
// cannot show: resumes after an invalidate across an election, events
// over 16 MB, and journey edits read with post-images. Replies are shaped
// as MongoDB sends them (the change streams specification; the server's
// change_stream_split_event and pre/post image documentation), and the
// commands the driver sends are asserted exactly.

// wantCommands checks the names of the commands sent, in order.
func wantCommands(mt *mtest.T, want ...string) {
	mt.Helper()
	if names, _ := commands(mt); !slices.Equal(names, want) {
		mt.Fatalf("commands %v, want %v", names, want)
	}
}

// wantPipeline checks the pipeline of the i-th aggregate sent, as relaxed
// extended JSON.
func wantPipeline(mt *mtest.T, i int, want string) {
	mt.Helper()
	n := 0
	for _, e := range mt.GetAllStartedEvents() {
		if e.CommandName != "aggregate" {
			continue
		}
		if n == i {
			got := e.Command.Lookup("pipeline").String()
			if got != want {
				mt.Errorf("aggregate %d pipeline\n got %s\nwant %s", i, got, want)
			}
			return
		}
		n++
	}
	mt.Fatalf("no aggregate %d sent", i)
}

// shapeJSON is shapeStages' $addFields as sent, for journeys named "journeys".
const shapeJSON = `{"$addFields": {"updateDescription": {"$cond": [{"$eq": ["$ns.coll","journeys"]},"$$REMOVE","$updateDescription"]}}}`

func TestResumeAfterInvalidateStepDown(t *testing.T) {
	invalidate := bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: "inv"}}},
		{Key: "operationType", Value: "invalidate"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 9}},
	}
	script := []bson.D{
		// The database is dropped: the server ends the cursor with the
		// invalidate.
		mockBatch(0, "firstBatch", "inv", mockInsert("01"), invalidate),
		// The Source reopens with startAfter the invalidate; nothing new
		// yet, so the post-batch token is the invalidate's own.
		mockBatch(43, "firstBatch", "inv"),
		// The primary steps down during the next getMore.
		mockError(189, "PrimarySteppedDown", "not primary", "ResumableChangeStreamError"),
		killed,
		// The driver resumes with resumeAfter its cached token, which the
		// server refuses after an invalidate.
		mockError(260, "InvalidResumeToken", "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification."),
		// The Source reopens with startAfter, which the server accepts.
		mockBatch(44, "firstBatch", "p2", mockInsert("02")),
	}
	runMock(t, "stepdown", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01")
		if ev := next(mt, s); ev.Kind != KindInvalidate {
			mt.Fatalf("got %v, want the invalidate", ev.Kind)
		}
		ev, err := s.Next(testContext(mt))
		if err != nil {
			mt.Fatalf("Next after the step-down: %v (history lost = %v)", err, errors.Is(err, ErrHistoryLost))
		}
		if got := ev.Token.Lookup("_data").StringValue(); ev.Kind != KindStatementInsert || got != "02" {
			mt.Fatalf("got %v %q, want insert 02", ev.Kind, got)
		}
		wantCommands(mt, "aggregate", "aggregate", "getMore", "killCursors", "aggregate", "aggregate")
		wantPipeline(mt, 0, `[{"$changeStream": {"fullDocument": "updateLookup"}},`+shapeJSON+`]`)
		wantPipeline(mt, 1, `[{"$changeStream": {"fullDocument": "updateLookup","startAfter": {"_data": "inv"}}},`+shapeJSON+`]`)
		wantPipeline(mt, 2, `[{"$changeStream": {"fullDocument": "updateLookup","resumeAfter": {"_data": "inv"}}},`+shapeJSON+`]`)
		wantPipeline(mt, 3, `[{"$changeStream": {"fullDocument": "updateLookup","startAfter": {"_data": "inv"}}},`+shapeJSON+`]`)
		if st := s.Stats(); st.HistoryLost != 0 || st.Failures != 1 || st.Reconnects != 2 || st.Invalidates != 1 {
			mt.Errorf("Stats %+v: want no history lost, one failure, two reconnects", st)
		}
	})
}

func TestInvalidResumeTokenOnOwnOpenIsHistoryLost(t *testing.T) {
	// 260 on the Source's own startAfter open is not retried: the token is
	// unusable, so the history is lost (TestMockHistoryLostOnOpen covers
	// Open; this is the reopen after a failed driver resume).
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", mockInsert("01")),
		mockError(260, "InvalidResumeToken", "cannot resume"),
		killed,
		mockError(260, "InvalidResumeToken", "cannot resume"),
	}
	runMock(t, "lost", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01")
		if _, err := s.Next(testContext(mt)); !errors.Is(err, ErrHistoryLost) {
			mt.Fatalf("Next: %v, want ErrHistoryLost", err)
		}
		wantCommands(mt, "aggregate", "getMore", "killCursors", "aggregate")
		wantPipeline(mt, 1, `[{"$changeStream": {"fullDocument": "updateLookup","startAfter": {"_data": "01"}}},`+shapeJSON+`]`)
	})
}

// bigStatement is a statement document of about n bytes.
func bigStatement(id primitive.ObjectID, n int) bson.D {
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "statement", Value: bson.D{{Key: "id", Value: "big"}, {Key: "description", Value: strings.Repeat("x", n)}}},
	}
}

func TestLargeEventSplit(t *testing.T) {
	id := primitive.NewObjectID()
	doc := bigStatement(id, 1<<20)
	token := func(d string) bson.E { return bson.E{Key: "_id", Value: bson.D{{Key: "_data", Value: d}}} }
	split := func(n, of int32) bson.E {
		return bson.E{Key: "splitEvent", Value: bson.D{{Key: "fragment", Value: n}, {Key: "of", Value: of}}}
	}
	// As the server splits: whole top-level fields per fragment, the first
	// holding as many as fit, each with its own token.
	frag1 := bson.D{token("f1"), split(1, 2),
		{Key: "operationType", Value: "insert"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 3}},
		{Key: "ns", Value: bson.D{{Key: "db", Value: "lrs"}, {Key: "coll", Value: "statements"}}},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: id}}},
	}
	frag2 := bson.D{token("f2"), split(2, 2), {Key: "fullDocument", Value: doc}}
	script := []bson.D{
		mockBatch(42, "firstBatch", "f1", mockInsert("01"), frag1),
		// The batch ends between the fragments; a failure there reopens
		// before the event, and the server sends it whole again.
		mockError(189, "PrimarySteppedDown", "not primary"), // unlabelled: not resumed by the driver
		killed,
		mockBatch(43, "firstBatch", "f1", frag1),
		mockBatch(43, "nextBatch", "f2", frag2, mockInsert("03")),
		killed,
	}
	runMock(t, "split", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{SplitLargeEvents: true, ServerSideFilter: true}, nil)
		wantData(mt, s, "01")
		ev := next(mt, s)
		want, _ := bson.Marshal(doc)
		if ev.Kind != KindStatementInsert || ev.ID != id || !bytes.Equal(ev.Doc, want) {
			mt.Fatalf("reassembled event %v %v (%d bytes), want the insert of %v (%d bytes)", ev.Kind, ev.ID, len(ev.Doc), id, len(want))
		}
		if got := ev.Token.Lookup("_data").StringValue(); got != "f2" {
			mt.Errorf("token %q, want the last fragment's f2", got)
		}
		if ev.ClusterTime.I != 3 {
			mt.Errorf("cluster time %v, want the first fragment's", ev.ClusterTime)
		}
		wantData(mt, s, "03")
		wantCommands(mt, "aggregate", "getMore", "killCursors", "aggregate", "getMore")
		match, _ := bson.Marshal(Pipeline("statements", "journeys")[0][0].Value)
		matchJSON := `{"$match": ` + bson.Raw(match).String() + `}`
		wantPipeline(mt, 0, `[{"$changeStream": {"fullDocument": "updateLookup"}},`+matchJSON+`,`+shapeJSON+`,{"$changeStreamSplitLargeEvent": {}}]`)
		// Reopened after event 01, before the split event.
		wantPipeline(mt, 1, `[{"$changeStream": {"fullDocument": "updateLookup","startAfter": {"_data": "01"}}},`+matchJSON+`,`+shapeJSON+`,{"$changeStreamSplitLargeEvent": {}}]`)
		if st := s.Stats(); st.Fragments != 3 || st.Events != 3 {
			mt.Errorf("Stats %+v: want 3 fragments read, 3 events", st)
		}
	})
}

func TestLargeEventWithoutSplitIsExplained(t *testing.T) {
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", mockInsert("01")),
		mockError(10334, "BSONObjectTooLarge", "BSONObj size: 17000000 (0x1036640) is invalid. Size must be between 0 and 16793600(16MB)"),
		killed,
	}
	runMock(t, "toolarge", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01")
		_, err := s.Next(testContext(mt))
		if err == nil || errors.Is(err, ErrHistoryLost) || !strings.Contains(err.Error(), "6.0.9") {
			mt.Fatalf("Next: %v, want a permanent error naming MongoDB 6.0.9", err)
		}
		wantCommands(mt, "aggregate", "getMore", "killCursors")
	})
}

func TestFragmentsOutOfSequenceReopen(t *testing.T) {
	frag := func(d string, n int32) bson.D {
		ev := mockInsert(d)
		return append(ev, bson.E{Key: "splitEvent", Value: bson.D{{Key: "fragment", Value: n}, {Key: "of", Value: int32(3)}}})
	}
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", mockInsert("01"), frag("a", 1), frag("c", 3)),
		killed,
		mockBatch(43, "firstBatch", "p2", mockInsert("02")),
	}
	runMock(t, "sequence", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{SplitLargeEvents: true}, nil)
		wantData(mt, s, "01", "02")
		wantCommands(mt, "aggregate", "killCursors", "aggregate")
		wantPipeline(mt, 1, `[{"$changeStream": {"fullDocument": "updateLookup","startAfter": {"_data": "01"}}},`+shapeJSON+`,{"$changeStreamSplitLargeEvent": {}}]`)
	})
}

// journeyUpdate is an update event of journey id as MongoDB sends it, with
// a post-image when doc is not nil.
func journeyUpdate(data string, id primitive.ObjectID, doc bson.D) bson.D {
	ev := bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: data}}},
		{Key: "operationType", Value: "update"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 5}},
		{Key: "wallTime", Value: primitive.DateTime(1700000000000)},
		{Key: "ns", Value: bson.D{{Key: "db", Value: "lrs"}, {Key: "coll", Value: "journeys"}}},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: id}}},
	}
	if doc != nil {
		ev = append(ev, bson.E{Key: "fullDocument", Value: doc})
	}
	return ev
}

func TestJourneyEditsNotCollapsed(t *testing.T) {
	id := primitive.NewObjectID()
	version := func(active bool, name string) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "name", Value: name}, {Key: "isActive", Value: active}}
	}
	script := []bson.D{
		// A backlog of three edits read at once: with post-images each
		// carries the journey as that edit left it — the deactivation is
		// not lost behind the reactivation.
		mockBatch(42, "firstBatch", "u3",
			journeyUpdate("u1", id, version(false, "v1")),
			journeyUpdate("u2", id, version(true, "v2")),
			// A post-image that expired: the Source looks the journey up.
			journeyUpdate("u3", id, nil),
		),
		// The lookup: find {_id}, as FindOne sends it.
		{{Key: "ok", Value: 1}, {Key: "cursor", Value: bson.D{
			{Key: "id", Value: int64(0)}, {Key: "ns", Value: "lrs.journeys"},
			{Key: "firstBatch", Value: bson.A{version(true, "v3")}},
		}}},
		killed,
	}
	runMock(t, "images", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{FullDocument: options.WhenAvailable}, nil)
		for i, want := range []struct {
			name   string
			active bool
		}{{"v1", false}, {"v2", true}, {"v3", true}} {
			ev := next(mt, s)
			if ev.Kind != KindJourneyUpsert || ev.ID != id ||
				ev.Doc.Lookup("name").StringValue() != want.name || ev.Doc.Lookup("isActive").Boolean() != want.active {
				mt.Fatalf("edit %d: %v %v %v, want journey %v at %s (isActive %v)", i, ev.Kind, ev.ID, ev.Doc, id, want.name, want.active)
			}
		}
		wantCommands(mt, "aggregate", "find")
		wantPipeline(mt, 0, `[{"$changeStream": {"fullDocument": "whenAvailable"}},`+shapeJSON+`]`)
		find := mt.GetAllStartedEvents()[1].Command
		if got := find.Lookup("filter").String(); got != `{"_id": {"$oid":"`+id.Hex()+`"}}` {
			mt.Errorf("lookup filter %s, want the journey's _id", got)
		}
		if got := find.Lookup("find").StringValue(); got != "journeys" {
			mt.Errorf("lookup in %q, want journeys", got)
		}
		if st := s.Stats(); st.Lookups != 1 {
			mt.Errorf("Stats %+v: want one lookup", st)
		}
	})
}

func TestJourneyDeletedBeforeLookup(t *testing.T) {
	id := primitive.NewObjectID()
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", journeyUpdate("u1", id, nil), mockInsert("02")),
		// The journey is gone: an empty result.
		{{Key: "ok", Value: 1}, {Key: "cursor", Value: bson.D{
			{Key: "id", Value: int64(0)}, {Key: "ns", Value: "lrs.journeys"}, {Key: "firstBatch", Value: bson.A{}},
		}}},
		killed,
	}
	runMock(t, "deleted", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{FullDocument: options.WhenAvailable}, nil)
		wantData(mt, s, "02") // the update is ignored: its delete follows
		if st := s.Stats(); st.Ignored != 1 || st.Lookups != 0 {
			mt.Errorf("Stats %+v", st)
		}
	})
}

func TestJoinFragments(t *testing.T) {
	f := func(d bson.D) bson.Raw { b, _ := bson.Marshal(d); return b }
	got := joinFragments([]bson.Raw{
		f(bson.D{{Key: "_id", Value: "t1"}, {Key: "splitEvent", Value: 1}, {Key: "a", Value: 1}, {Key: "b", Value: 2}}),
		f(bson.D{{Key: "_id", Value: "t2"}, {Key: "splitEvent", Value: 2}, {Key: "c", Value: 3}}),
		f(bson.D{{Key: "_id", Value: "t3"}, {Key: "splitEvent", Value: 3}, {Key: "d", Value: 4}, {Key: "a", Value: 9}}),
	})
	want := f(bson.D{{Key: "_id", Value: "t3"}, {Key: "a", Value: 1}, {Key: "b", Value: 2}, {Key: "c", Value: 3}, {Key: "d", Value: 4}})
	if !bytes.Equal(got, want) {
		t.Fatalf("joined %s, want %s", got, bson.Raw(want))
	}
}

func TestOpenRejectsSplitOnEmbedded(t *testing.T) {
	e := newEmbedded(t, lungo.Options{})
	if _, err := Open(context.Background(), Config{DB: e.db, SplitLargeEvents: true}, nil); err == nil {
		t.Fatal("Open with SplitLargeEvents on the embedded engine succeeded")
	}
}
