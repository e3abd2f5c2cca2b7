package cond

import "testing"

// BenchmarkOperator measures one condition against the typical stored
// statement of alloc_test.go, per operator family, to show what each costs
// on its own (BenchmarkMatch in bench_test.go measures a realistic set).
//
//	go test -run=^$ -bench=BenchmarkOperator -benchmem ./processor/cond/
func BenchmarkOperator(b *testing.B) {
	doc := mustDoc(b, statementDoc)
	cases := []struct{ name, query string }{
		{"eq-string", `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`},
		{"eq-miss", `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/attempted"}`},
		{"in-10", `{"statement.context.contextActivities.grouping.id": {"$in": ["p0","p1","p2","p3","p4","p5","p6","p7","p8","http://example.com/program"]}}`},
		{"exists", `{"statement.result.completion": {"$exists": true}}`},
		{"range-decimal", `{"statement.result.score.scaled": {"$gte": {"$numberDecimal": "0.8"}}}`},
		{"regex", `{"statement.object.id": {"$regex": "^http://example\\.com/course/1/", "$options": "i"}}`},
		{"elemMatch", `{"statement.context.contextActivities.parent": {"$elemMatch": {"id": "http://example.com/course/1"}}}`},
	}
	for _, c := range cases {
		m := mustCompile(b, c.query)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(doc)
			}
		})
	}
}
