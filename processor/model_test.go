package processor

import (
	"flag"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
	"github.com/journeys/journeys/state"
)

var modelSeed = flag.Int64("model.seed", 1, "seed of TestModel's first round")

// The vocabulary of the model test is small so that statements match
// waypoints often and owners complete journeys, repeatedly.
var (
	modelOrgs    = []primitive.ObjectID{oid(1), oid(2)}
	modelStores  = []primitive.ObjectID{oid(11), oid(12), oid(13)}
	modelVerbs   = []string{"http://adlnet.gov/expapi/verbs/commented", "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/attempted", "http://adlnet.gov/expapi/verbs/passed"}
	modelObjects = []string{"http://example.com/course/1", "http://example.com/course/2", "http://example.com/module/1", "http://example.com/module/2"}
	modelTypes   = []string{"http://adlnet.gov/expapi/activities/course", "http://adlnet.gov/expapi/activities/module", "http://adlnet.gov/expapi/activities/assessment"}
	modelPersons = []primitive.ObjectID{oid(21), oid(22), oid(23), oid(24)}
)

func oid(n byte) primitive.ObjectID {
	var id primitive.ObjectID
	id[0], id[11] = 0x5f, n
	return id
}

// modelConditions draws a waypoint condition: most are indexable
// (equality, $in), some are not ($or, $regex, $exists, $nin), so both the
// candidate index and its fallback are exercised.
func modelConditions(r *rand.Rand) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	switch r.Intn(9) {
	case 0, 1:
		return fmt.Sprintf(`{"statement.verb.id": %s}`, q(modelVerbs[r.Intn(len(modelVerbs))]))
	case 2:
		return fmt.Sprintf(`{"statement.verb.id": %s, "statement.object.definition.type": %s}`,
			q(modelVerbs[r.Intn(len(modelVerbs))]), q(modelTypes[r.Intn(len(modelTypes))]))
	case 3:
		return fmt.Sprintf(`{"statement.object.id": {"$in": [%s, %s]}}`,
			q(modelObjects[r.Intn(len(modelObjects))]), q(modelObjects[r.Intn(len(modelObjects))]))
	case 4:
		return fmt.Sprintf(`{"$or": [{"statement.verb.id": %s}, {"statement.object.id": %s}]}`,
			q(modelVerbs[r.Intn(len(modelVerbs))]), q(modelObjects[r.Intn(len(modelObjects))]))
	case 5:
		return `{"statement.verb.id": {"$regex": "(comment|pass)ed$"}}`
	case 6:
		return fmt.Sprintf(`{"statement.result.success": true, "statement.object.definition.type": %s}`, q(modelTypes[r.Intn(len(modelTypes))]))
	case 7:
		return `{"statement.result.score.scaled": {"$gte": 0.5}}`
	default:
		return fmt.Sprintf(`{"statement.verb.id": {"$nin": [%s]}, "lrs_id": {"$oid": %q}}`,
			q(modelVerbs[r.Intn(len(modelVerbs))]), modelStores[r.Intn(len(modelStores))].Hex())
	}
}

func modelJourney(r *rand.Rand, n int) *journey.Journey {
	j := &journey.Journey{
		ID:           oid(byte(100 + n)),
		Organisation: modelOrgs[r.Intn(4)/3], // mostly the first
		Description:  fmt.Sprintf("journey %d", n),
		IsActive:     r.Intn(8) != 0,
		IsSequential: r.Intn(2) == 0,
		IsRepeatable: r.Intn(2) == 0,
		TrackBy:      journey.TrackByActor,
	}
	if r.Intn(4) == 0 {
		j.TrackBy = journey.TrackByPersona
	}
	if r.Intn(3) == 0 {
		j.Sources = []primitive.ObjectID{modelStores[r.Intn(len(modelStores))]}
	}
	nw := 1 + r.Intn(6)
	for w := 0; w < nw; w++ {
		j.Waypoints = append(j.Waypoints, journey.Waypoint{
			ID:          oid(byte(200 + w)),
			Description: fmt.Sprintf("waypoint %d", w),
			IsActive:    w == 0 || r.Intn(5) != 0,
			Conditions:  modelConditions(r),
			Count:       1 + r.Intn(5),
			Order:       float64(r.Intn(4)), // ties on purpose
		})
	}
	if r.Intn(2) == 0 {
		j.Outcomes = []journey.Outcome{{ID: oid(250), IsActive: true, Type: "callback", Callback: "http://example.org/hook"}}
	}
	return j
}

type modelStmt struct {
	doc     bson.Raw
	id      primitive.ObjectID
	org     primitive.ObjectID
	lrs     primitive.ObjectID
	voided  bool
	actor   string // "" when the actor has no IFI
	person  primitive.ObjectID
	hasPers bool
	stored  int64
	ts      int64
}

func modelStatement(r *rand.Rand, i int) modelStmt {
	s := modelStmt{
		id:     primitive.NewObjectIDFromTimestamp(time.Unix(int64(1700000000+i), 0)),
		org:    modelOrgs[r.Intn(5)/4],
		lrs:    modelStores[r.Intn(len(modelStores))],
		voided: r.Intn(20) == 0,
		stored: 1700000000000 + int64(i)*1000,
		ts:     1690000000000 + int64(r.Intn(1000000)),
	}
	s.id[11] = byte(i)
	actor := bson.D{{Key: "objectType", Value: "Agent"}, {Key: "name", Value: fmt.Sprintf("Learner %d", r.Intn(3))}}
	switch k := r.Intn(12); {
	case k < 8:
		s.actor = fmt.Sprintf("mailto:learner%d@example.com", r.Intn(4))
		actor = append(actor, bson.E{Key: "mbox", Value: s.actor})
	case k < 11:
		name := fmt.Sprintf("acct%d", r.Intn(2))
		s.actor = "account:" + name
		actor = append(actor, bson.E{Key: "account", Value: bson.D{{Key: "homePage", Value: "https://lms.example.com"}, {Key: "name", Value: name}}})
	default: // anonymous: no IFI, never tracked by actor
	}
	stmt := bson.D{
		{Key: "id", Value: fmt.Sprintf("stmt-%d", i)},
		{Key: "actor", Value: actor},
		{Key: "verb", Value: bson.D{{Key: "id", Value: modelVerbs[r.Intn(len(modelVerbs))]}}},
		{Key: "object", Value: bson.D{
			{Key: "id", Value: modelObjects[r.Intn(len(modelObjects))]},
			{Key: "definition", Value: bson.D{{Key: "type", Value: modelTypes[r.Intn(len(modelTypes))]}}},
		}},
	}
	if r.Intn(2) == 0 {
		stmt = append(stmt, bson.E{Key: "result", Value: bson.D{
			{Key: "success", Value: r.Intn(2) == 0},
			{Key: "score", Value: bson.D{{Key: "scaled", Value: float64(r.Intn(11)) / 10}}},
		}})
	}
	doc := bson.D{
		{Key: "_id", Value: s.id},
		{Key: "organisation", Value: s.org},
		{Key: "lrs_id", Value: s.lrs},
		{Key: "statement", Value: stmt},
		{Key: "timestamp", Value: primitive.DateTime(s.ts)},
		{Key: "stored", Value: primitive.DateTime(s.stored)},
		{Key: "voided", Value: s.voided},
		{Key: "active", Value: true},
	}
	if r.Intn(6) != 0 {
		s.person, s.hasPers = modelPersons[r.Intn(len(modelPersons))], true
		doc = append(doc, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: s.person}, {Key: "display", Value: "P"}}})
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		panic(err)
	}
	s.doc = raw
	return s
}

// attemptView is the comparable form of an attempt.
type attemptView struct {
	Number      uint32
	Waypoints   []waypointView
	CompletedAt int64
}

type waypointView struct {
	Count       uint32
	Refs        []string
	CompletedAt int64
}

// refModel is the deliberately simple reference implementation of docs/design.md
// §4 and §6: no index, no encoding, no cache, no store; every condition is
// evaluated for every statement.
type refModel struct {
	j        *journey.Journey
	active   []journey.Waypoint // in evaluation order
	matchers []*cond.Matcher
	owners   map[string][]*attemptView
	fires    int
}

func newRefModel(t *testing.T, j *journey.Journey) *refModel {
	m := &refModel{j: j, owners: map[string][]*attemptView{}}
	for _, w := range j.Waypoints {
		if w.IsActive {
			m.active = append(m.active, w)
		}
	}
	if j.IsSequential {
		// Stable sort by order keeps array position for ties.
		for i := 1; i < len(m.active); i++ {
			for k := i; k > 0 && m.active[k].Order < m.active[k-1].Order; k-- {
				m.active[k], m.active[k-1] = m.active[k-1], m.active[k]
			}
		}
	}
	for _, w := range m.active {
		mt, err := cond.CompileString(w.Conditions)
		if err != nil {
			t.Fatalf("compile %s: %v", w.Conditions, err)
		}
		m.matchers = append(m.matchers, mt)
	}
	return m
}

func (m *refModel) owner(s modelStmt) (string, bool) {
	if m.j.TrackBy == journey.TrackByPersona {
		return s.person.Hex(), s.hasPers
	}
	return s.actor, s.actor != ""
}

func (m *refModel) apply(s modelStmt) {
	j := m.j
	if !j.IsActive || len(m.active) == 0 || s.org != j.Organisation || s.voided {
		return
	}
	if len(j.Sources) > 0 {
		found := false
		for _, src := range j.Sources {
			found = found || src == s.lrs
		}
		if !found {
			return
		}
	}
	key, ok := m.owner(s)
	if !ok {
		return
	}
	attempts := m.owners[key]
	var cur *attemptView
	if n := len(attempts); n > 0 {
		cur = attempts[n-1]
	}
	if cur != nil && cur.CompletedAt != 0 && !j.IsRepeatable {
		return
	}
	isNew := cur == nil || cur.CompletedAt != 0
	a := cur
	if isNew {
		a = &attemptView{Number: uint32(len(attempts) + 1), Waypoints: make([]waypointView, len(m.active))}
	}
	countIt := func(i int) {
		w := &a.Waypoints[i]
		w.Count++
		if len(w.Refs) < m.active[i].Count {
			w.Refs = append(w.Refs, fmt.Sprintf("%s@%d", s.id.Hex(), s.ts))
		}
		if int(w.Count) == m.active[i].Count {
			w.CompletedAt = s.stored
		}
	}
	counted := false
	for i := range m.active {
		if a.Waypoints[i].CompletedAt != 0 {
			continue
		}
		if m.matchers[i].Match(s.doc) {
			countIt(i)
			counted = true
		}
		if j.IsSequential {
			break // only the first incomplete waypoint may count
		}
	}
	if !counted {
		return
	}
	if isNew {
		m.owners[key] = append(attempts, a)
	}
	for _, w := range a.Waypoints {
		if w.CompletedAt == 0 {
			return
		}
	}
	a.CompletedAt = s.stored
	if len(j.Outcomes) > 0 {
		m.fires++
	}
}

// storedAttempts reads the engine's view of (journey, owner): the archived
// attempts plus the current one when it is not complete.
func storedAttempts(t *testing.T, st *state.Store, j primitive.ObjectID) map[string][]*attemptView {
	t.Helper()
	out := map[string][]*attemptView{}
	view := func(a progress.Attempt) *attemptView {
		v := &attemptView{Number: a.Number, CompletedAt: a.CompletedAt}
		for _, w := range a.Waypoints {
			wv := waypointView{Count: w.Count, CompletedAt: w.CompletedAt}
			for _, r := range w.Refs {
				wv.Refs = append(wv.Refs, fmt.Sprintf("%s@%d", primitive.ObjectID(r.Statement).Hex(), r.Timestamp))
			}
			v.Waypoints = append(v.Waypoints, wv)
		}
		return v
	}
	err := st.ScanProgress(j, func(owner, value []byte) error {
		var rec progress.Record
		if err := rec.Decode(value); err != nil {
			return err
		}
		ident, err := journey.Ident(owner)
		if err != nil {
			return err
		}
		key := refKeyOf(ident)
		var list []*attemptView
		if err := st.Attempts(j, owner, func(n uint32, v []byte) error {
			a, err := progress.DecodeAttempt(v)
			if err != nil {
				return err
			}
			list = append(list, view(a))
			return nil
		}); err != nil {
			return err
		}
		if !rec.Done() {
			list = append(list, view(rec.Attempt))
		}
		out[key] = list
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refKeyOf maps an API identity back to the reference model's owner key.
func refKeyOf(ident map[string]any) string {
	if p, ok := ident["persona"]; ok {
		return fmt.Sprint(p)
	}
	if m, ok := ident["mbox"]; ok {
		return fmt.Sprint(m)
	}
	if a, ok := ident["account"].(map[string]any); ok {
		return "account:" + fmt.Sprint(a["name"])
	}
	return fmt.Sprint(ident)
}

// TestModel checks the engine (candidate index, progress rules, encoding,
// write-back cache, batching, restarts) against the reference model on
// random journeys and random statement sequences.
func TestModel(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 15
	}
	for round := 0; round < rounds; round++ {
		seed := *modelSeed + int64(round)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runModel(t, seed) })
	}
}

func runModel(t *testing.T, seed int64) {
	r := rand.New(rand.NewSource(seed))
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var docs []*journey.Journey
	var refs []*refModel
	nj := 1 + r.Intn(8)
	for n := 0; n < nj; n++ {
		j := modelJourney(r, n)
		docs = append(docs, j)
		refs = append(refs, newRefModel(t, j))
	}
	newEngine := func() *Engine {
		e := NewEngine(st, Options{})
		for _, j := range docs {
			c, err := journey.Compile(j)
			if err != nil {
				t.Fatalf("compile journey: %v", err)
			}
			e.SetJourney(c, 0)
		}
		return e
	}
	e := newEngine()
	ns := 50 + r.Intn(400)
	for i := 0; i < ns; i++ {
		s := modelStatement(r, i)
		for _, m := range refs {
			m.apply(s)
		}
		if _, err := e.Statement(s.doc); err != nil {
			t.Fatal(err)
		}
		switch r.Intn(40) {
		case 0: // commit and carry on
			if err := e.Commit([]byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		case 1: // commit and restart: everything must come back from the store
			if err := e.Commit([]byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
			e = newEngine()
		}
	}
	if err := e.Commit([]byte("end")); err != nil {
		t.Fatal(err)
	}

	fires := 0
	for n, m := range refs {
		got := storedAttempts(t, st, docs[n].ID)
		want := m.owners
		if len(want) == 0 {
			want = map[string][]*attemptView{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("journey %d (sequential=%v repeatable=%v trackBy=%s):\n got %s\nwant %s",
				n, docs[n].IsSequential, docs[n].IsRepeatable, docs[n].TrackBy, dumpAttempts(got), dumpAttempts(want))
		}
		fires += m.fires
	}
	deliveries := 0
	if err := st.ScanOutbox(func(id, v []byte) error { deliveries++; return nil }); err != nil {
		t.Fatal(err)
	}
	if deliveries != fires {
		t.Errorf("outbox holds %d deliveries, reference fired %d", deliveries, fires)
	}
}

func dumpAttempts(m map[string][]*attemptView) string {
	s := ""
	for k, as := range m {
		s += "\n  " + k + ":"
		for _, a := range as {
			s += fmt.Sprintf(" %+v", *a)
		}
	}
	return s
}
