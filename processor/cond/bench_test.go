// Reproduce the figures with:
//
//	go test -run=^$ -bench=BenchmarkMatch -benchmem -count=3 ./processor/cond/
//
// One op is one statement arriving as raw BSON (as the change stream
// delivers it) evaluated against every condition of a set, as the engine
// does for each active waypoint.

package cond_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/cond"
)

// benchPoolSize statements are generated once and cycled, so the working set
// resembles a stream of distinct documents rather than one hot document.
const benchPoolSize = 1024

// benchFixture is the statement pool and the generator's options, from which
// conditions aimed at the pool are built.
type benchFixture struct {
	pool []bson.Raw
	opts xapitest.Options
}

func newBenchFixture() benchFixture {
	g := xapitest.New(1, xapitest.Options{Actors: 200})
	f := benchFixture{pool: make([]bson.Raw, benchPoolSize), opts: g.Options()}
	for i := range f.pool {
		f.pool[i] = g.Next()
	}
	return f
}

// mixedConditions returns the seed journey's two conditions plus six
// exercising $or, $in, $regex, $elemMatch, $exists and a score range. The
// second result is the same set for mongokit, which has no $regex: the
// regex condition is replaced by the $in of exactly the object ids it
// matches among generated statements (Options.Activities is 20), so both
// sets select the same statements.
func mixedConditions(f benchFixture) (ours, theirs []string) {
	common := []string{
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/commented"}`,
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed", "statement.object.definition.type": "http://adlnet.gov/expapi/activities/course"}`,
		`{"$or": [{"statement.verb.id": "http://adlnet.gov/expapi/verbs/passed"}, {"statement.verb.id": "http://adlnet.gov/expapi/verbs/answered", "statement.result.success": true}]}`,
		fmt.Sprintf(`{"statement.verb.id": {"$in": ["http://adlnet.gov/expapi/verbs/attempted", "http://adlnet.gov/expapi/verbs/launched", "http://adlnet.gov/expapi/verbs/experienced"]}, "lrs_id": {"$oid": %q}}`, f.opts.Store.Hex()),
		fmt.Sprintf(`{"statement.context.contextActivities.parent": {"$elemMatch": {"id": %q}}}`, xapitest.ActivityID(xapitest.TypeCourse, 3)),
		`{"statement.result": {"$exists": true}, "statement.verb.id": {"$in": ["http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/failed"]}}`,
		`{"statement.result.score.scaled": {"$gte": 0.8, "$lte": 1}, "statement.object.definition.type": {"$in": ["http://adlnet.gov/expapi/activities/assessment", "http://adlnet.gov/expapi/activities/question"]}}`,
	}
	regex := `{"statement.object.id": {"$regex": "^https://lms\\.example\\.org/activities/(course|module)/1", "$options": "i"}}`
	var ids []string
	for _, typ := range []string{xapitest.TypeCourse, xapitest.TypeModule} {
		for n := 0; n < f.opts.Activities; n++ {
			if n == 1 || n/10 == 1 {
				ids = append(ids, fmt.Sprintf("%q", xapitest.ActivityID(typ, n)))
			}
		}
	}
	in := fmt.Sprintf(`{"statement.object.id": {"$in": [%s]}}`, strings.Join(ids, ", "))
	return append(slices.Clip(common), regex), append(common, in)
}

// eqInExistsConditions returns conditions using only equality, $in and
// $exists, which Match must evaluate without allocating.
func eqInExistsConditions(f benchFixture) []string {
	return []string{
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/commented"}`,
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed", "statement.object.definition.type": "http://adlnet.gov/expapi/activities/course"}`,
		fmt.Sprintf(`{"statement.verb.id": {"$in": ["http://adlnet.gov/expapi/verbs/attempted", "http://adlnet.gov/expapi/verbs/launched"]}, "lrs_id": {"$oid": %q}}`, f.opts.Store.Hex()),
		`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/answered", "statement.result.response": {"$exists": true}}`,
		`{"person._id": {"$exists": true}, "statement.object.definition.type": {"$in": ["http://adlnet.gov/expapi/activities/module", "http://adlnet.gov/expapi/activities/lesson"]}}`,
		fmt.Sprintf(`{"statement.context.contextActivities.parent.id": %q}`, xapitest.ActivityID(xapitest.TypeCourse, 3)),
		`{"voided": false, "statement.actor.mbox": "mailto:learner3@example.org"}`,
		`{"statement.result.score": {"$exists": false}, "statement.verb.id": "http://adlnet.gov/expapi/verbs/experienced"}`,
	}
}

func compileAll(tb testing.TB, conds []string) []*cond.Matcher {
	tb.Helper()
	ms := make([]*cond.Matcher, len(conds))
	for i, c := range conds {
		m, err := cond.CompileString(c)
		if err != nil {
			tb.Fatalf("compile %s: %v", c, err)
		}
		ms[i] = m
	}
	return ms
}

func parseAll(tb testing.TB, conds []string) []bson.D {
	tb.Helper()
	qs := make([]bson.D, len(conds))
	for i, c := range conds {
		if err := bson.UnmarshalExtJSON([]byte(c), false, &qs[i]); err != nil {
			tb.Fatalf("parse %s: %v", c, err)
		}
	}
	return qs
}

// matchOurs evaluates every matcher on doc and returns how many matched.
func matchOurs(ms []*cond.Matcher, doc bson.Raw) int {
	n := 0
	for _, m := range ms {
		if m.Match(doc) {
			n++
		}
	}
	return n
}

// matchMongokit decodes doc once and evaluates every query on it, returning
// how many matched.
func matchMongokit(tb testing.TB, qs []bson.D, doc bson.Raw) int {
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for i := range qs {
		ok, err := mongokit.Match(&d, &qs[i])
		if err != nil {
			tb.Fatalf("mongokit: %v", err)
		}
		if ok {
			n++
		}
	}
	return n
}

// TestBenchConditionsAgree guards the comparison BenchmarkMatch makes: over
// the pool, both implementations select the same statements for every
// condition, and every condition selects some but not all of them.
func TestBenchConditionsAgree(t *testing.T) {
	f := newBenchFixture()
	ours, theirs := mixedConditions(f)
	sets := [][2][]string{{ours, theirs}, {eqInExistsConditions(f), eqInExistsConditions(f)}}
	for _, set := range sets {
		ms, qs := compileAll(t, set[0]), parseAll(t, set[1])
		for i := range ms {
			hits := 0
			for j, doc := range f.pool {
				a := ms[i].Match(doc)
				b := matchMongokit(t, qs[i:i+1], doc) == 1
				if a != b {
					t.Fatalf("statement %d, condition %s: ours %v, mongokit %v", j, set[0][i], a, b)
				}
				if a {
					hits++
				}
			}
			if hits == 0 || hits == len(f.pool) {
				t.Errorf("condition %s matches %d of %d statements; a benchmark condition should discriminate", set[0][i], hits, len(f.pool))
			}
		}
	}
}

// TestMatchEqInExistsAllocs asserts the zero-allocation promise the engine's
// hot path relies on.
func TestMatchEqInExistsAllocs(t *testing.T) {
	f := newBenchFixture()
	ms := compileAll(t, eqInExistsConditions(f))
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		matchOurs(ms, f.pool[i%len(f.pool)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Match with equality/$in/$exists conditions allocates %.1f times per statement, want 0", allocs)
	}
}

func BenchmarkMatch(b *testing.B) {
	f := newBenchFixture()
	ours, theirs := mixedConditions(f)

	b.Run("ours", func(b *testing.B) {
		benchOurs(b, f.pool, compileAll(b, ours))
	})
	b.Run("ours-eq-in-exists", func(b *testing.B) {
		benchOurs(b, f.pool, compileAll(b, eqInExistsConditions(f)))
	})
	b.Run("mongokit", func(b *testing.B) {
		qs := parseAll(b, theirs)
		b.ReportAllocs()
		hits, i := 0, 0
		for b.Loop() {
			hits += matchMongokit(b, qs, f.pool[i%len(f.pool)])
			i++
		}
		b.ReportMetric(float64(hits)/float64(i), "matches/op")
	})
}

func benchOurs(b *testing.B, pool []bson.Raw, ms []*cond.Matcher) {
	b.ReportAllocs()
	hits, i := 0, 0
	for b.Loop() {
		hits += matchOurs(ms, pool[i%len(pool)])
		i++
	}
	b.ReportMetric(float64(hits)/float64(i), "matches/op")
}
