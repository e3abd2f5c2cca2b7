package source

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/event"
	"go.mongodb.org/mongo-driver/mongo/integration/mtest"
)

// These tests run the real driver (mongo.ChangeStream, its resume logic and
// error types) against mtest's mock deployment, which answers each command
// with the next scripted reply. A script therefore lists, in order, a reply
// for every command the driver sends — including killCursors when it
// abandons a cursor — and the tests check the commands sent.

const mockNS = "lrs.$cmd.aggregate"

// mockInsert is a statement insert event whose resume token is {_data: data}.
func mockInsert(data string) bson.D {
	return bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: data}}},
		{Key: "operationType", Value: "insert"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 1}},
		{Key: "ns", Value: bson.D{{Key: "db", Value: "lrs"}, {Key: "coll", Value: "statements"}}},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}}},
		{Key: "fullDocument", Value: bson.D{{Key: "statement", Value: bson.D{{Key: "id", Value: data}}}}},
	}
}

// mockBatch is a cursor reply (batch "firstBatch" for aggregate, "nextBatch"
// for getMore) carrying a post-batch resume token {_data: pbrt}.
func mockBatch(id int64, batch, pbrt string, events ...bson.D) bson.D {
	arr := bson.A{}
	for _, e := range events {
		arr = append(arr, e)
	}
	return bson.D{{Key: "ok", Value: 1}, {Key: "cursor", Value: bson.D{
		{Key: "id", Value: id},
		{Key: "ns", Value: mockNS},
		{Key: batch, Value: arr},
		{Key: "postBatchResumeToken", Value: bson.D{{Key: "_data", Value: pbrt}}},
	}}}
}

func mockError(code int32, name, msg string, labels ...string) bson.D {
	return mtest.CreateCommandErrorResponse(mtest.CommandError{Code: code, Name: name, Message: msg, Labels: labels})
}

var killed = bson.D{{Key: "ok", Value: 1}}

// mockEnv is a mock deployment's database and the sources opened on it.
type mockEnv struct {
	mt      *mtest.T
	db      lungo.IDatabase
	sources []*Source
}

// runMock runs f as a subtest against a fresh mock deployment with the
// given script. The sources f opens are closed when it returns, before
// mtest checks that no session leaked.
func runMock(t *testing.T, name string, script []bson.D, f func(env *mockEnv)) {
	mt := mtest.New(t, mtest.NewOptions().ClientType(mtest.Mock))
	mt.Run(name, func(mt *mtest.T) {
		mt.AddMockResponses(script...)
		env := &mockEnv{mt: mt, db: (&lungo.MongoClient{Client: mt.Client}).Database("lrs")}
		defer func() {
			for _, s := range env.sources {
				_ = s.Close(context.Background())
			}
		}()
		f(env)
	})
}

// open opens a Source with short backoffs and fails the test on error.
func (env *mockEnv) open(cfg Config, token bson.Raw) *Source {
	env.mt.Helper()
	cfg.DB, cfg.MinBackoff, cfg.MaxBackoff = env.db, time.Millisecond, 2*time.Millisecond
	s, err := Open(testContext(env.mt), cfg, token)
	if err != nil {
		env.mt.Fatalf("Open: %v", err)
	}
	env.sources = append(env.sources, s)
	return s
}

// wantData reads events and checks their tokens' _data in order.
func wantData(mt *mtest.T, s *Source, data ...string) {
	mt.Helper()
	for _, d := range data {
		ev := next(mt, s)
		if got := ev.Token.Lookup("_data").StringValue(); got != d || ev.Kind != KindStatementInsert {
			mt.Fatalf("event %v with token %q, want statement insert %q", ev.Kind, got, d)
		}
	}
}

// commands returns the names of the commands sent and the $changeStream
// stage of each aggregate.
func commands(mt *mtest.T) (names []string, streams []bson.Raw) {
	for _, e := range mt.GetAllStartedEvents() {
		names = append(names, e.CommandName)
		if e.CommandName == "aggregate" {
			streams = append(streams, changeStreamStage(e))
		}
	}
	return names, streams
}

func changeStreamStage(e *event.CommandStartedEvent) bson.Raw {
	return e.Command.Lookup("pipeline", "0", "$changeStream").Document()
}

func resumeFrom(stage bson.Raw) (option, data string) {
	for _, opt := range []string{"resumeAfter", "startAfter"} {
		if v, err := stage.LookupErr(opt, "_data"); err == nil {
			return opt, v.StringValue()
		}
	}
	return "", ""
}

func TestMockDriverResumesOnResumableLabel(t *testing.T) {
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", mockInsert("01")),
		mockError(91, "ShutdownInProgress", "shutting down", "ResumableChangeStreamError"),
		killed,
		mockBatch(43, "firstBatch", "p2", mockInsert("02")),
	}
	runMock(t, "resume", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01", "02")
		names, streams := commands(mt)
		if want := []string{"aggregate", "getMore", "killCursors", "aggregate"}; !slices.Equal(names, want) {
			mt.Fatalf("commands %v, want %v", names, want)
		}
		// The driver resumes from its cached token: the post-batch token
		// that followed event 01.
		if opt, data := resumeFrom(streams[1]); opt != "resumeAfter" || data != "p1" {
			mt.Errorf("driver resumed with %s %q, want resumeAfter p1", opt, data)
		}
		if st := s.Stats(); st.Failures != 0 || st.Reconnects != 0 {
			mt.Errorf("the driver's own resume surfaced as a failure: %+v", st)
		}
	})
}

func TestMockSourceReopensWhenDriverResumeFails(t *testing.T) {
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", mockInsert("01")),
		mockError(91, "ShutdownInProgress", "shutting down", "ResumableChangeStreamError"),
		killed,
		// The driver's resume and its one retry both fail with a transient,
		// unlabelled error (as from a server before 4.4).
		mockError(189, "PrimarySteppedDown", "stepped down"),
		mockError(189, "PrimarySteppedDown", "stepped down"),
		mockBatch(43, "firstBatch", "p2", mockInsert("02")),
	}
	runMock(t, "reopen", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01", "02")
		_, streams := commands(mt)
		if len(streams) != 4 {
			mt.Fatalf("%d aggregates, want 4", len(streams))
		}
		if opt, data := resumeFrom(streams[3]); opt != "startAfter" || data != "01" {
			mt.Errorf("source reopened with %s %q, want startAfter 01", opt, data)
		}
		if st := s.Stats(); st.Failures != 1 || st.Reconnects != 1 || !s.Ready() {
			mt.Errorf("Stats %+v, Ready %v; want one failure, one reconnect", st, s.Ready())
		}
	})
}

func TestMockNetworkErrorReconnects(t *testing.T) {
	// When the script runs out, the mock connection fails to read: a
	// genuine network error in the driver, retried until a reply exists.
	runMock(t, "network", []bson.D{mockBatch(42, "firstBatch", "p1", mockInsert("01"))}, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
			mt.Fatalf("Next while the server is unreachable: %v, want the context's deadline", err)
		}
		if st := s.Stats(); st.Failures == 0 || s.Ready() {
			mt.Fatalf("Stats %+v, Ready %v: the outage went unnoticed", st, s.Ready())
		}
		mt.ClearEvents()
		mt.AddMockResponses(mockBatch(43, "firstBatch", "p2", mockInsert("02")))
		wantData(mt, s, "02")
		_, streams := commands(mt)
		if opt, data := resumeFrom(streams[len(streams)-1]); opt != "startAfter" || data != "01" {
			mt.Errorf("reconnected with %s %q, want startAfter 01", opt, data)
		}
		if !s.Ready() {
			mt.Error("not Ready after reconnecting")
		}
	})
}

func TestMockHistoryLostOnOpen(t *testing.T) {
	cases := []struct {
		name string
		err  bson.D
		lost bool
	}{
		{"ChangeStreamHistoryLost", mockError(286, "ChangeStreamHistoryLost", "history lost"), true},
		{"InvalidResumeToken", mockError(260, "InvalidResumeToken", "bad token"), true},
		{"malformed token", mockError(40647, "Location40647", "Bad resume token: _data of missing or of wrong type"), true},
		{"token not found", mockError(280, "ChangeStreamFatalError", "cannot resume stream; the resume token was not found"), true},
		{"other fatal error", mockError(280, "ChangeStreamFatalError", "cannot modify _id"), false},
		{"unauthorized", mockError(13, "Unauthorized", "not authorized"), false},
	}
	for _, c := range cases {
		runMock(t, c.name, []bson.D{c.err}, func(env *mockEnv) {
			mt := env.mt
			token, _ := bson.Marshal(bson.D{{Key: "_data", Value: "00"}})
			_, err := Open(testContext(mt), Config{DB: env.db}, token)
			if err == nil || errors.Is(err, ErrHistoryLost) != c.lost {
				mt.Fatalf("Open: %v; want history lost = %v", err, c.lost)
			}
			names, streams := commands(mt)
			if len(names) != 1 {
				mt.Errorf("commands %v: a non-transient error was retried", names)
			}
			if opt, data := resumeFrom(streams[0]); opt != "startAfter" || data != "00" {
				mt.Errorf("opened with %s %q, want startAfter 00", opt, data)
			}
		})
	}
}

func TestMockHistoryLostMidStream(t *testing.T) {
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1", mockInsert("01")),
		mockError(286, "ChangeStreamHistoryLost", "resume point no longer in the oplog"),
		killed,
	}
	runMock(t, "lost", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01")
		if _, err := s.Next(testContext(mt)); !errors.Is(err, ErrHistoryLost) {
			mt.Fatalf("Next: %v, want ErrHistoryLost", err)
		}
		if st := s.Stats(); st.HistoryLost != 1 || st.Failures != 0 {
			mt.Errorf("Stats %+v", st)
		}
	})
}

func TestMockInvalidateReopensAfterIt(t *testing.T) {
	invalidate := bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: "inv"}}},
		{Key: "operationType", Value: "invalidate"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1700000000, I: 9}},
	}
	script := []bson.D{
		// The server closes the cursor (id 0) with the invalidate.
		mockBatch(0, "firstBatch", "inv", mockInsert("01"), invalidate),
		mockBatch(43, "firstBatch", "p2", mockInsert("02")),
	}
	runMock(t, "invalidate", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{}, nil)
		wantData(mt, s, "01")
		ev := next(mt, s)
		if ev.Kind != KindInvalidate || ev.Token.Lookup("_data").StringValue() != "inv" {
			mt.Fatalf("got %v %v, want the invalidate", ev.Kind, ev.Token)
		}
		wantData(mt, s, "02")
		_, streams := commands(mt)
		if opt, data := resumeFrom(streams[len(streams)-1]); opt != "startAfter" || data != "inv" {
			mt.Errorf("reopened with %s %q, want startAfter inv", opt, data)
		}
		if st := s.Stats(); st.Invalidates != 1 || st.Reconnects != 1 || st.Failures != 0 {
			mt.Errorf("Stats %+v", st)
		}
	})
}

func TestMockServerSideFilterAndCheckpoint(t *testing.T) {
	script := []bson.D{
		mockBatch(42, "firstBatch", "p1"),
		mockBatch(42, "nextBatch", "p2"), // the server filtered everything out
		mockBatch(42, "nextBatch", "p3", mockInsert("03")),
		killed,
	}
	runMock(t, "filter", script, func(env *mockEnv) {
		mt := env.mt
		s := env.open(Config{ServerSideFilter: true, CheckpointInterval: time.Nanosecond}, nil)
		ev := next(mt, s)
		if ev.Kind != KindCheckpoint || ev.Token.Lookup("_data").StringValue() != "p2" {
			mt.Fatalf("after an empty batch: %v %v, want a checkpoint at p2", ev.Kind, ev.Token)
		}
		wantData(mt, s, "03")

		started := mt.GetAllStartedEvents()
		if len(started) == 0 || started[0].CommandName != "aggregate" {
			mt.Fatal("no aggregate sent")
		}
		stage := changeStreamStage(started[0])
		if got := stage.Lookup("fullDocument").StringValue(); got != "updateLookup" {
			mt.Errorf("fullDocument %q, want updateLookup", got)
		}
		match, err := started[0].Command.LookupErr("pipeline", "1", "$match")
		want, _ := bson.Marshal(Pipeline("statements", "journeys")[0][0].Value)
		if err != nil || !bytes.Equal(match.Document(), want) {
			mt.Errorf("second stage %v, want Pipeline's $match", match)
		}
	})
}
