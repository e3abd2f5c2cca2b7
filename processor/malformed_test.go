package processor

import (
	"encoding/binary"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/rawbson"
	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/source"
)

// damage is one way of breaking a well-formed document, applied to a copy.
type damage struct {
	name string
	fn   func(doc []byte) []byte
	// reachedByAll is set when every reader of a stored statement passes
	// the damaged bytes (the length prefix, or the first element);
	// otherwise only the readers of the whole top level (the header read
	// and classification) do: a reader that stops at the field it wants
	// never reaches a later element or the terminator.
	reachedByAll bool
}

// damages lists the shapes of malformed input of rawbson's policy:
// truncated, bad length, unknown type, bad UTF-8 in a key, at the framing,
// the first element and the last.
func damages() []damage {
	setLen := func(delta int) func([]byte) []byte {
		return func(d []byte) []byte {
			binary.LittleEndian.PutUint32(d, uint32(len(d)+delta))
			return d
		}
	}
	return []damage{
		{"truncated", func(d []byte) []byte { return d[:len(d)/2] }, true},
		{"length larger than the bytes", setLen(1), true},
		{"length smaller than the bytes", setLen(-1), true},
		{"negative length", func(d []byte) []byte { binary.LittleEndian.PutUint32(d, 0xffffffff); return d }, true},
		{"trailing byte", func(d []byte) []byte { return append(d, 0) }, true},
		{"no terminator", func(d []byte) []byte { d[len(d)-1] = 1; return d }, false},
		{"unknown type, first element", func(d []byte) []byte { d[4] = 0x42; return d }, true},
		{"bad UTF-8 key, first element", func(d []byte) []byte { d[5] = 0xff; return d }, true},
		{"unknown type, last element", func(d []byte) []byte { d[lastElement(d)] = 0x42; return d }, false},
		{"bad UTF-8 key, last element", func(d []byte) []byte { d[lastElement(d)+1] = 0xc3; return d }, false},
		{"string length past the end, last element", func(d []byte) []byte {
			off := lastElement(d)
			d[off] = 0x02 // the last element becomes a string whose length is its first bytes
			return d
		}, false},
	}
}

// lastElement returns the offset of the last top-level element of the
// well-formed document d.
func lastElement(d []byte) int {
	off, last := 4, 4
	it := rawbson.Elements(d)
	for {
		k, v, ok := it.Next()
		if !ok {
			return last
		}
		last = off
		off += 2 + len(k) + len(v.Data)
	}
}

// TestMalformedPolicy applies each shape of malformed input to a stored
// statement and to a change event carrying one, and checks that every
// reader of statement bytes applies rawbson's policy the same way: the
// header read, change-event classification, the matcher and owner
// extraction all reject damage they reach — none reads it as a missing
// field or a value — and the engine therefore skips the statement whole,
// counted as malformed, with no progress.
func TestMalformedPolicy(t *testing.T) {
	org := oid(1)
	g := xapitest.New(5, xapitest.Options{Organisation: org, Actors: 3})
	good := g.Make(xapitest.Spec{Actor: g.Actor(0), Verb: xapitest.VerbCompleted})
	verb := good.Lookup("statement", "verb", "id").StringValue()
	// Conditions that match a missing field, so that damage read as
	// "missing" would show.
	matchers := map[string]*cond.Matcher{}
	for _, q := range []string{
		`{"voided": {"$ne": true}}`,
		`{"nothing": {"$exists": false}}`,
		`{"nothing": null}`,
		`{"$nor": [{"organisation": {"$exists": true}}]}`,
		fmt.Sprintf(`{"statement.verb.id": %q}`, verb),
	} {
		m, err := cond.CompileString(q)
		if err != nil {
			t.Fatal(err)
		}
		matchers[q] = m
	}
	event := changeEvent(t, good)

	// The undamaged document passes every reader.
	var h Header
	if !readHeader(good, &h) {
		t.Fatal("header read rejects the well-formed statement")
	}
	if k := source.Classify(event, "lrs", "statements", "journeys"); k != source.KindStatementInsert {
		t.Fatalf("well-formed event classified %v", k)
	}
	for _, by := range []journey.TrackBy{journey.TrackByActor, journey.TrackByPersona} {
		if _, ok := journey.AppendOwnerKey(nil, good, by); !ok {
			t.Fatalf("well-formed statement has no %s owner", by)
		}
	}
	if !matchers[`{"nothing": {"$exists": false}}`].Match(good) {
		t.Fatal("well-formed statement does not match")
	}
	if res := applyOne(t, org, good); res.Skipped != SkipNone || !res.Matched {
		t.Fatalf("well-formed statement: %+v", res)
	}

	for _, d := range damages() {
		t.Run(d.name, func(t *testing.T) {
			doc := d.fn(append([]byte(nil), good...))
			if err := rawbson.Validate(doc); err == nil {
				t.Fatal("the damage left a well-formed document")
			}
			// Header read: the whole top level, wherever the damage is.
			if readHeader(doc, &h) {
				t.Error("header read accepted it")
			}
			// Classification: an event damaged the same way is ignored.
			if k := source.Classify(d.fn(append([]byte(nil), event...)), "lrs", "statements", "journeys"); k != source.KindIgnore {
				t.Errorf("a change event damaged the same way is classified %v, want ignore", k)
			}
			// The engine: skipped whole, counted, no progress; the matcher
			// and owner extraction are never asked.
			if res := applyOne(t, org, doc); res.Skipped != SkipMalformed || res.Matched || res.Header != (Header{}) {
				t.Errorf("engine result %+v, want skipped as malformed", res)
			}
			if !d.reachedByAll {
				return
			}
			// Damage every reader passes: the matcher and owner extraction
			// reject it as well when called directly.
			for q, m := range matchers {
				if m.Match(doc) {
					t.Errorf("matcher %s matched", q)
				}
			}
			for _, by := range []journey.TrackBy{journey.TrackByActor, journey.TrackByPersona} {
				if key, ok := journey.AppendOwnerKey(nil, doc, by); ok {
					t.Errorf("%s owner %q extracted", by, key)
				}
			}
		})
	}

	// Damage below the top level concerns the readers that reach it: a bad
	// key inside statement.actor makes the actor owner untracked and a
	// condition on the actor unmatched, but not a condition on the verb.
	t.Run("bad UTF-8 key inside statement.actor", func(t *testing.T) {
		doc := append([]byte(nil), good...)
		at := bytesIndex(doc, []byte("mbox\x00"))
		doc[at] = 0xff
		if !readHeader(doc, &h) {
			t.Error("header read rejected damage below the top level")
		}
		if _, ok := journey.AppendOwnerKey(nil, doc, journey.TrackByActor); ok {
			t.Error("actor owner extracted from a damaged actor")
		}
		if _, ok := journey.AppendOwnerKey(nil, doc, journey.TrackByPersona); !ok {
			t.Error("persona owner lost to damage it does not read")
		}
		actor, err := cond.CompileString(`{"statement.actor.name": {"$exists": false}}`)
		if err != nil {
			t.Fatal(err)
		}
		if actor.Match(doc) {
			t.Error("a condition reading the damaged actor matched")
		}
		if !matchers[fmt.Sprintf(`{"statement.verb.id": %q}`, verb)].Match(doc) {
			t.Error("a condition not reading the damage did not match")
		}
		if res := applyOne(t, org, doc); res.Skipped != SkipNone || !res.Matched {
			t.Errorf("engine result %+v, want applied (matched, owner untracked)", res)
		}
	})
}

// applyOne applies doc to a fresh engine with one journey whose waypoint
// matches every statement of org, commits, and checks that a statement
// reported as skipped left no progress and was counted.
func applyOne(t *testing.T, org primitive.ObjectID, doc []byte) Result {
	t.Helper()
	e, st := engineFixture(t)
	c, err := journey.Compile(&journey.Journey{
		ID: oid(90), Organisation: org, IsActive: true, TrackBy: journey.TrackByActor,
		Waypoints: []journey.Waypoint{{ID: oid(91), IsActive: true, Count: 1,
			Conditions: `{"voided": {"$ne": true}}`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.SetJourney(c, 0)
	res, err := e.Statement(doc)
	if err != nil {
		t.Fatal(err)
	}
	resFor, err := e.StatementFor(c.ID, doc)
	if err != nil {
		t.Fatal(err)
	}
	if resFor.Skipped != res.Skipped {
		t.Errorf("Statement skipped %v, StatementFor %v", res.Skipped, resFor.Skipped)
	}
	if err := e.Commit([]byte("cp")); err != nil {
		t.Fatal(err)
	}
	if res.Skipped == SkipMalformed {
		if n := e.Stats().Malformed.Load(); n != 1 {
			t.Errorf("malformed count %d, want 1", n)
		}
		n := 0
		if err := st.ScanProgress(c.ID, func([]byte, []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d progress records written for a malformed statement", n)
		}
	}
	return res
}

// changeEvent returns an insert change event carrying doc.
func changeEvent(t *testing.T, doc bson.Raw) bson.Raw {
	t.Helper()
	ev, err := bson.Marshal(bson.D{
		{Key: "_id", Value: bson.D{{Key: "_data", Value: "8263"}}},
		{Key: "operationType", Value: "insert"},
		{Key: "clusterTime", Value: primitive.Timestamp{T: 1, I: 1}},
		{Key: "fullDocument", Value: doc},
		{Key: "ns", Value: bson.D{{Key: "db", Value: "lrs"}, {Key: "coll", Value: "statements"}}},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: doc.Lookup("_id").ObjectID()}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func bytesIndex(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	panic("not found")
}
