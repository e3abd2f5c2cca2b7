package processor

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/source"
)

// How Learning Locker's updates (recompute.go) compose with a running
// recalculation (recalc.go). The stopped pipeline is driven step by step,
// as in TestRecomputeDeferredDuringRecalculation: the recalculation's scan
// does not run, so the journey's progress after the hand-over is exactly
// what the deferred owner recomputes rebuild from the LRS.

// recalculatingFixture returns a stopped pipeline whose actor-tracked
// journey jid has completed once (one callback) and is recalculating.
func recalculatingFixture(t *testing.T, jid primitive.ObjectID) (*pipelineFixture, bson.D) {
	t.Helper()
	f := newPipelineFixture(t)
	f.insertJourney(llJourney(jid, journey.TrackByActor))
	f.start()
	f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
	f.insertDocs(
		llStatement(1, "mailto:ann@example.com", verbAttempted),
		llStatement(2, "mailto:ann@example.com", verbAttempted),
		llStatement(3, "mailto:ann@example.com", verbCompleted),
	)
	f.settle("completed", func() bool { rec, _ := f.record(jid, annKey); return rec.Done() })
	f.stop()
	if n := f.deliveries(); n != 1 {
		t.Fatalf("%d callbacks, want 1", n)
	}
	return f, f.requestRecalculation(jid)
}

// requestRecalculation hands the stopped pipeline journey jid's document
// with a recalculation request, as the API writes it, and returns the
// document without the request. The recalculation starts; its scan, which
// runs in the running pipeline's goroutine, does not.
func (f *pipelineFixture) requestRecalculation(jid primitive.ObjectID) bson.D {
	f.t.Helper()
	doc, err := f.db.Collection("journeys").FindOne(context.Background(), bson.D{{Key: "_id", Value: jid}}).Raw()
	if err != nil {
		f.t.Fatal(err)
	}
	d := bsonElems(f.t, doc)
	req, _ := bson.Marshal(append(d[:len(d):len(d)], bson.E{Key: "recalculateRequest", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}}}))
	if err := f.p.journeyChanged(req, 0, 0); err != nil {
		f.t.Fatal(err)
	}
	if f.p.jobs[jid] == nil {
		f.t.Fatal("no recalculation started")
	}
	return d
}

// applyUpdates hands the stopped pipeline the update events the stream
// delivers for statements ids (changed says what changed), as one batch
// reads them, then commits.
func (f *pipelineFixture) applyUpdates(changed source.Fields, ids ...int) {
	f.t.Helper()
	ctx := context.Background()
	for _, i := range ids {
		doc, err := f.db.Collection("statements").FindOne(ctx, bson.D{{Key: "_id", Value: llStmtID(i)}}).Raw()
		if err != nil {
			f.t.Fatal(err)
		}
		if err := f.p.apply(ctx, source.Event{Kind: source.KindStatementUpdate, Changed: changed, Doc: doc, ID: llStmtID(i)}); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := f.p.commit(ctx); err != nil {
		f.t.Fatal(err)
	}
}

var annKey = []byte("mmailto:ann@example.com")

// voidStatement voids statement i in the LRS and applies the update event
// the stream delivers for it.
func (f *pipelineFixture) voidStatement(i int) {
	f.t.Helper()
	f.void(llStmtID(i))
	f.applyUpdates(source.FieldVoided, i)
}

// TestVoidedDuringRecalculation: a voiding read while the journey
// recalculates (the embedded log delivers it as the same update of voided)
// is not recomputed beside the scan; the owner is recomputed at the
// hand-over, without the voided statement, and the attempt that fired does
// not fire again.
func TestVoidedDuringRecalculation(t *testing.T) {
	jid := oid(160)
	f, _ := recalculatingFixture(t, jid)
	p := f.p
	before := p.Stats().OwnerRecomputes.Load()
	f.voidStatement(3)
	if n := p.Stats().OwnerRecomputes.Load() - before; n != 0 {
		t.Fatalf("%d recomputes beside the running recalculation, want 0", n)
	}
	if d := p.metas[jid].DeferredRecomputes; len(d) != 1 || d[0].By != journey.TrackByActor || string(d[0].Owner) != string(annKey) {
		t.Fatalf("deferred %v, want the actor once", d)
	}

	p.finishRecalculation(p.jobs[jid])
	if err := p.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := p.Stats().OwnerRecomputes.Load() - before; n != 1 {
		t.Errorf("%d recomputes at the hand-over, want 1", n)
	}
	rec, _ := f.record(jid, annKey)
	if c := counts(rec); rec.Done() || len(c) != 2 || c[0] != 2 || c[1] != 0 {
		t.Errorf("counts %v (done %v), want [2 0] without the voided statement", c, rec.Done())
	}
	if n := f.deliveries(); n != 1 {
		t.Errorf("%d callbacks, want still 1", n)
	}
}

// TestJourneyEditedWhileRecomputesDeferred: an owner recompute deferred by
// a recalculation is dropped when the journey changes version and
// recalculates again (the new scan reads the statement as updated); the
// new run's hand-over recomputes nothing, and its meta carries no stale
// entry.
func TestJourneyEditedWhileRecomputesDeferred(t *testing.T) {
	jid := oid(161)
	f, d := recalculatingFixture(t, jid)
	p := f.p
	before := p.Stats().OwnerRecomputes.Load()
	f.voidStatement(3)
	if len(p.metas[jid].DeferredRecomputes) != 1 {
		t.Fatalf("deferred %v, want one", p.metas[jid].DeferredRecomputes)
	}

	// A new version: the second waypoint's count changes.
	j := llJourney(jid, journey.TrackByActor)
	j.Waypoints[1].Count = 2
	c, err := journey.Compile(j)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range d {
		if e.Key == "waypoints" {
			raw, err := bson.Marshal(bson.D{{Key: "w", Value: j.Waypoints}})
			if err != nil {
				t.Fatal(err)
			}
			d[i].Value = bson.Raw(raw).Lookup("w")
		}
	}
	edited, _ := bson.Marshal(d)
	if err := p.journeyChanged(edited, 0, 0); err != nil {
		t.Fatal(err)
	}
	if p.metas[jid].Version != c.Version {
		t.Fatalf("version %q, want the edited %q", p.metas[jid].Version, c.Version)
	}
	if p.jobs[jid] == nil {
		t.Fatal("the edit did not recalculate")
	}
	if dr := p.metas[jid].DeferredRecomputes; len(dr) != 0 {
		t.Errorf("deferred %v kept across the new recalculation", dr)
	}
	p.finishRecalculation(p.jobs[jid])
	if err := p.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := p.Stats().OwnerRecomputes.Load() - before; n != 0 {
		t.Errorf("%d recomputes at the new run's hand-over, want 0", n)
	}
}
