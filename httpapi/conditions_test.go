package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/lrs"
)

// testerPath is the condition tester's route.
const testerPath = "/api/v2/journey/conditions/test"

// testerResult is the tester's answer as a client reads it.
type testerResult struct {
	Conditions string `json:"conditions"`
	Limit      int    `json:"limit"`
	Scanned    int    `json:"scanned"`
	Voided     int    `json:"voided"`
	Matched    int    `json:"matched"`
	Indexed    bool   `json:"indexed"`
	IndexPath  string `json:"indexPath"`
	Samples    []struct {
		ID     string `json:"_id"`
		XAPIID string `json:"id"`
		Actor  string `json:"actor"`
		Verb   struct{ ID, Display string }
		Object struct{ ID, Display string }
		Stored string `json:"stored"`
	} `json:"samples"`
	Verbs []struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	} `json:"verbs"`
}

// testerFixture is what the tester's statements are, in stored order.
type testerFixture struct {
	verbs  []string // organisation A's statements' verbs
	voided []bool
	ids    []string // their _id
	actors []string // their actor's name
}

// newTesterHarness starts the API with the tester over the lungo statements
// collection, holding nA statements of organisation A interleaved with
// statements of organisation B (every third statement stored is B's, with
// the same verbs). Statement i of A has verb verbs[i%len(verbs)] and every
// seventh is voided.
func newTesterHarness(t *testing.T, nA int) (*harness, testerFixture) {
	t.Helper()
	h := newHarness(t, func(c *Config) {
		c.Statements = lrs.CollectionStatements{Coll: c.DB.Collection("statements")}
	})
	verbs := []string{xapitest.VerbLaunched, xapitest.VerbCompleted, xapitest.VerbLaunched, xapitest.VerbPassed}
	gen := xapitest.New(3, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 10})
	var fx testerFixture
	var docs []any
	for i := range nA {
		v := verbs[i%len(verbs)]
		if i%2 == 0 {
			// B's statement, stored in between.
			docs = append(docs, gen.Make(xapitest.Spec{Verb: v, Organisation: orgB, Store: storeB}))
		}
		voided := i%7 == 3
		d := gen.Make(xapitest.Spec{Verb: v, Voided: voided})
		docs = append(docs, d)
		fx.verbs = append(fx.verbs, v)
		fx.voided = append(fx.voided, voided)
		fx.ids = append(fx.ids, d.Lookup("_id").ObjectID().Hex())
		fx.actors = append(fx.actors, d.Lookup("statement", "actor", "name").StringValue())
	}
	if _, err := h.db.Collection("statements").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	return h, fx
}

// expected counts the fixture's newest limit statements of verb, not voided,
// and returns the indexes of the matching ones, newest first.
func (fx testerFixture) expected(verb string, limit int) (matched []int, voided int) {
	for i := len(fx.verbs) - 1; i >= 0 && i >= len(fx.verbs)-limit; i-- {
		if fx.voided[i] {
			voided++
			continue
		}
		if verb == "" || fx.verbs[i] == verb {
			matched = append(matched, i)
		}
	}
	return matched, voided
}

func testerBody(conditions string, limit, samples int) string {
	b, _ := json.Marshal(map[string]any{"conditions": conditions, "limit": limit, "samples": samples})
	return string(b)
}

// TestConditionTesterCounts: the tester counts the matches among the newest
// statements and shows the newest of them, leaving voided statements out.
func TestConditionTesterCounts(t *testing.T) {
	h, fx := newTesterHarness(t, 600)
	for _, tc := range []struct {
		verb         string
		limit, smpls int
	}{
		{xapitest.VerbLaunched, 100, 5},
		{xapitest.VerbPassed, 257, 3},
		{xapitest.VerbCompleted, 10_000, 20},
		{xapitest.VerbLaunched, 1, 5},
		{xapitest.VerbExperienced, 600, 5}, // none
	} {
		var got testerResult
		h.expect(http.StatusOK, http.MethodPost, testerPath, credA,
			testerBody(`{"statement.verb.id": "`+tc.verb+`"}`, tc.limit, tc.smpls), &got)
		matched, voided := fx.expected(tc.verb, tc.limit)
		scanned := min(tc.limit, len(fx.verbs))
		if got.Scanned != scanned || got.Matched != len(matched) || got.Voided != voided || got.Limit != tc.limit {
			t.Errorf("%s in %d: scanned %d matched %d voided %d, want %d, %d, %d",
				tc.verb, tc.limit, got.Scanned, got.Matched, got.Voided, scanned, len(matched), voided)
		}
		var wantIDs, gotIDs []string
		for _, i := range matched[:min(len(matched), tc.smpls)] {
			wantIDs = append(wantIDs, fx.ids[i])
		}
		for _, s := range got.Samples {
			gotIDs = append(gotIDs, s.ID)
			if s.Verb.ID != tc.verb || s.XAPIID == "" || s.Object.ID == "" || s.Stored == "" || s.Actor == "" {
				t.Errorf("sample %+v is incomplete", s)
			}
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s in %d: samples %v, want the newest matches %v", tc.verb, tc.limit, gotIDs, wantIDs)
		}
		if !got.Indexed || got.IndexPath != "statement.verb.id" {
			t.Errorf("a verb condition is served by the index: got %v %q", got.Indexed, got.IndexPath)
		}
	}
	// The actor shown is the learner's name.
	var got testerResult
	h.expect(http.StatusOK, http.MethodPost, testerPath, credA, testerBody(`{}`, 600, 1), &got)
	matched, _ := fx.expected("", 600)
	if len(got.Samples) != 1 || got.Samples[0].Actor != fx.actors[matched[0]] {
		t.Errorf("sample actor %+v, want %q", got.Samples, fx.actors[matched[0]])
	}
	// The verbs seen, most used first: launched is every other statement.
	counts := map[string]int{}
	for _, v := range fx.verbs {
		counts[v]++
	}
	if len(got.Verbs) != 3 || got.Verbs[0].ID != xapitest.VerbLaunched || got.Verbs[0].Count != counts[xapitest.VerbLaunched] ||
		got.Verbs[1].Count != counts[got.Verbs[1].ID] || got.Verbs[2].Count != counts[got.Verbs[2].ID] {
		t.Errorf("verbs %+v, want counts %v", got.Verbs, counts)
	}
	if got.Matched != len(matched) || got.Indexed {
		t.Errorf("{} matches %d (want %d) and is not indexed (got %v)", got.Matched, len(matched), got.Indexed)
	}
}

// TestConditionTesterOrganisation: a principal tests against its own
// organisation's statements only.
func TestConditionTesterOrganisation(t *testing.T) {
	h, fx := newTesterHarness(t, 300)
	var a, b testerResult
	body := testerBody(`{"statement.verb.id": "`+xapitest.VerbPassed+`"}`, 10_000, 20)
	h.expect(http.StatusOK, http.MethodPost, testerPath, credA, body, &a)
	h.expect(http.StatusOK, http.MethodPost, testerPath, credB, body, &b)
	matched, _ := fx.expected(xapitest.VerbPassed, 10_000)
	if a.Scanned != 300 || a.Matched != len(matched) {
		t.Errorf("organisation A: scanned %d matched %d, want 300, %d", a.Scanned, a.Matched, len(matched))
	}
	// B has one statement per two of A's, none voided, verbs in the same cycle.
	if b.Scanned != 150 || b.Voided != 0 || b.Matched != 0 {
		// A's statements i ≡ 0 (mod 2) had B's twin of the same verb: launched
		// or passed… count them independently.
		wantB := 0
		for i := 0; i < 300; i += 2 {
			if fx.verbs[i] == xapitest.VerbPassed {
				wantB++
			}
		}
		if b.Scanned != 150 || b.Matched != wantB {
			t.Errorf("organisation B: scanned %d matched %d voided %d, want 150, %d, 0", b.Scanned, b.Matched, b.Voided, wantB)
		}
	}
	own := map[string]bool{}
	for _, id := range fx.ids {
		own[id] = true
	}
	for _, s := range a.Samples {
		if !own[s.ID] {
			t.Errorf("A's sample %s is not A's", s.ID)
		}
	}
	for _, s := range b.Samples {
		if own[s.ID] {
			t.Errorf("B's sample %s is A's", s.ID)
		}
	}
}

// TestConditionTesterBadRequests: bounds, unknown fields and invalid
// conditions are 400s naming the field and, for conditions, the operator.
func TestConditionTesterBadRequests(t *testing.T) {
	h, _ := newTesterHarness(t, 5)
	ok := `{"statement.verb.id": "v"}`
	for _, tc := range []struct {
		body, field, message string
	}{
		{testerBody(ok, 0, 5), "limit", "from 1 to 10000"},
		{testerBody(ok, 10_001, 5), "limit", "from 1 to 10000"},
		{`{"conditions": "{}", "limit": "5"}`, "limit", "from 1 to 10000"},
		{`{"conditions": "{}", "limit": 2.5}`, "limit", "from 1 to 10000"},
		{testerBody(ok, 10, 21), "samples", "from 0 to 20"},
		{`{"conditions": "{}", "sample": 3}`, "sample", "unknown field"},
		{`{"limit": 3}`, "conditions", "is required"},
		{`{"conditions": null}`, "conditions", "is required"},
		{`{"conditions": 5}`, "conditions", "must be a string or an object"},
		{testerBody(`{"$where": "this.a == 1"}`, 10, 1), "conditions", "$where: unsupported operator"},
		{testerBody(`{"statement.verb.id": {"$foo": 1}}`, 10, 1), "conditions", "statement.verb.id: $foo: unknown operator"},
		{testerBody(`{"a": {"$regex": "(?<=x)y"}}`, 10, 1), "conditions", "$regex"},
		{`{"conditions": {"$expr": {"$eq": [1, 1]}}}`, "conditions", "$expr: unsupported operator"},
		{`{"conditions": {"person": {"$personaIdent": "x"}}}`, "conditions", "$personaIdent"},
		{testerBody(`{"a": `, 10, 1), "conditions", "invalid JSON"},
		// What a save refuses (docs/design.md §11) is refused as typed.
		{testerBody(`{"a": "`+strings.Repeat("x", 70_000)+`"}`, 10, 1), "conditions", "exceed the condition size limit of 65536 bytes"},
	} {
		var e struct {
			Message string `json:"message"`
			Errors  []struct{ Field, Message string }
		}
		h.expect(http.StatusBadRequest, http.MethodPost, testerPath, credA, tc.body, &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != tc.field || !strings.Contains(e.Errors[0].Message, tc.message) ||
			!strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: got %+v, want field %s with %q", tc.body, e, tc.field, tc.message)
		}
	}
	// A body that is not JSON says where it breaks.
	var e struct {
		Message string `json:"message"`
		Offset  *int64 `json:"offset"`
	}
	h.expect(http.StatusBadRequest, http.MethodPost, testerPath, credA, `{"conditions": "{}",}`, &e) // the 21st byte breaks it
	if e.Offset == nil || *e.Offset != 21 {
		t.Errorf("syntax error: %+v", e)
	}
	h.expect(http.StatusBadRequest, http.MethodPost, testerPath, credA, `[]`, nil)
	// Not JSON at all, or too large.
	r := h.do(http.MethodPost, testerPath, credA, "")
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("no body: %d %s", r.status, r.body)
	}
	big := testerBody(`{"a": "`+strings.Repeat("x", DefaultMaxBody)+`"}`, 10, 1)
	h.expect(http.StatusRequestEntityTooLarge, http.MethodPost, testerPath, credA, big, nil)
}

// TestConditionTesterIndexFlag: the answer says whether the candidate index
// serves the conditions or they are evaluated for every statement.
func TestConditionTesterIndexFlag(t *testing.T) {
	h, _ := newTesterHarness(t, 20)
	for _, tc := range []struct {
		conditions string
		path       string // "" when not indexed
	}{
		{`{"statement.verb.id": "v"}`, "statement.verb.id"},
		{`{"statement.object.id": {"$in": ["a", "b"]}, "statement.result.score.scaled": {"$gte": 0.5}}`, "statement.object.id"},
		{`{"statement.context.contextActivities.parent.id": "p"}`, "statement.context.contextActivities.parent.id"},
		{`{"statement.result.success": true}`, "statement.result.success"},
		{`{"statement.result.score.scaled": {"$gte": 0.5}}`, ""},
		{`{"$or": [{"statement.verb.id": "a"}, {"statement.verb.id": "b"}]}`, ""},
		{`{"statement.verb.id": {"$regex": "passed$"}}`, ""},
	} {
		var got testerResult
		h.expect(http.StatusOK, http.MethodPost, testerPath, credA, testerBody(tc.conditions, 10, 0), &got)
		if got.Indexed != (tc.path != "") || got.IndexPath != tc.path {
			t.Errorf("%s: indexed %v under %q, want %q", tc.conditions, got.Indexed, got.IndexPath, tc.path)
		}
		if got.Conditions != tc.conditions {
			t.Errorf("conditions echoed as %q", got.Conditions)
		}
	}
	// Conditions sent as an object come back in the stored string form.
	var got testerResult
	h.expect(http.StatusOK, http.MethodPost, testerPath, credA,
		`{"conditions": {"statement.verb.id": "`+xapitest.VerbPassed+`"}, "samples": 0}`, &got)
	if got.Conditions != `{"statement.verb.id":"`+xapitest.VerbPassed+`"}` || got.Limit != DefaultTestStatements || len(got.Samples) != 0 {
		t.Errorf("object conditions: %+v", got)
	}
}

// TestConditionTesterAccess: the tester needs credentials allowed to write
// journeys, and exists only at its path.
func TestConditionTesterAccess(t *testing.T) {
	h, _ := newTesterHarness(t, 3)
	body := testerBody(`{}`, 10, 1)
	h.expect(http.StatusUnauthorized, http.MethodPost, testerPath, nil, body, nil)
	h.expect(http.StatusUnauthorized, http.MethodPost, testerPath, &cred{"key-a", "wrong"}, body, nil)
	for _, c := range []*cred{credReader, credViewer, credXAPI} {
		h.expect(http.StatusForbidden, http.MethodPost, testerPath, c, body, nil)
	}
	h.expect(http.StatusOK, http.MethodPost, testerPath, credAdmin, body, nil)
	h.expect(http.StatusNotFound, http.MethodPost, "/api/v2/journey/65a000000000000000000001/test", credA, body, nil)
	h.expect(http.StatusMethodNotAllowed, http.MethodGet, testerPath, credA, "", nil)

	// Without a statement reader the route does not exist.
	bare := newHarness(t)
	bare.expect(http.StatusNotFound, http.MethodPost, testerPath, credA, body, nil)
}

var _ Statements = lrs.CollectionStatements{}
