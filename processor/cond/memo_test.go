package cond_test

// Memoised matching (Bound.Match over a Memo) must give exactly Match's
// answer: the memo only serves paths without arrays and damage, and every
// other path is walked as Match walks it. The oracle here is Match itself,
// which the differential, MongoDB-verified and model tests hold to
// MongoDB's semantics.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/cond"
)

// TestMemoEqualsMatch evaluates groups of generated queries, bound to one
// shared PathTable, on a stream of generated documents through one Memo
// (reset per document, as the engine does), in a random order and twice
// each (the second time from the memo), and compares every answer with
// Match. A quarter of the documents are corrupted at a random byte, so
// that damage on a memoised path is exercised too. Memo.Visit is compared
// with Path.Visit on every path the queries read.
//
//	COND_MEMO_SEED=7 COND_MEMO_CASES=200000 go test -run=TestMemoEqualsMatch ./processor/cond/
func TestMemoEqualsMatch(t *testing.T) {
	seed := envInt(t, "COND_MEMO_SEED", 1)
	cases := int(envInt(t, "COND_MEMO_CASES", 40_000))
	const groupQueries, groupDocs = 8, 50

	var evaluated, matched, memoised, mismatches int
	for g := 0; g*groupDocs < cases; g++ {
		gen := &diffGen{r: rand.New(rand.NewPCG(uint64(seed), uint64(g)))}
		table := cond.NewPathTable()
		var ms []*cond.Matcher
		var bs []cond.Bound
		var paths []cond.Path
		var pathIDs []int32
		for len(ms) < groupQueries {
			q := gen.query(0)
			m, err := cond.Compile(mustMarshal(q))
			if err != nil {
				continue
			}
			ms = append(ms, m)
			bs = append(bs, table.Bind(m))
			// Field paths of the query's top level, for Visit.
			for _, e := range q {
				if e.Key[0] != '$' {
					p := cond.ParsePath(e.Key)
					paths, pathIDs = append(paths, p), append(pathIDs, table.Intern(p))
				}
			}
		}
		memo := table.NewMemo()
		for d := 0; d < groupDocs; d++ {
			doc := mustMarshal(gen.doc(0))
			if gen.r.IntN(4) == 0 {
				doc[gen.r.IntN(len(doc))] = [...]byte{0x00, 0x04, 0x7f, 0xff, 0x13}[gen.r.IntN(5)]
			}
			memo.Reset(doc)
			for round := 0; round < 2; round++ {
				for _, i := range gen.r.Perm(len(ms)) {
					want, got := ms[i].Match(doc), bs[i].Match(memo)
					evaluated++
					if want {
						matched++
					}
					if got != want {
						mismatches++
						if mismatches <= 20 {
							t.Errorf("COND_MEMO_SEED=%d group %d doc %d query %d: memoised %v, Match %v\n  doc: %x",
								seed, g, d, i, got, want, []byte(doc))
						}
					}
				}
			}
			for i, p := range paths {
				want, got := visitAll(func(fn func(bson.RawValue) bool) { p.Visit(doc, fn) }),
					visitAll(func(fn func(bson.RawValue) bool) { memo.Visit(pathIDs[i], fn) })
				if got != want {
					mismatches++
					t.Errorf("COND_MEMO_SEED=%d group %d doc %d: Memo.Visit(%s) = %s, Path.Visit = %s", seed, g, d, p, got, want)
				}
				if want != "" {
					memoised++
				}
			}
		}
	}
	t.Logf("%d evaluations, %d matched, %d path visits with a value, %d mismatches", evaluated, matched, memoised, mismatches)
	if matched < evaluated/10 || matched > evaluated*9/10 {
		t.Errorf("%d of %d evaluations matched; the generator should give both outcomes", matched, evaluated)
	}
}

// visitAll renders every value a visit presents, in order.
func visitAll(visit func(func(bson.RawValue) bool)) string {
	s := ""
	visit(func(v bson.RawValue) bool {
		s += fmt.Sprintf("%d:%x;", v.Type, v.Value)
		return true
	})
	return s
}

// TestMemoTable pins the cases the memo must hand back to the walk, and
// those it serves itself, with several queries sharing each document's
// memo (so that one query's resolution is another's input).
func TestMemoTable(t *testing.T) {
	docs := []string{
		`{"a": {"b": {"c": 1}}, "x": "s"}`,                      // documents all the way
		`{"a": {"b": [{"c": 1}, {"c": 2}]}, "x": ["s", "t"]}`,   // array on the way, array at the end
		`{"a": [{"b": {"c": 2}}], "x": {"0": "s"}}`,             // array at the top, numeric key in a document
		`{"a": {"b": 5}, "x": null}`,                            // scalar on the way, null
		`{"a": {"b": {"c": [1, 2, 3]}}}`,                        // array at the end, missing x
		`{"a": {"b": {"c": {"d": 1}}}, "x": [["s"]]}`,           // document at the end, nested array
		`{"x": [{"y": 1}, {"y": 2}], "a": [[{"b": {"c": 1}}]]}`, // array of arrays
	}
	queries := []string{
		`{"a.b.c": 1}`,
		`{"a.b.c": 2}`,
		`{"a.b.c": {"$exists": false}}`,
		`{"a.b.c": {"$ne": 1}}`,
		`{"a.b.c": {"$nin": [1, 3]}}`,
		`{"a.b.c": {"$in": [null, 2]}}`,
		`{"a.b.c": null}`,
		`{"a.b.c": {"$size": 3}}`,
		`{"a.b.c": {"$elemMatch": {"$gt": 2}}}`,
		`{"a.b": {"$elemMatch": {"c": 2}}}`,
		`{"a.b.c.d": {"$exists": true}}`,
		`{"a.b.c": {"d": 1}}`,
		`{"a.b": 5, "x": null}`,
		`{"a.0.b.c": 2}`,
		`{"x.0": "s"}`,
		`{"x": "s"}`,
		`{"x": {"$type": "array"}}`,
		`{"x": {"$all": ["s", "t"]}}`,
		`{"x.y": 2}`,
		`{"$or": [{"a.b.c": 3}, {"x": {"$not": {"$eq": "s"}}}]}`,
		`{"$nor": [{"a.b.c": 1}], "a.b": {"$exists": true}}`,
	}
	table := cond.NewPathTable()
	var ms []*cond.Matcher
	var bs []cond.Bound
	for _, q := range queries {
		m, err := cond.CompileString(q)
		if err != nil {
			t.Fatalf("CompileString(%s): %v", q, err)
		}
		ms, bs = append(ms, m), append(bs, table.Bind(m))
	}
	memo := table.NewMemo()
	trues := 0
	for _, ds := range docs {
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(ds), false, &doc); err != nil {
			t.Fatal(err)
		}
		memo.Reset(doc)
		for i := len(ms) - 1; i >= 0; i-- { // reverse: later queries resolve first
			want := ms[i].Match(doc)
			if got := bs[i].Match(memo); got != want {
				t.Errorf("%s on %s: memoised %v, Match %v", queries[i], ds, got, want)
			}
			if want {
				trues++
			}
		}
	}
	if trues == 0 || trues == len(docs)*len(queries) {
		t.Errorf("%d of %d true: the table tests nothing", trues, len(docs)*len(queries))
	}

	// A memo of another table, and a Bound of nothing, are not misread.
	other := cond.NewPathTable().NewMemo()
	doc, _ := bson.Marshal(bson.D{{Key: "x", Value: "s"}})
	other.Reset(doc)
	if !bs[15].Match(other) {
		t.Error(`{"x": "s"} through another table's memo: no match`)
	}
	if (cond.Bound{}).Match(other) {
		t.Error("the zero Bound matched")
	}
}

// Paths interned after a memo was made are served from the next Reset on.
func TestMemoGrowsWithTable(t *testing.T) {
	table := cond.NewPathTable()
	memo := table.NewMemo()
	doc, _ := bson.Marshal(bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: "v"}}}})
	memo.Reset(doc)
	m, err := cond.CompileString(`{"a.b": "v", "a.c": {"$exists": false}}`)
	if err != nil {
		t.Fatal(err)
	}
	b := table.Bind(m)
	if !b.Match(memo) { // ids beyond the memo's slots: walked
		t.Error("no match before Reset")
	}
	memo.Reset(doc)
	if !b.Match(memo) {
		t.Error("no match after Reset")
	}
	if table.Len() != 3 { // a, a.b, a.c
		t.Errorf("table holds %d ids, want 3", table.Len())
	}
}
