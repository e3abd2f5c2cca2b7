package processor

import (
	"fmt"
	"math/rand"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
)

// TestIndexMemoAgreesWithWalk checks the engine's wiring of the path memo
// (index.go, Engine.collect, evalWaypoint) against walking every path:
// over generated journeys and statements whose condition paths hold
// arrays, nested documents, scalars on the way and missing fields, the
// candidates collect marks through the memo are exactly those a walk of
// every indexed path finds, and every waypoint of every journey evaluated
// through its Bound answers as its Matcher does on the statement.
func TestIndexMemoAgreesWithWalk(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	org := oid(1)
	e, _ := engineFixture(t)
	for n := 0; n < 40; n++ {
		jd := &journey.Journey{ID: oid(byte(100 + n)), Organisation: org, IsActive: true, TrackBy: journey.TrackByActor}
		for w := 0; w < 1+r.Intn(5); w++ {
			jd.Waypoints = append(jd.Waypoints, journey.Waypoint{ID: oid(byte(200 + w)), IsActive: true, Count: 1, Conditions: memoCondition(r)})
		}
		c, err := journey.Compile(jd)
		if err != nil {
			t.Fatalf("journey %d: %v", n, err)
		}
		e.SetJourney(c, 0)
	}
	e.refreshIndexes()
	oi := e.orgs[org]
	if oi == nil || len(oi.paths) == 0 {
		t.Fatal("no candidate index with indexed paths")
	}
	walks := make([]cond.Path, len(oi.paths))
	for i, pi := range oi.paths {
		walks[i] = cond.ParsePath(pi.name)
	}
	var evaluated, matched, candidates int
	for s := 0; s < 3000; s++ {
		doc := memoStatement(r, org)
		// The candidates a walk of every indexed path finds.
		want := map[wpRef]bool{}
		for i, p := range walks {
			p.Visit(doc, func(v bson.RawValue) bool {
				switch v.Type {
				case bsontype.String, bsontype.ObjectID, bsontype.Boolean:
					for _, ref := range oi.paths[i].values[string(append([]byte{byte(v.Type)}, v.Value...))] {
						want[ref] = true
					}
				}
				return true
			})
		}
		for _, ref := range oi.always {
			want[ref] = true
		}
		e.collect(oi, doc)
		got := map[wpRef]bool{}
		for _, j := range e.sc.touched {
			l := oi.journeys[j]
			for w := range l.c.Waypoints {
				if l.mask&(1<<uint(w)) != 0 {
					got[wpRef{j: j, w: int32(w)}] = true
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statement %d: candidates %v through the memo, %v by walking\n  %s", s, got, want, doc)
		}
		candidates += len(got)
		for _, l := range oi.journeys {
			for w, wp := range l.c.Waypoints {
				e.sc.live, e.sc.doc = l, doc
				plain, memo := wp.Matcher.Match(doc), e.evalWaypoint(l, w)
				if plain != memo {
					t.Fatalf("statement %d, journey %s waypoint %d: memo %v, Match %v\n  %s", s, l.c.ID.Hex(), w, memo, plain, doc)
				}
				evaluated++
				if plain {
					matched++
				}
			}
		}
	}
	t.Logf("%d evaluations, %d matched, %d candidates", evaluated, matched, candidates)
	if matched == 0 || matched == evaluated || candidates == 0 {
		t.Fatalf("%d of %d evaluations matched, %d candidates: the generator tests nothing", matched, evaluated, candidates)
	}
}

var (
	memoVerbs   = []string{"v1", "v2", "v3"}
	memoObjects = []string{"o1", "o2", "o3", "o4"}
	memoGroups  = []string{"g1", "g2"}
)

// memoCondition draws a waypoint condition over paths that statements
// hold as strings, arrays or documents (see memoStatement).
func memoCondition(r *rand.Rand) string {
	pick := func(s []string) string { return s[r.Intn(len(s))] }
	switch r.Intn(8) {
	case 0:
		return fmt.Sprintf(`{"statement.verb.id": %q}`, pick(memoVerbs))
	case 1:
		return fmt.Sprintf(`{"statement.verb.id": %q, "statement.object.id": {"$in": [%q, %q]}}`, pick(memoVerbs), pick(memoObjects), pick(memoObjects))
	case 2:
		return fmt.Sprintf(`{"statement.context.contextActivities.grouping.id": %q}`, pick(memoGroups))
	case 3:
		return fmt.Sprintf(`{"statement.object.id": %q, "statement.object.definition.type": {"$exists": false}}`, pick(memoObjects))
	case 4:
		return fmt.Sprintf(`{"statement.verb.id": {"$ne": %q}, "statement.object.definition.type": "t"}`, pick(memoVerbs))
	case 5:
		return fmt.Sprintf(`{"statement.context.contextActivities.grouping": {"$elemMatch": {"id": %q}}, "statement.verb.id": {"$nin": [%q]}}`, pick(memoGroups), pick(memoVerbs))
	case 6:
		return `{"statement.result.score.raw": {"$gte": 5}, "statement.result": {"$exists": true}}`
	default:
		return fmt.Sprintf(`{"$or": [{"statement.object.id": %q}, {"statement.verb.id": null}]}`, pick(memoObjects))
	}
}

// memoStatement draws a statement document whose condition paths hold a
// string, an array of strings, a document, a scalar where a document is
// expected, or nothing.
func memoStatement(r *rand.Rand, org primitive.ObjectID) bson.Raw {
	pick := func(s []string) string { return s[r.Intn(len(s))] }
	stmt := bson.D{{Key: "actor", Value: bson.D{{Key: "mbox", Value: fmt.Sprintf("mailto:%d@example.org", r.Intn(5))}}}}
	switch r.Intn(6) {
	case 0: // no verb
	case 1:
		stmt = append(stmt, bson.E{Key: "verb", Value: bson.D{{Key: "id", Value: bson.A{pick(memoVerbs), pick(memoVerbs)}}}})
	case 2:
		stmt = append(stmt, bson.E{Key: "verb", Value: "v1"}) // a scalar on the way
	case 3:
		stmt = append(stmt, bson.E{Key: "verb", Value: bson.A{bson.D{{Key: "id", Value: pick(memoVerbs)}}}})
	default:
		stmt = append(stmt, bson.E{Key: "verb", Value: bson.D{{Key: "id", Value: pick(memoVerbs)}}})
	}
	obj := bson.D{{Key: "id", Value: pick(memoObjects)}}
	switch r.Intn(4) {
	case 0:
		obj = append(obj, bson.E{Key: "definition", Value: bson.D{{Key: "type", Value: "t"}}})
	case 1:
		obj = append(obj, bson.E{Key: "definition", Value: bson.D{{Key: "type", Value: bson.A{"t", "u"}}}})
	case 2:
		obj = bson.D{{Key: "id", Value: bson.A{pick(memoObjects), pick(memoObjects)}}}
	}
	stmt = append(stmt, bson.E{Key: "object", Value: obj})
	switch r.Intn(3) {
	case 0:
		groups := bson.A{}
		for i := 0; i < r.Intn(3); i++ {
			groups = append(groups, bson.D{{Key: "id", Value: pick(memoGroups)}})
		}
		stmt = append(stmt, bson.E{Key: "context", Value: bson.D{{Key: "contextActivities", Value: bson.D{{Key: "grouping", Value: groups}}}}})
	case 1:
		stmt = append(stmt, bson.E{Key: "context", Value: bson.D{{Key: "contextActivities", Value: bson.D{{Key: "grouping", Value: bson.D{{Key: "id", Value: pick(memoGroups)}}}}}}})
	}
	if r.Intn(2) == 0 {
		stmt = append(stmt, bson.E{Key: "result", Value: bson.D{{Key: "score", Value: bson.D{{Key: "raw", Value: r.Intn(10)}}}}})
	}
	raw, err := bson.Marshal(bson.D{
		{Key: "_id", Value: primitive.NewObjectID()},
		{Key: "organisation", Value: org},
		{Key: "statement", Value: stmt},
	})
	if err != nil {
		panic(err)
	}
	return raw
}
