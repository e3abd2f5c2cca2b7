package processor

// Reproduce:
//
//	go test -run='^$' -bench=BenchmarkEngine -benchtime=200000x -count=3 ./processor/
//
// One op is one statement: candidate lookup, condition evaluation,
// progress update and its share of a synced Pebble batch commit (one commit
// per 1,000 statements), from a synthetic in-memory source.

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

const (
	benchOwners    = 10000
	benchWaypoints = 5
	benchBatch     = 1000
	benchPool      = 20000
)

var benchVerbs = []string{
	"http://adlnet.gov/expapi/verbs/experienced",
	"http://adlnet.gov/expapi/verbs/commented",
	"http://adlnet.gov/expapi/verbs/answered",
	"http://adlnet.gov/expapi/verbs/passed",
	"http://adlnet.gov/expapi/verbs/completed",
}

// benchJourneys builds n journeys of benchWaypoints waypoints, each about
// its own course: waypoint w wants verb w on the course's module w (the
// last one: completing the course itself), the way an LRS's journeys are
// usually written. Half are sequential, half repeatable.
func benchJourneys(org primitive.ObjectID, n int) []*journey.Journey {
	var out []*journey.Journey
	for j := 0; j < n; j++ {
		jd := &journey.Journey{
			ID:           primitive.NewObjectIDFromTimestamp(time.Unix(int64(j), 0)),
			Organisation: org,
			Description:  fmt.Sprintf("course %d", j),
			IsActive:     true,
			IsSequential: j%2 == 0,
			IsRepeatable: j%4 < 2,
			TrackBy:      journey.TrackByActor,
		}
		for w := 0; w < benchWaypoints; w++ {
			cond := fmt.Sprintf(`{"statement.verb.id": %q, "statement.object.id": %q}`, benchVerbs[w], benchObject(j, w))
			if w == benchWaypoints-1 {
				cond = fmt.Sprintf(`{"statement.verb.id": {"$in": [%q, %q]}, "statement.object.id": %q, "statement.object.definition.type": "http://adlnet.gov/expapi/activities/course"}`,
					benchVerbs[w], benchVerbs[w-1], benchObject(j, w))
			}
			jd.Waypoints = append(jd.Waypoints, journey.Waypoint{
				ID: primitive.NewObjectIDFromTimestamp(time.Unix(int64(j*10+w), 0)), IsActive: true,
				Conditions: cond, Count: 1 + w%2, Order: float64(w),
			})
		}
		out = append(out, jd)
	}
	return out
}

func benchObject(j, w int) string {
	if w == benchWaypoints-1 {
		return fmt.Sprintf("http://example.com/course/%d", j)
	}
	return fmt.Sprintf("http://example.com/course/%d/module/%d", j, w)
}

// benchStatements makes a pool of realistic statements: 80% aimed at a
// random waypoint of a random journey, the rest at activities no journey
// mentions.
func benchStatements(org primitive.ObjectID, journeys int) []bson.Raw {
	g := xapitest.New(7, xapitest.Options{Organisation: org, Actors: benchOwners})
	r := rand.New(rand.NewSource(7))
	pool := make([]bson.Raw, benchPool)
	for i := range pool {
		spec := xapitest.Spec{Actor: g.Actor(r.Intn(benchOwners))}
		if r.Intn(5) != 0 {
			j, w := r.Intn(journeys), r.Intn(benchWaypoints)
			spec.Verb, spec.Object = benchVerbs[w], benchObject(j, w)
			if w == benchWaypoints-1 {
				spec.ActivityType = "http://adlnet.gov/expapi/activities/course"
			} else {
				spec.ActivityType = "http://adlnet.gov/expapi/activities/module"
			}
		}
		pool[i] = g.Make(spec)
	}
	return pool
}

func BenchmarkEngine(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("journeys=%d", n), func(b *testing.B) {
			org := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
			st, err := state.Open(b.TempDir(), state.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e := NewEngine(st, Options{})
			for _, jd := range benchJourneys(org, n) {
				c, err := journey.Compile(jd)
				if err != nil {
					b.Fatal(err)
				}
				e.SetJourney(c, 0)
			}
			pool := benchStatements(org, n)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := e.Statement(pool[i%len(pool)]); err != nil {
					b.Fatal(err)
				}
				if e.Pending() == benchBatch {
					if err := e.Commit([]byte(fmt.Sprint(i))); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := e.Commit([]byte("end")); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "stmts/s")
			b.ReportMetric(float64(e.Stats().Matched.Load())/float64(b.N), "matches/stmt")
		})
	}
}
