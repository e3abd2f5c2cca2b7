package processor

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
	"github.com/journeys/journeys/processor/source"
)

// These tests replay Learning Locker's real write sequences on lungo: its
// xapi-service inserts a statement without person; its persona worker then
// sets person and personaIdentifier with an update of that statement (LL's
// extractPersonasStatementHandler), or with an updateMany over every
// statement of an identifier when a persona is created or two are merged
// (asignIdentifierToStatements); a voiding statement makes it $set voided
// on the target.

const (
	verbAttempted = "http://adlnet.gov/expapi/verbs/attempted"
	verbCompleted = "http://adlnet.gov/expapi/verbs/completed"
)

var llStore = oid(11)

// llBase is the stored time (Unix ms) of statement 0: after the journeys
// are created, so that their completions notify.
var llBase = time.Now().Add(time.Hour).Truncate(time.Second).UnixMilli()

// llJourney needs two "attempted" and then one "completed" statement
// (sequential), with a callback outcome.
func llJourney(id primitive.ObjectID, by journey.TrackBy) *journey.Journey {
	return &journey.Journey{
		ID: id, Organisation: modelOrgs[0], Description: "attempt twice, then complete",
		IsActive: true, IsSequential: true, TrackBy: by,
		CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC(),
		Waypoints: []journey.Waypoint{
			{ID: oid(201), IsActive: true, Count: 2, Order: 0, Conditions: `{"statement.verb.id": "` + verbAttempted + `"}`},
			{ID: oid(202), IsActive: true, Count: 1, Order: 1, Conditions: `{"statement.verb.id": "` + verbCompleted + `"}`},
		},
		Outcomes: []journey.Outcome{{ID: oid(250), IsActive: true, Type: "callback", Callback: "http://example.org/hook"}},
	}
}

// llStatement is a statement document as LL's xapi-service inserts it:
// no person, voided false.
func llStatement(i int, mbox, verb string) bson.D {
	stored := time.UnixMilli(llBase + int64(i)*1000).UTC()
	return bson.D{
		{Key: "_id", Value: llStmtID(i)},
		{Key: "organisation", Value: modelOrgs[0]},
		{Key: "lrs_id", Value: llStore},
		{Key: "stored", Value: primitive.NewDateTimeFromTime(stored)},
		{Key: "timestamp", Value: primitive.NewDateTimeFromTime(stored)},
		{Key: "voided", Value: false},
		{Key: "active", Value: true},
		{Key: "statement", Value: bson.D{
			{Key: "actor", Value: bson.D{{Key: "objectType", Value: "Agent"}, {Key: "mbox", Value: mbox}}},
			{Key: "verb", Value: bson.D{{Key: "id", Value: verb}}},
			{Key: "object", Value: bson.D{{Key: "id", Value: "http://example.com/course/1"}}},
		}},
	}
}

func llStmtID(i int) primitive.ObjectID {
	id := oid(0)
	id[10], id[11] = 0xAA, byte(i)
	return id
}

func (f *pipelineFixture) insertDocs(docs ...bson.D) {
	f.t.Helper()
	for _, d := range docs {
		if _, err := f.db.Collection("statements").InsertOne(context.Background(), d); err != nil {
			f.t.Fatal(err)
		}
	}
}

// assignPersona is LL's persona worker: $set person and personaIdentifier
// on the statements filter selects.
func (f *pipelineFixture) assignPersona(filter bson.D, persona, ident primitive.ObjectID, display string) {
	f.t.Helper()
	_, err := f.db.Collection("statements").UpdateMany(context.Background(), filter, bson.D{{Key: "$set", Value: bson.D{
		{Key: "personaIdentifier", Value: ident},
		{Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: display}}},
	}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

// void is LL's voiding of a stored statement.
func (f *pipelineFixture) void(id primitive.ObjectID) {
	f.t.Helper()
	_, err := f.db.Collection("statements").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "voided", Value: true}}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

// record returns owner's progress in journey j (zero when absent).
func (f *pipelineFixture) record(j primitive.ObjectID, owner []byte) (progress.Record, bool) {
	f.t.Helper()
	v, ok, err := f.store.Progress(j, owner)
	if err != nil {
		f.t.Fatal(err)
	}
	var rec progress.Record
	if ok {
		if err := rec.Decode(v); err != nil {
			f.t.Fatal(err)
		}
	}
	return rec, ok
}

// deliveries counts the callbacks queued so far.
func (f *pipelineFixture) deliveries() int {
	f.t.Helper()
	n := 0
	if err := f.store.ScanOutbox(func(_, _ []byte) error { n++; return nil }); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// settle waits until cond, which reads only durable state or atomic
// counters (the pipeline runs meanwhile), holds.
func (f *pipelineFixture) settle(what string, cond func() bool) {
	f.t.Helper()
	waitUntil(f.t, what, cond)
}

// journeyCommitted reports whether the pipeline has committed journey j's
// state.
func (f *pipelineFixture) journeyCommitted(j primitive.ObjectID) bool {
	f.t.Helper()
	_, ok, err := f.store.JourneyMeta(j)
	if err != nil {
		f.t.Fatal(err)
	}
	return ok
}

// committedThrough reports whether the committed checkpoint covers the
// statements stored up to stored (Unix ms).
func (f *pipelineFixture) committedThrough(stored int64) bool {
	f.t.Helper()
	v, ok, err := f.store.Checkpoint()
	if err != nil {
		f.t.Fatal(err)
	}
	if !ok {
		return false
	}
	cp, err := decodeCheckpoint(v)
	return err == nil && cp.LastStored >= stored
}

func counts(rec progress.Record) []uint32 {
	var out []uint32
	for _, w := range rec.Attempt.Waypoints {
		out = append(out, w.Count)
	}
	return out
}

// TestPersonaAssignedByUpdate: statements inserted without person do not
// count for a persona-tracked journey; LL's worker then assigns them, one
// update per statement in reverse order, and they count in (stored, _id)
// order: the attempt completes at the stored time of the completing
// statement, with one callback. The same sequence with the daemon stopped
// between the inserts and the updates gives the same state.
func TestPersonaAssignedByUpdate(t *testing.T) {
	for _, restart := range []bool{false, true} {
		f := newPipelineFixture(t)
		jid := oid(150)
		f.insertJourney(llJourney(jid, journey.TrackByPersona))
		f.start()
		f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
		f.insertDocs(
			llStatement(1, "mailto:ann@example.com", verbAttempted),
			llStatement(2, "mailto:ann@example.com", verbAttempted),
			llStatement(3, "mailto:ann@example.com", verbCompleted),
		)
		f.settle("inserts applied", func() bool { return f.committedThrough(llBase + 3000) })
		persona, ident := oid(21), oid(31)
		owner := journey.PersonaKey(persona)
		if _, ok := f.record(jid, owner); ok {
			t.Fatal("progress before any persona was assigned")
		}
		if restart {
			f.stop()
		}
		for i := 3; i >= 1; i-- {
			f.assignPersona(bson.D{{Key: "_id", Value: llStmtID(i)}}, persona, ident, "Ann")
		}
		if restart {
			f.start()
		}
		f.settle("persona progress", func() bool { rec, _ := f.record(jid, owner); return rec.Done() })
		f.stop()
		rec, _ := f.record(jid, owner)
		if rec.Attempt.Number != 1 || rec.Attempt.CompletedAt != llBase+3000 || rec.CreatedAt != llBase+1000 {
			t.Errorf("restart %v: attempt %d completed at %d, created %d; want attempt 1 completed by statement 3, created by statement 1",
				restart, rec.Attempt.Number, rec.Attempt.CompletedAt, rec.CreatedAt)
		}
		if got := rec.Attempt.Waypoints[0].Refs; len(got) != 2 || got[0].Statement != llStmtID(1) || got[1].Statement != llStmtID(2) {
			t.Errorf("restart %v: first waypoint refs %v, want statements 1 and 2 in stored order", restart, got)
		}
		if rec.Display != "Ann" {
			t.Errorf("display %q", rec.Display)
		}
		if n := f.deliveries(); n != 1 {
			t.Errorf("restart %v: %d callbacks, want 1", restart, n)
		}
		if f.p.Stats().OwnerRecomputes.Load() == 0 {
			t.Error("no owner recompute counted")
		}
	}
}

// TestPersonaMerge: one attempt and the completion of Ann are under
// persona A; her other identifier's attempt is under persona B, so neither
// completes (the sequential journey needs two attempts first). LL merges B into A with an
// updateMany over that identifier's statements: A's progress is rebuilt
// from all three in stored order (complete, one callback), and B's is gone.
func TestPersonaMerge(t *testing.T) {
	f := newPipelineFixture(t)
	jid := oid(151)
	f.insertJourney(llJourney(jid, journey.TrackByPersona))
	f.start()
	f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
	a, b := oid(21), oid(22)
	identX, identY := oid(31), oid(32)
	f.insertDocs(
		llStatement(1, "mailto:ann@example.com", verbAttempted),
		llStatement(2, "mailto:ann@work.example.com", verbAttempted),
		llStatement(3, "mailto:ann@example.com", verbCompleted),
	)
	f.assignPersona(bson.D{{Key: "statement.actor.mbox", Value: "mailto:ann@example.com"}}, a, identX, "Ann")
	f.assignPersona(bson.D{{Key: "statement.actor.mbox", Value: "mailto:ann@work.example.com"}}, b, identY, "Ann (work)")
	f.settle("split progress", func() bool {
		ra, _ := f.record(jid, journey.PersonaKey(a))
		rb, _ := f.record(jid, journey.PersonaKey(b))
		return len(counts(ra)) == 2 && counts(ra)[0] == 1 && len(counts(rb)) == 2 && counts(rb)[0] == 1
	})
	if n := f.deliveries(); n != 0 {
		t.Fatalf("%d callbacks before the merge", n)
	}

	f.assignPersona(bson.D{{Key: "personaIdentifier", Value: identY}}, a, identY, "Ann")
	f.settle("merged progress", func() bool { ra, _ := f.record(jid, journey.PersonaKey(a)); return ra.Done() })
	if _, ok := f.record(jid, journey.PersonaKey(b)); ok {
		t.Error("the merged-away persona has progress")
	}
	f.stop()
	ra, _ := f.record(jid, journey.PersonaKey(a))
	if ra.Attempt.CompletedAt != llBase+3000 {
		t.Errorf("merged attempt completed at %d, want statement 3's stored time", ra.Attempt.CompletedAt)
	}
	if n := f.deliveries(); n != 1 {
		t.Errorf("%d callbacks after the merge, want 1", n)
	}
}

// TestVoidedByUpdate: a completed attempt loses its completing statement to
// LL's voiding: the owner's progress drops back (in the actor- and the
// persona-tracked journey), and a new completing statement completes
// attempt 1 again without a second callback (it already fired).
func TestVoidedByUpdate(t *testing.T) {
	for _, by := range []journey.TrackBy{journey.TrackByActor, journey.TrackByPersona} {
		f := newPipelineFixture(t)
		jid := oid(152)
		f.insertJourney(llJourney(jid, by))
		f.start()
		f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
		persona := oid(21)
		var docs []bson.D
		for i, verb := range []string{verbAttempted, verbAttempted, verbCompleted} {
			d := llStatement(i+1, "mailto:ann@example.com", verb)
			d = append(d, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: "Ann"}}})
			docs = append(docs, d)
		}
		f.insertDocs(docs...)
		owner := journey.PersonaKey(persona)
		if by == journey.TrackByActor {
			owner = []byte("mmailto:ann@example.com")
		}
		f.settle("completed", func() bool { rec, _ := f.record(jid, owner); return rec.Done() })
		if n := f.deliveries(); n != 1 {
			t.Fatalf("%v: %d callbacks, want 1", by, n)
		}

		f.void(llStmtID(3))
		f.settle("voided statement stops counting", func() bool { rec, _ := f.record(jid, owner); return !rec.Done() })
		rec, _ := f.record(jid, owner)
		if c := counts(rec); rec.Attempt.Number != 1 || len(c) != 2 || c[0] != 2 || c[1] != 0 {
			t.Errorf("%v: after voiding attempt %d counts %v, want attempt 1 with [2 0]", by, rec.Attempt.Number, c)
		}

		f.void(llStmtID(1))
		f.settle("second voiding", func() bool { rec, _ := f.record(jid, owner); c := counts(rec); return len(c) == 2 && c[0] == 1 })

		d := llStatement(4, "mailto:ann@example.com", verbAttempted)
		d = append(d, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: "Ann"}}})
		d5 := llStatement(5, "mailto:ann@example.com", verbCompleted)
		d5 = append(d5, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: persona}, {Key: "display", Value: "Ann"}}})
		f.insertDocs(d, d5)
		f.settle("completed again", func() bool { rec, _ := f.record(jid, owner); return rec.Done() })
		f.stop()
		rec, _ = f.record(jid, owner)
		if rec.Attempt.Number != 1 || rec.Attempt.CompletedAt != llBase+5000 {
			t.Errorf("%v: attempt %d completed at %d, want attempt 1 completed by statement 5", by, rec.Attempt.Number, rec.Attempt.CompletedAt)
		}
		if n := f.deliveries(); n != 1 {
			t.Errorf("%v: %d callbacks, want still 1 (attempt 1 already fired)", by, n)
		}
	}
}

// TestAffectedOwners is the decision table of affectedOwners.
func TestAffectedOwners(t *testing.T) {
	actor, a, b := []byte("mmailto:x"), []byte("pA"), []byte("pB")
	type tgt struct {
		by    journey.TrackBy
		owner string
	}
	cases := []struct {
		name                 string
		changed              source.Fields
		actor, persona, prev []byte
		want                 []tgt
	}{
		{"persona first assigned", source.FieldPerson, actor, a, nil, []tgt{{journey.TrackByPersona, "pA"}}},
		{"persona reassigned to the same", source.FieldPerson, actor, a, a, []tgt{{journey.TrackByPersona, "pA"}}},
		{"merge: moved from B to A", source.FieldPerson, actor, a, b, []tgt{{journey.TrackByPersona, "pA"}, {journey.TrackByPersona, "pB"}}},
		{"person removed", source.FieldPerson, actor, nil, b, []tgt{{journey.TrackByPersona, "pB"}}},
		{"voided, with persona", source.FieldVoided, actor, a, nil, []tgt{{journey.TrackByActor, "mmailto:x"}, {journey.TrackByPersona, "pA"}}},
		{"voided, anonymous actor, no persona", source.FieldVoided, nil, nil, nil, nil},
		{"replace", source.FieldsAll, actor, a, b, []tgt{{journey.TrackByActor, "mmailto:x"}, {journey.TrackByPersona, "pA"}, {journey.TrackByPersona, "pB"}}},
		{"nothing that matters", 0, actor, a, b, nil},
	}
	for _, c := range cases {
		var got []tgt
		for _, o := range affectedOwners(c.changed, c.actor, c.persona, c.prev) {
			got = append(got, tgt{o.by, string(o.owner)})
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}

// TestRecomputeSkipsStatementsNotYetDelivered: LL assigns a persona to a
// statement and then inserts another statement of that persona; the
// update's recompute runs (at its commit) before the stream delivers the
// insert, so it reads both statements. Delivered afterwards, the insert
// must not count a second time: it joined the journey's recompute skip
// set. The events are handed to the stopped pipeline one commit at a time,
// which fixes that order.
func TestRecomputeSkipsStatementsNotYetDelivered(t *testing.T) {
	f := newPipelineFixture(t)
	jid := oid(153)
	j := llJourney(jid, journey.TrackByPersona)
	j.Waypoints = j.Waypoints[:1]
	j.Waypoints[0].Count = 3 // a statement counted twice would show
	f.insertJourney(j)
	f.start()
	f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
	f.insertDocs(llStatement(1, "mailto:ann@example.com", verbAttempted))
	f.settle("insert applied", func() bool { return f.committedThrough(llBase + 1000) })
	f.stop()

	persona := oid(21)
	f.assignPersona(bson.D{{Key: "_id", Value: llStmtID(1)}}, persona, oid(31), "Ann")
	s2 := withPerson(llStatement(2, "mailto:ann@example.com", verbAttempted), persona)
	f.insertDocs(s2)
	ctx := context.Background()
	updated, err := f.db.Collection("statements").FindOne(ctx, bson.D{{Key: "_id", Value: llStmtID(1)}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	inserted, _ := bson.Marshal(s2)
	p := f.p
	for _, ev := range []source.Event{
		{Kind: source.KindStatementUpdate, Changed: source.FieldPerson, Doc: updated, ID: llStmtID(1)},
		{Kind: source.KindStatementInsert, Doc: inserted, ID: llStmtID(2)},
	} {
		if err := p.apply(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if err := p.commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rec, _ := f.record(jid, journey.PersonaKey(persona))
	if c := counts(rec); len(c) != 1 || c[0] != 2 {
		t.Errorf("counts %v, want [2]: each statement once", c)
	}
	if refs := rec.Attempt.Waypoints[0].Refs; len(refs) != 2 || refs[0].Statement != llStmtID(1) || refs[1].Statement != llStmtID(2) {
		t.Errorf("refs %v, want statements 1 and 2", refs)
	}
	if m := p.metas[jid]; len(m.RecomputeSkip) == 0 {
		t.Fatal("no recompute skip entries kept")
	}
	// A statement stored more than SkewMargin (1 minute) later: the
	// entries can no longer be delivered, and go.
	later, _ := bson.Marshal(llStatement(100, "mailto:bob@example.com", verbAttempted))
	if err := p.apply(ctx, source.Event{Kind: source.KindStatementInsert, Doc: later}); err != nil {
		t.Fatal(err)
	}
	if err := p.commit(ctx); err != nil {
		t.Fatal(err)
	}
	if m := p.metas[jid]; len(m.RecomputeSkip) != 0 || p.engine.journeys[jid].rskip != nil {
		t.Errorf("recompute skip entries %v after the stream moved past them", m.RecomputeSkip)
	}
	v, _, err := f.store.JourneyMeta(jid)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := decodeMeta(v); err != nil || len(m.RecomputeSkip) != 0 {
		t.Errorf("stored meta keeps %v (%v)", m.RecomputeSkip, err)
	}
}

// TestRecomputesCoalesced: LL's updateMany moving 20 statements to a
// persona produces 20 change events; read in one batch (handed to the
// stopped pipeline, then one commit), they cost one recompute of the
// persona, with the same result as one per event.
func TestRecomputesCoalesced(t *testing.T) {
	f := newPipelineFixture(t)
	jid := oid(154)
	j := llJourney(jid, journey.TrackByPersona)
	j.Waypoints = j.Waypoints[:1]
	j.Waypoints[0].Count = 25
	f.insertJourney(j)
	f.start()
	f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
	for i := 1; i <= 20; i++ {
		f.insertDocs(llStatement(i, "mailto:ann@example.com", verbAttempted))
	}
	f.settle("inserts applied", func() bool { return f.committedThrough(llBase + 20000) })
	f.stop()

	persona := oid(21)
	f.assignPersona(bson.D{{Key: "statement.actor.mbox", Value: "mailto:ann@example.com"}}, persona, oid(31), "Ann")
	// The 20 update events as one batch reads them, then its commit.
	p := f.p
	before := p.Stats().OwnerRecomputes.Load()
	ids := make([]int, 20)
	for i := range ids {
		ids[i] = i + 1
	}
	f.applyUpdates(source.FieldPerson, ids...)
	if n := p.Stats().OwnerRecomputes.Load() - before; n != 1 {
		t.Errorf("%d recomputes for one updateMany read in one batch, want 1", n)
	}
	if rec, _ := f.record(jid, journey.PersonaKey(persona)); len(counts(rec)) != 1 || counts(rec)[0] != 20 {
		t.Errorf("counts %v, want [20]", counts(rec))
	}
}

// TestRecomputeDeferredDuringRecalculation: a persona update read while
// the journey recalculates is not applied beside the recalculation (its
// scan or its pending log may hold the statement as it was before): it is
// kept in the journey's meta and runs when the recalculation hands over.
// The stopped pipeline is driven step by step.
func TestRecomputeDeferredDuringRecalculation(t *testing.T) {
	f := newPipelineFixture(t)
	jid := oid(155)
	f.insertJourney(llJourney(jid, journey.TrackByPersona))
	f.start()
	f.settle("journey loaded", func() bool { return f.journeyCommitted(jid) })
	f.insertDocs(
		llStatement(1, "mailto:ann@example.com", verbAttempted),
		llStatement(2, "mailto:ann@example.com", verbAttempted),
		llStatement(3, "mailto:ann@example.com", verbCompleted),
	)
	f.settle("inserts applied", func() bool { return f.committedThrough(llBase + 3000) })
	f.stop()

	ctx := context.Background()
	p := f.p
	f.requestRecalculation(jid)
	persona := oid(21)
	f.assignPersona(bson.D{{Key: "statement.actor.mbox", Value: "mailto:ann@example.com"}}, persona, oid(31), "Ann")
	before := p.Stats().OwnerRecomputes.Load()
	f.applyUpdates(source.FieldPerson, 1, 2, 3)
	if n := p.Stats().OwnerRecomputes.Load() - before; n != 0 {
		t.Fatalf("%d recomputes beside the running recalculation, want 0", n)
	}
	if d := p.metas[jid].DeferredRecomputes; len(d) != 1 || d[0].By != journey.TrackByPersona || string(d[0].Owner) != string(journey.PersonaKey(persona)) {
		t.Fatalf("deferred %v, want the persona once", d)
	}

	p.finishRecalculation(p.jobs[jid]) // the hand-over is done
	if err := p.commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := p.Stats().OwnerRecomputes.Load() - before; n != 1 {
		t.Errorf("%d recomputes at the hand-over, want 1", n)
	}
	if d := p.metas[jid].DeferredRecomputes; len(d) != 0 {
		t.Errorf("deferred %v left after the hand-over", d)
	}
	if rec, _ := f.record(jid, journey.PersonaKey(persona)); !rec.Done() {
		t.Errorf("persona progress %v, want complete", counts(rec))
	}
}

func bsonElems(t *testing.T, doc bson.Raw) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	return d
}
