package processor

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/processor/journey"
)

// waitRecalculations waits until n recalculations started and none runs.
func (f *pipelineFixture) waitRecalculations(n uint64) {
	f.t.Helper()
	s := f.p.Stats()
	waitUntil(f.t, "recalculations done", func() bool {
		return s.Recalculations.Load() >= n && s.RecalcRunning.Load() == 0
	})
}

func activeCount(js []*journey.Journey) uint64 {
	n := uint64(0)
	for _, j := range js {
		if j.IsActive {
			n++
		}
	}
	return n
}

// TestCoalescedRecalculation: journeys pending together share one scan pass,
// and each ends equal to a replay of every statement (as its own
// recalculation would); journeys created at once while the pipeline runs
// also share passes, and one changed in the middle restarts alone.
func TestCoalescedRecalculation(t *testing.T) {
	f := newPipelineFixture(t)
	r := rand.New(rand.NewSource(8))
	var stmts []modelStmt
	for i := 0; i < 1500; i++ {
		stmts = append(stmts, modelStatement(r, i))
	}
	f.insertStatements(stmts)
	js := pipelineJourneys(r, 20)
	for _, j := range js {
		f.insertJourney(j)
	}
	// A fresh start: every journey recalculates, in one pass.
	f.start()
	f.waitRecalculations(activeCount(js))
	if n := f.p.Stats().ScanPasses.Load(); n != 1 {
		t.Errorf("%d scan passes for %d journeys pending together, want 1", n, activeCount(js))
	}
	if n := f.p.Stats().Scanned.Load(); n > uint64(len(stmts)) {
		t.Errorf("the pass read %d statements, more than the %d stored", n, len(stmts))
	}
	f.stop()
	checkAgainstModel(t, f.store, js, stmts)

	// Created at once while running, one of them changed mid-way.
	f.start()
	more := pipelineJourneys(r, 40)[20:]
	for i, j := range more {
		j.ID = primitive.NewObjectID()
		if i == 0 {
			j.IsActive = true
		}
	}
	docs := make([]any, len(more))
	for i, j := range more {
		docs[i] = j
	}
	if _, err := f.db.Collection("journeys").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	more[0].Waypoints[0].Count++
	if _, err := f.db.Collection("journeys").ReplaceOne(context.Background(), bson.M{"_id": more[0].ID}, more[0]); err != nil {
		t.Fatal(err)
	}
	f.waitRecalculations(activeCount(more) + 1)
	passes := f.p.Stats().ScanPasses.Load()
	f.stop()
	t.Logf("%d journeys created at once (one changed again): %d scan passes", activeCount(more), passes)
	if passes > 4 {
		t.Errorf("%d scan passes for %d journeys created at once", passes, activeCount(more))
	}
	checkAgainstModel(t, f.store, append(js, more...), stmts)
}

// TestBurstSharesPass: journeys created one request at a time in a burst,
// while the pipeline runs and a scan takes longer than the burst, share one
// scan pass (the young pass starts over to take in each newcomer, see
// regather), and their results equal a replay.
func TestBurstSharesPass(t *testing.T) {
	f := newPipelineFixture(t)
	f.scanRate = 2000 // 1,500 statements: a pass of about 0.75 s
	r := rand.New(rand.NewSource(9))
	var stmts []modelStmt
	for i := 0; i < 1500; i++ {
		stmts = append(stmts, modelStatement(r, i))
	}
	f.insertStatements(stmts)
	f.start()
	js := pipelineJourneys(r, 20)
	for _, j := range js {
		j.IsActive = true
		f.insertJourney(j)
		time.Sleep(10 * time.Millisecond) // one API request after another
	}
	f.waitRecalculations(uint64(len(js)))
	passes, restarts := f.p.Stats().ScanPasses.Load(), f.p.Stats().ScanRestarts.Load()
	f.stop()
	if passes-restarts != 1 {
		t.Errorf("%d scan passes (%d restarted young) for %d journeys created one at a time in a burst, want 1", passes-restarts, restarts, len(js))
	}
	checkAgainstModel(t, f.store, js, stmts)
}

// TestPushdownSuperset: on lungo, the filter a scan pushes to the server
// selects every statement the in-process matcher accepts for the journey
// (a superset: the matcher still decides), over generated journeys and
// statements.
func TestPushdownSuperset(t *testing.T) {
	f := newPipelineFixture(t)
	r := rand.New(rand.NewSource(12))
	var stmts []modelStmt
	for i := 0; i < 600; i++ {
		stmts = append(stmts, modelStatement(r, i))
	}
	f.insertStatements(stmts)
	bound := stmts[len(stmts)-1].stored
	coll := f.db.Collection("statements")
	checked, refused, narrowed := 0, 0, 0
	for n := 0; n < 200; n++ {
		j := modelJourney(r, n)
		j.IsActive = true
		c, err := journey.Compile(j)
		if err != nil {
			t.Fatal(err)
		}
		filter := pushdown([]*journey.Compiled{c}, bound)
		cur, err := coll.Find(context.Background(), filter, options.Find())
		if err != nil {
			refused++ // lungo lacks the operator ($regex): the scan falls back
			continue
		}
		selected := map[primitive.ObjectID]bool{}
		for cur.Next(context.Background()) {
			var doc bson.Raw
			if err := cur.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			id, _ := doc.Lookup("_id").ObjectIDOK()
			selected[id] = true
		}
		if err := cur.Err(); err != nil {
			refused++
			continue
		}
		cur.Close(context.Background())
		checked++
		if len(selected) < len(stmts) {
			narrowed++
		}
		for _, s := range stmts {
			if s.voided || len(c.Sources) > 0 && !c.HasSource(s.lrs) {
				continue
			}
			for _, w := range c.Waypoints {
				if w.Matcher.Match(s.doc) && !selected[s.id] {
					t.Fatalf("journey %d waypoint %q matches statement %s, which the pushed filter %v does not select", n, j.Waypoints[w.Position].Conditions, s.id.Hex(), filter)
				}
			}
		}
	}
	t.Logf("%d journeys checked (%d narrowed the scan), %d filters refused by lungo", checked, narrowed, refused)
	if checked < 100 || narrowed == 0 {
		t.Errorf("only %d journeys checked, %d narrowed: the property says little", checked, narrowed)
	}
}

// TestRecalculationRestartsAlone: a journey that changes again while a scan
// pass runs for it and others leaves the pass and restarts in the next one;
// the others finish in the first pass, and every journey ends equal to a
// replay.
func TestRecalculationRestartsAlone(t *testing.T) {
	f := newPipelineFixture(t)
	f.scanRate = 2000 // 1,500 statements: the pass lasts ~0.75 s
	r := rand.New(rand.NewSource(21))
	var stmts []modelStmt
	for i := 0; i < 1500; i++ {
		stmts = append(stmts, modelStatement(r, i))
	}
	f.insertStatements(stmts)
	js := pipelineJourneys(r, 6)
	for _, j := range js {
		j.IsActive = true
		f.insertJourney(j)
	}
	f.start() // a fresh start: all six in one pass
	s := f.p.Stats()
	waitUntil(t, "the pass to be under way", func() bool { return s.Scanned.Load() > 0 })
	if s.RecalcRunning.Load() != int64(len(js)) {
		t.Fatalf("%d recalculations running when the change comes, want %d: the scan was too fast to test anything", s.RecalcRunning.Load(), len(js))
	}
	js[0].Waypoints[0].Count++
	if _, err := f.db.Collection("journeys").ReplaceOne(context.Background(), bson.M{"_id": js[0].ID}, js[0]); err != nil {
		t.Fatal(err)
	}
	f.waitRecalculations(uint64(len(js)) + 1)
	passes := s.ScanPasses.Load()
	scanned := s.Scanned.Load()
	f.stop()
	if passes != 2 {
		t.Errorf("%d scan passes, want 2: the first for all, the second for the changed journey alone", passes)
	}
	if scanned > 2*uint64(len(stmts)) {
		t.Errorf("%d statements scanned for two passes over %d", scanned, len(stmts))
	}
	checkAgainstModel(t, f.store, js, stmts)
}

func TestRegather(t *testing.T) {
	org, other := primitive.ObjectID{1}, primitive.ObjectID{2}
	now := time.UnixMilli(10_000)
	job := func(o primitive.ObjectID, startedAt int64, inPass, handover bool) *recalcJob {
		j := &recalcJob{c: &journey.Compiled{Organisation: o}, st: recalcState{StartedAt: startedAt, Handover: handover}}
		if inPass {
			j.pass = &scanPass{}
		}
		return j
	}
	for _, tc := range []struct {
		name    string
		age     time.Duration // of the pass
		members []*recalcJob
		jobs    []*recalcJob // besides the members
		want    bool
	}{
		{"young pass, newcomer", 50 * time.Millisecond, []*recalcJob{job(org, 9_950, true, false)}, []*recalcJob{job(org, 9_990, false, false)}, true},
		{"no newcomer", 50 * time.Millisecond, []*recalcJob{job(org, 9_950, true, false)}, nil, false},
		{"pass too old", 100 * time.Millisecond, []*recalcJob{job(org, 9_900, true, false)}, []*recalcJob{job(org, 9_990, false, false)}, false},
		{"oldest member pending a second already", 10 * time.Millisecond, []*recalcJob{job(org, 9_000, true, false), job(org, 9_990, true, false)}, []*recalcJob{job(org, 9_995, false, false)}, false},
		{"newcomer of another organisation", 50 * time.Millisecond, []*recalcJob{job(org, 9_950, true, false)}, []*recalcJob{job(other, 9_990, false, false)}, false},
		{"handing over is no newcomer", 50 * time.Millisecond, []*recalcJob{job(org, 9_950, true, false)}, []*recalcJob{job(org, 9_990, false, true)}, false},
	} {
		ps := &scanPass{org: org, started: now.Add(-tc.age), members: map[primitive.ObjectID]*recalcJob{}}
		jobs := map[primitive.ObjectID]*recalcJob{}
		for _, m := range tc.members {
			id := primitive.NewObjectID()
			ps.members[id], jobs[id] = m, m
		}
		for _, j := range tc.jobs {
			jobs[primitive.NewObjectID()] = j
		}
		if got := regather(ps, jobs, now); got != tc.want {
			t.Errorf("%s: regather %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTakeTurns(t *testing.T) {
	for _, tc := range []struct {
		name      string
		out       int
		local     bool
		sinceLive time.Duration
		want      bool
	}{
		{"local, statements flowing, a chunk out", 1, true, 10 * time.Millisecond, true},
		{"nothing handed over: read at once", 0, true, 10 * time.Millisecond, false},
		{"a server's scanner reads ahead", 1, false, 10 * time.Millisecond, false},
		{"no statements for longer than the window", 2, true, liveWindow + time.Millisecond, false},
		{"never any statement", 1, true, time.Duration(time.Now().UnixNano()), false},
		{"at the window's edge", 1, true, liveWindow, true},
	} {
		if got := takeTurns(tc.out, tc.local, tc.sinceLive); got != tc.want {
			t.Errorf("%s: takeTurns %v, want %v", tc.name, got, tc.want)
		}
	}
}
