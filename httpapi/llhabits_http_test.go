package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/journeys/journeys/internal/xapitest"
)

// TestLearningLockerRoutes: LL's clients address routes in any case and
// with a trailing slash (Express's defaults; LL's generated routes are
// lowercase: /api/connection/journeyprogress). Writes work the same way,
// and paths naming no route stay 404.
func TestLearningLockerRoutes(t *testing.T) {
	h := newHarness(t)
	var j apiJourney
	h.expect(http.StatusCreated, http.MethodPost, "/API/v2/Journey/", credA, journeyBody("slash", false), &j)
	var got apiJourney
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+j.ID+"/", credA, "", &got)
	if got.ID != j.ID {
		t.Fatalf("GET with a trailing slash: %+v", got)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+strings.ToUpper(j.ID), credA, "", &got)
	h.expect(http.StatusOK, http.MethodPatch, "/api/v2/JOURNEY/"+j.ID+"/", credA, `{"description": "patched"}`, &got)
	if got.Description != "patched" {
		t.Errorf("PATCH with a trailing slash: %+v", got)
	}
	var n struct{ Count int }
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/Journey/Count/", credA, "", &n)
	if n.Count != 1 {
		t.Errorf("count %d", n.Count)
	}
	var conn struct{ Edges []json.RawMessage }
	for _, p := range []string{"/api/connection/journeyprogress", "/api/connection/journeyProgress/", "/API/CONNECTION/JOURNEY/"} {
		h.expect(http.StatusOK, http.MethodGet, p, credA, "", &conn)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress/count/", credA, "", &n)
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+j.ID+"/Funnel/", credA, "", nil)
	h.expect(http.StatusNoContent, http.MethodDelete, "/api/v2/journey/"+j.ID+"/", credA, "", nil)
	for _, p := range []string{"/api/v2/journeys", "/api/v2/journey//", "/api/v3/journey", "/api/v2/journey/" + j.ID + "/x"} {
		h.expect(http.StatusNotFound, http.MethodGet, p, credA, "", nil)
	}
	// The method check still applies to the canonical route.
	h.expect(http.StatusMethodNotAllowed, http.MethodDelete, "/API/v2/journey/", credA, "", nil)
}

// TestJourneyFilterCasting: filters find journeys the way mongoose would
// find them in LL: 24-hex strings compared with ObjectId paths and ISO
// strings compared with date paths are cast; strings compared with string
// paths are not; what cannot be cast is a 400.
func TestJourneyFilterCasting(t *testing.T) {
	h := newHarness(t)
	var js []apiJourney
	for _, d := range []string{"one", "two", "three"} {
		js = append(js, h.create(credA, journeyBody(d, false)))
		h.advance(time.Minute)
	}
	// A journey whose description is a 24-hex string, compared as a string.
	hexDesc := h.create(credA, journeyBody(js[0].ID, false))
	q := url.QueryEscape
	descriptions := func(path string) []string {
		t.Helper()
		var list []apiJourney
		h.expect(http.StatusOK, http.MethodGet, path, credA, "", &list)
		out := []string{}
		for _, j := range list {
			out = append(out, j.Description)
		}
		return out
	}
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`{"_id": "` + js[1].ID + `"}`, []string{"two"}},
		{`{"_id": {"$in": ["` + js[0].ID + `", "` + js[2].ID + `"]}}`, []string{"one", "three"}},
		{`{"_id": {"$oid": "` + js[1].ID + `"}}`, []string{"two"}},
		{`{"waypoints._id": "` + js[2].Waypoints[0].ID + `"}`, []string{"three"}},
		{`{"waypoints": {"$elemMatch": {"_id": "` + js[0].Waypoints[0].ID + `"}}}`, []string{"one"}},
		{`{"owner": "` + js[0].Owner + `", "description": {"$ne": "` + js[0].ID + `"}}`, []string{"one", "two", "three"}},
		{`{"description": "` + js[0].ID + `"}`, []string{hexDesc.Description}},
		// The harness clock starts at 2024-05-01T12:00:00Z, a minute apart.
		{`{"createdAt": {"$gte": "2024-05-01T12:01:00Z", "$lt": "2024-05-01T12:03:00Z"}}`, []string{"two", "three"}},
		{`{"createdAt": {"$lte": "2024-05-01T14:01:00+02:00"}}`, []string{"one", "two"}},
		{`{"createdAt": {"$gte": {"$dte": "2024-05-01T12:03:00.000Z"}}}`, []string{hexDesc.Description}},
		{`{"updatedAt": {"$lt": "2024-05-01"}}`, []string{}},
	} {
		if got := descriptions("/api/v2/journey?filter=" + q(c.filter)); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.filter, got, c.want)
		}
	}
	for _, c := range []struct{ path, field, reason string }{
		{"/api/v2/journey?filter=" + q(`{"_id": "two"}`), "filter", `cast to ObjectId failed for value "two" at path "_id"`},
		{"/api/v2/journey/count?query=" + q(`{"createdAt": {"$gt": "last week"}}`), "query", `cast to date failed`},
		{"/api/v2/journey?filter=" + q(`{}`) + "&query=" + q(`{}`), "query", "not both"},
		{"/api/connection/journey?filter=" + q(`{"sources": "nope"}`), "filter", `at path "sources"`},
	} {
		var e errorResponse
		h.expect(http.StatusBadRequest, http.MethodGet, c.path, credA, "", &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != c.field || !strings.Contains(e.Errors[0].Message, c.reason) {
			t.Errorf("%s: %+v, want %s: %q", c.path, e, c.field, c.reason)
		}
	}
}

// TestJourneySortSelectProject: sort, select and project in the forms LL's
// clients send, over HTTP.
func TestJourneySortSelectProject(t *testing.T) {
	h := newHarness(t)
	for _, d := range []string{"b", "a", "c", "a"} {
		h.create(credA, journeyBody(d, d == "c"))
		h.advance(time.Second)
	}
	q := url.QueryEscape
	for _, c := range []struct {
		sort string
		want string
	}{
		{"description -createdAt", "a2 a1 b0 c0"},
		{`{"description": "desc", "createdAt": "asc"}`, "c0 b0 a1 a2"},
		{"-isPublic,description", "c0 a1 a2 b0"},
	} {
		var list []apiJourney
		h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey?sort="+q(c.sort), credA, "", &list)
		var got []string
		seen := map[string]int{}
		for _, j := range list {
			// Tell the two "a" journeys apart by creation order.
			n := 0
			if j.Description == "a" {
				n = 1
				if j.CreatedAt > "2024-05-01T12:00:02" {
					n = 2
				}
			}
			seen[j.Description]++
			got = append(got, j.Description+string(rune('0'+n)))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("sort %s: got %v, want %s", c.sort, got, c.want)
		}
	}

	keys := func(path string) []string {
		t.Helper()
		var list []map[string]json.RawMessage
		h.expect(http.StatusOK, http.MethodGet, path, credA, "", &list)
		if len(list) == 0 {
			t.Fatalf("%s: empty list", path)
		}
		var out []string
		for k := range list[0] {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/api/v2/journey?select=description,isPublic", []string{"_id", "description", "isPublic"}},
		{"/api/v2/journey?select=" + q("description isPublic"), []string{"_id", "description", "isPublic"}},
		{"/api/v2/journey?select=" + q(`{"trackBy": 1}`), []string{"_id", "trackBy"}},
		{"/api/v2/journey?project=" + q(`{"name": "$description", "steps": "$waypoints.description"}`), []string{"_id", "name", "steps"}},
	} {
		if got := keys(c.path); !slices.Equal(got, c.want) {
			t.Errorf("%s: keys %v, want %v", c.path, got, c.want)
		}
	}
	all := keys("/api/v2/journey?select=-waypoints,-outcomes")
	if slices.Contains(all, "waypoints") || slices.Contains(all, "outcomes") || !slices.Contains(all, "description") {
		t.Errorf("exclusion select: %v", all)
	}
	var renamed []struct {
		Name  string   `json:"name"`
		Steps []string `json:"steps"`
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey?sort=description&limit=1&project="+q(`{"name": "$description", "steps": "$waypoints.description"}`), credA, "", &renamed)
	if len(renamed) != 1 || renamed[0].Name != "a" || !slices.Equal(renamed[0].Steps, []string{"launch"}) {
		t.Errorf("renamed: %+v", renamed)
	}
	var conn struct {
		Edges []struct{ Node map[string]json.RawMessage }
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/connection/journey?first=2&select=description", credA, "", &conn)
	if len(conn.Edges) != 2 || len(conn.Edges[0].Node) != 2 {
		t.Errorf("connection select: %+v", conn)
	}
	for _, c := range []struct{ path, field, reason string }{
		{"/api/v2/journey?project=" + q(`{"n": {"$toUpper": "$description"}}`), "project", "not supported"},
		{"/api/v2/journey?project=" + q(`{"n": "$description", "waypoints": 0}`), "project", "cannot mix"},
		{"/api/v2/journey?sort=" + q(`[["description", 0]]`), "sort", "must be 1, -1"},
		{"/api/v2/journey?select=a&project=" + q(`{"b": 1}`), "select", "not both"},
	} {
		var e errorResponse
		h.expect(http.StatusBadRequest, http.MethodGet, c.path, credA, "", &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != c.field || !strings.Contains(e.Errors[0].Message, c.reason) {
			t.Errorf("%s: %+v, want %s: %q", c.path, e, c.field, c.reason)
		}
	}
}

// TestUnknownParametersAreRejected: a parameter a route does not read is a
// 400 naming it — among them what LL's restify routes accept and journeysd
// does not (populate, distinct) — never silently ignored.
func TestUnknownParametersAreRejected(t *testing.T) {
	h := newHarness(t)
	j := h.create(credA, journeyBody("p", false))
	for _, c := range []struct{ path, param string }{
		{"/api/v2/journey?populate=owner", "populate"},
		{"/api/v2/journey?distinct=description", "distinct"},
		{"/api/v2/journey/count?limit=1", "limit"},
		{"/api/v2/journey/" + j.ID + "?filter={}", "filter"},
		{"/api/v2/journey/" + j.ID + "/funnel?mbox=x", "mbox"},
		{"/api/v2/journeyprogress?sort=journey", "sort"},
		{"/api/v2/journeyprogress/count?skip=1", "skip"},
		{"/api/connection/journeyprogress?limit=5", "limit"},
		{"/api/v2/deliveries?journey=" + j.ID, "journey"},
		{"/readyz?verbose=1", "verbose"},
	} {
		var e errorResponse
		h.expect(http.StatusBadRequest, http.MethodGet, c.path, credA, "", &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != c.param || !strings.Contains(e.Errors[0].Message, "unknown or unsupported query parameter") {
			t.Errorf("%s: %+v, want a 400 naming %s", c.path, e, c.param)
		}
	}
	// Credentials are checked first.
	h.expect(http.StatusUnauthorized, http.MethodGet, "/api/v2/journey?populate=owner", nil, "", nil)
	// Every documented parameter is accepted (the OpenAPI document is the
	// list): the count route's, through the alias of /:id.
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/count?filter={}", credA, "", nil)
	h.expect(http.StatusAccepted, http.MethodPost, "/api/v2/journey/"+j.ID+"/recalculate?notify=true", credA, "", nil)
}

// TestLearningLockerConditionMarkers: a waypoint written by LL's query
// builder with {"$dte": …} is saved and matches statements by date (it was
// saved with 201 and never matched); $personaIdent is a 400 that points to
// person._id.
func TestLearningLockerConditionMarkers(t *testing.T) {
	h := newHarness(t)
	g := xapitest.New(7, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 5,
		Start: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)})
	body := func(cond string) string {
		b, _ := json.Marshal(map[string]any{"description": "dte", "waypoints": []any{map[string]any{"conditions": cond}}})
		return string(b)
	}
	after := h.create(credA, body(`{"statement.verb.id": "`+xapitest.VerbLaunched+`", "timestamp": {"$gte": {"$dte": "2020-01-01T00:00:00.000Z"}}}`))
	before := h.create(credA, body(`{"statement.verb.id": "`+xapitest.VerbLaunched+`", "timestamp": {"$lt": {"$dte": "2020-01-01"}}}`))
	// The conditions are served as sent.
	if !strings.Contains(after.Waypoints[0].Conditions, `"$dte"`) {
		t.Errorf("conditions served as %s", after.Waypoints[0].Conditions)
	}
	seedOwners(t, h, after.ID, g, 5)
	g = xapitest.New(7, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 5,
		Start: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)})
	seedOwners(t, h, before.ID, g, 5)
	var n struct{ Count int }
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress/count?journey="+after.ID, credA, "", &n)
	if n.Count != 5 {
		t.Errorf("$gte $dte: %d owners with progress, want 5", n.Count)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress/count?journey="+before.ID, credA, "", &n)
	if n.Count != 0 {
		t.Errorf("$lt $dte: %d owners with progress, want 0", n.Count)
	}

	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA,
		body(`{"person._id": {"$personaIdent": {"key": "statement.actor.mbox", "value": "mailto:a@example.org"}}}`), &e)
	if len(e.Errors) != 1 || e.Errors[0].Field != "waypoints[0].conditions" ||
		!strings.Contains(e.Errors[0].Message, "$personaIdent") || !strings.Contains(e.Errors[0].Message, "person._id") {
		t.Errorf("$personaIdent: %+v", e)
	}
	h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA, body(`{"timestamp": {"$gt": {"$dte": "next week"}}}`), &e)
	if len(e.Errors) != 1 || !strings.Contains(e.Errors[0].Message, "$dte") {
		t.Errorf("bad $dte: %+v", e)
	}
}

// TestConditionTesterLearningLockerForms: the condition tester is reached
// in any case and with a trailing slash, and reads LL's $dte as the save
// does: every statement of the fixture is stored after 2000 and before
// 2100.
func TestConditionTesterLearningLockerForms(t *testing.T) {
	h, fx := newTesterHarness(t, 40)
	all, _ := fx.expected("", 100) // every statement not voided
	for _, c := range []struct {
		path, cond string
		want       int
	}{
		{"/API/V2/Journey/Conditions/Test/", `{"stored": {"$gte": {"$dte": "2000-01-01"}}}`, len(all)},
		{testerPath, `{"stored": {"$gte": {"$dte": "2100-01-01T00:00:00Z"}}}`, 0},
	} {
		var got testerResult
		h.expect(http.StatusOK, http.MethodPost, c.path, credA, testerBody(c.cond, 100, 1), &got)
		if got.Matched != c.want {
			t.Errorf("%s %s: matched %d (voided %d), want %d", c.path, c.cond, got.Matched, got.Voided, c.want)
		}
	}
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPost, testerPath, credA, testerBody(`{"person._id": {"$personaIdent": {}}}`, 100, 1), &e)
	if len(e.Errors) != 1 || !strings.Contains(e.Errors[0].Message, "person._id") {
		t.Errorf("$personaIdent in the tester: %+v", e)
	}
}
