package processor

// Reproduce:
//
//	go test -run='^$' -bench=BenchmarkStatementConditions -count=3 ./processor/
//
// One op is one statement of the engine benchmark's pool against 1,000
// journeys: the candidate index probe and the evaluation of every
// candidate waypoint, walking the document per path as Matcher.Match does
// (walk) or through the index's path memo as the engine does (memo).

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
)

func BenchmarkStatementConditions(b *testing.B) {
	org := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
	var js []*live
	for _, jd := range benchJourneys(org, 1000) {
		c, err := journey.Compile(jd)
		if err != nil {
			b.Fatal(err)
		}
		l := &live{c: c}
		for _, w := range c.Waypoints {
			l.required = append(l.required, w.Matcher.Required())
		}
		js = append(js, l)
	}
	oi := buildOrgIndex(js)
	pool := benchStatements(org, 1000)
	walkPaths := make([]cond.Path, len(oi.paths))
	for i, pi := range oi.paths {
		walkPaths[i] = cond.ParsePath(pi.name)
	}
	for _, memo := range []bool{false, true} {
		name := "walk"
		if memo {
			name = "memo"
		}
		b.Run(name, func(b *testing.B) {
			var cands []wpRef
			var key []byte
			matched := 0
			for i := 0; i < b.N; i++ {
				doc := pool[i%len(pool)]
				cands = cands[:0]
				visit := func(pi *pathIndex) func(v bson.RawValue) bool {
					return func(v bson.RawValue) bool {
						if v.Type == bsontype.String {
							key = append(append(key[:0], byte(v.Type)), v.Value...)
							cands = append(cands, pi.values[string(key)]...)
						}
						return true
					}
				}
				if memo {
					oi.memo.Reset(doc)
					for p := range oi.paths {
						oi.memo.Visit(oi.paths[p].id, visit(&oi.paths[p]))
					}
				} else {
					for p := range oi.paths {
						walkPaths[p].Visit(doc, visit(&oi.paths[p]))
					}
				}
				for _, ref := range cands {
					l := oi.journeys[ref.j]
					var ok bool
					if memo {
						ok = l.bound[ref.w].Match(oi.memo)
					} else {
						ok = l.c.Waypoints[ref.w].Matcher.Match(doc)
					}
					if ok {
						matched++
					}
				}
			}
			b.ReportMetric(float64(matched)/float64(b.N), "matches/stmt")
		})
	}
}
