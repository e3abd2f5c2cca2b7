package cond_test

// The differential test: random documents and queries, evaluated by our
// matcher and by lungo's mongokit.Match (an independent Go implementation of
// MongoDB query semantics). Any disagreement must be recognised by a row of
// knownDiffs, which documents where lungo departs from MongoDB; anything else
// fails the test.
//
// Reproduce or vary a run with:
//
//	COND_DIFF_SEED=42 COND_DIFF_CASES=50000 go test -run=TestDifferential ./processor/cond/
//
// Every case derives its own generator from (seed, index), so a failure
// report's seed and index identify the case exactly.
//
// The generator is in diff_gen_test.go and the known differences in
// diff_known_test.go.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/cond"
)

// diffCase is one generated (query, document) pair in all the forms the
// oracles and the predicates need.
type diffCase struct {
	query    bson.D
	doc      bson.D
	rawQuery bson.Raw
	rawDoc   bson.Raw
}

// diffOutcome is what each implementation said about a case.
type diffOutcome struct {
	ours, lungo       bool
	oursErr, lungoErr error
}

func TestDifferential(t *testing.T) {
	seed := envInt(t, "COND_DIFF_SEED", 1)
	cases := int(envInt(t, "COND_DIFF_CASES", 100_000))

	rows := knownDiffs()
	perRow := make([]int, len(rows))
	var matched, rejected, unexplained int
	for i := 0; i < cases; i++ {
		c := newDiffCase(seed, i)
		out := evaluate(c)
		switch {
		case out.oursErr != nil && out.lungoErr != nil:
			rejected++
			continue
		case out.oursErr == nil && out.lungoErr == nil && out.ours == out.lungo:
			if out.ours {
				matched++
			}
			continue
		}
		if row := classify(rows, c, out); row >= 0 {
			perRow[row]++
			continue
		}
		unexplained++
		if unexplained <= 20 {
			t.Errorf("unexplained disagreement, COND_DIFF_SEED=%d case %d: ours=%v (err %v), lungo=%v (err %v)\n  query: %s\n  doc:   %s",
				seed, i, out.ours, out.oursErr, out.lungo, out.lungoErr, extJSON(c.rawQuery), extJSON(c.rawDoc))
		}
	}

	for i, n := range perRow {
		t.Logf("known difference %-40q %6d cases", rows[i].name, n)
	}
	t.Logf("%d cases: %d matched by both, %d rejected by both, %d unexplained disagreements", cases, matched, rejected, unexplained)
	if unexplained > 0 {
		t.Errorf("%d unexplained disagreements (first 20 shown above)", unexplained)
	}
	// The generator is tuned so that both outcomes are common; a lopsided
	// mix would mean most cases test nothing.
	if evaluated := cases - rejected; matched < evaluated/10 || matched > evaluated*9/10 {
		t.Errorf("%d of %d evaluated cases matched; want between 10%% and 90%%", matched, evaluated)
	}
	if rejected > cases/100 {
		t.Errorf("%d of %d generated queries were rejected by both; the generator should produce valid queries", rejected, cases)
	}
}

// evaluate runs both implementations on c.
func evaluate(c diffCase) diffOutcome {
	var out diffOutcome
	m, err := cond.Compile(c.rawQuery)
	if err != nil {
		out.oursErr = err
	} else {
		out.ours = m.Match(c.rawDoc)
	}
	// mongokit works on decoded documents; decode fresh copies because
	// nothing promises that Match leaves its arguments untouched.
	var doc, query bson.D
	if err := bson.Unmarshal(c.rawDoc, &doc); err != nil {
		out.lungoErr = fmt.Errorf("decode doc: %w", err)
		return out
	}
	if err := bson.Unmarshal(c.rawQuery, &query); err != nil {
		out.lungoErr = fmt.Errorf("decode query: %w", err)
		return out
	}
	out.lungo, out.lungoErr = mongokit.Match(&doc, &query)
	return out
}

// classify returns the index of the first known difference recognising c, or
// -1. Errors are never explained away: both implementations must accept the
// same queries.
func classify(rows []knownDiff, c diffCase, out diffOutcome) int {
	if out.oursErr != nil || out.lungoErr != nil {
		return -1
	}
	for i, row := range rows {
		if row.applies(c) {
			return i
		}
	}
	return -1
}

// newDiffCase generates case index of the run seeded with seed.
func newDiffCase(seed int64, index int) diffCase {
	g := &diffGen{r: rand.New(rand.NewPCG(uint64(seed), uint64(index)))}
	c := diffCase{query: g.query(0), doc: g.doc(0)}
	c.rawQuery = mustMarshal(c.query)
	c.rawDoc = mustMarshal(c.doc)
	return c
}

func mustMarshal(d bson.D) bson.Raw {
	raw, err := bson.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("marshal %v: %v", d, err))
	}
	return raw
}

// extJSON renders raw as canonical Extended JSON, which keeps numeric types
// apart (1 vs 1.0 vs NumberLong) so a reported case can be replayed exactly.
func extJSON(raw bson.Raw) string {
	b, err := bson.MarshalExtJSON(raw, true, false)
	if err != nil {
		return fmt.Sprintf("<%v: %x>", err, []byte(raw))
	}
	return string(b)
}

func envInt(t *testing.T, name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}
