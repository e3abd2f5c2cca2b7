package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

func TestJourneyLifecycle(t *testing.T) {
	h := newHarness(t)
	created := h.create(credA, journeyBody("first", true))
	r := h.do(http.MethodGet, "/api/v2/journey/"+created.ID, credA, "")
	if r.status != http.StatusOK {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if created.Organisation != orgA.Hex() || created.Owner != clientA.Hex() {
		t.Errorf("server fields: organisation %s owner %s", created.Organisation, created.Owner)
	}
	if created.CreatedAt != "2024-05-01T12:00:00.000Z" || created.UpdatedAt != created.CreatedAt {
		t.Errorf("timestamps %s / %s", created.CreatedAt, created.UpdatedAt)
	}
	if !created.RecalculateStatus.InProgress || !created.IsActive || created.TrackBy != "actor" || created.IsSequential {
		t.Errorf("defaults and initial status: %+v", created)
	}
	if len(created.Waypoints) != 1 || created.Waypoints[0].ID == "" || created.Waypoints[0].Count != 1 {
		t.Errorf("waypoint defaults: %+v", created.Waypoints)
	}

	// PUT overwrites the client fields and keeps the server fields.
	h.advance(time.Minute)
	var put apiJourney
	h.expect(http.StatusOK, http.MethodPut, "/api/v2/journey/"+created.ID, credA, journeyBody("renamed", false), &put)
	if put.Description != "renamed" || put.IsPublic || put.CreatedAt != created.CreatedAt ||
		put.UpdatedAt != "2024-05-01T12:01:00.000Z" || put.Owner != created.Owner {
		t.Errorf("after PUT: %+v", put)
	}

	// PATCH merges top-level fields.
	h.advance(time.Minute)
	var patched apiJourney
	h.expect(http.StatusOK, http.MethodPatch, "/api/v2/journey/"+created.ID, credA, `{"isSequential": true, "description": "patched"}`, &patched)
	if !patched.IsSequential || patched.Description != "patched" || patched.IsPublic != put.IsPublic ||
		len(patched.Waypoints) != 1 || patched.Waypoints[0].ID != put.Waypoints[0].ID {
		t.Errorf("after PATCH: %+v", patched)
	}
	// A patch that leaves an active journey without active waypoints fails
	// on the merged document, and changes nothing.
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPatch, "/api/v2/journey/"+created.ID, credA, `{"waypoints": []}`, &e)
	if !slices.Equal(e.fields(), []string{"waypoints"}) {
		t.Errorf("patch errors %v", e.fields())
	}
	var again apiJourney
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+created.ID, credA, "", &again)
	if len(again.Waypoints) != 1 || again.UpdatedAt != patched.UpdatedAt {
		t.Errorf("a failed patch modified the journey: %+v", again)
	}

	// The list and the count see it.
	var list []apiJourney
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", credA, "", &list)
	if len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("list: %+v", list)
	}
	var count struct{ Count int }
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/count", credA, "", &count)
	if count.Count != 1 {
		t.Errorf("count %d", count.Count)
	}

	h.expect(http.StatusNoContent, http.MethodDelete, "/api/v2/journey/"+created.ID, credA, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journey/"+created.ID, credA, "", nil)
	h.expect(http.StatusNotFound, http.MethodDelete, "/api/v2/journey/"+created.ID, credA, "", nil)
	h.expect(http.StatusNotFound, http.MethodPatch, "/api/v2/journey/"+created.ID, credA, `{"description": "x"}`, nil)
}

// TestPutCreates: PUT and POST to an id create the journey there, then
// overwrite it.
func TestPutCreates(t *testing.T) {
	h := newHarness(t)
	id := "65a000000000000000000001"
	var j apiJourney
	r := h.expect(http.StatusCreated, http.MethodPut, "/api/v2/journey/"+id, credA, journeyBody("made by PUT", false), &j)
	if j.ID != id || j.Organisation != orgA.Hex() || r.header.Get("Location") != "/api/v2/journey/"+id {
		t.Errorf("PUT create: %+v, location %q", j, r.header.Get("Location"))
	}
	h.expect(http.StatusOK, http.MethodPost, "/api/v2/journey/"+id, credA, journeyBody("overwritten by POST", false), &j)
	if j.Description != "overwritten by POST" {
		t.Errorf("POST overwrite: %+v", j)
	}
	h.expect(http.StatusNotFound, http.MethodPut, "/api/v2/journey/not-an-id", credA, journeyBody("x", false), nil)
}

func TestSeedExampleRoundTrips(t *testing.T) {
	h := newHarness(t)
	body, err := os.ReadFile("testdata/seed_example_fixed.json")
	if err != nil {
		t.Fatal(err)
	}
	j := h.create(credA, string(body))
	var sent apiJourney
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	if j.CreatedAt == sent.CreatedAt {
		t.Errorf("createdAt was taken from the body: %s", j.CreatedAt)
	}
	// Everything the client sets comes back as sent.
	check := func(got apiJourney) {
		t.Helper()
		if got.Description != sent.Description || got.IsActive != sent.IsActive || !slices.Equal(got.Sources, sent.Sources) ||
			got.IsSequential != sent.IsSequential || got.IsRepeatable != sent.IsRepeatable || got.TrackBy != sent.TrackBy ||
			got.IsPublic != sent.IsPublic || len(got.Waypoints) != 2 || len(got.Outcomes) != 1 {
			t.Fatalf("top-level fields differ:\n got %+v\nsent %+v", got, sent)
		}
		for i, w := range sent.Waypoints {
			g := got.Waypoints[i]
			if g.Description != w.Description || g.Conditions != w.Conditions || g.Count != w.Count || g.Order != w.Order || g.IsActive != w.IsActive {
				t.Errorf("waypoint %d: got %+v, sent %+v", i, g, w)
			}
		}
		if o, s := got.Outcomes[0], sent.Outcomes[0]; o.Callback != s.Callback || o.Type != s.Type || o.Description != s.Description {
			t.Errorf("outcome: got %+v, sent %+v", o, s)
		}
	}
	check(j)
	// The served document is itself a valid body: PUT it back unchanged.
	r := h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+j.ID, credA, "", nil)
	var back apiJourney
	r2 := h.expect(http.StatusOK, http.MethodPut, "/api/v2/journey/"+j.ID, credA, string(r.body), &back)
	check(back)
	if back.Waypoints[0].ID != j.Waypoints[0].ID || back.Outcomes[0].ID != j.Outcomes[0].ID {
		t.Error("ids sent back were not kept")
	}
	if compact(t, r.body) != compact(t, r2.body) {
		t.Errorf("GET then PUT changed the document (clock did not move):\n%s\n%s", r.body, r2.body)
	}
}

func TestSeedLiteralExampleIsRejected(t *testing.T) {
	h := newHarness(t)
	body, err := os.ReadFile("testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA, string(body), &e)
	// The first missing comma is before "waypoints"; encoding/json's offset
	// counts the offending byte.
	want := int64(bytes.Index(body, []byte(`"waypoints"`)) + 1)
	if e.Offset == nil || *e.Offset != want {
		t.Fatalf("offset %v, want %d (%s)", e.Offset, want, e.Message)
	}
	if !strings.Contains(e.Message, "line 7") {
		t.Errorf("message should locate the error: %q", e.Message)
	}
	var n struct{ Count int }
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/count", credA, "", &n)
	if n.Count != 0 {
		t.Errorf("a rejected body was stored")
	}
}

func TestValidationErrorsNameEachField(t *testing.T) {
	h := newHarness(t)
	body := `{
		"trackBy": "robot",
		"isPublic": "yes",
		"sources": ["nope"],
		"waypoints": [
			{"conditions": "{\"statement.verb.id\": \"x\"}"},
			{"conditions": "{\"$where\": \"sleep(1)\"}", "count": 0},
			{"conditions": {"statement.result.response": {"$regex": "(?<=a)b"}}}
		],
		"outcomes": [{"type": "email", "callback": "ftp://example.org/"}]
	}`
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA, body, &e)
	want := []string{
		"isPublic", "outcomes[0].callback", "outcomes[0].type", "sources[0]", "trackBy",
		"waypoints[1].conditions", "waypoints[1].count", "waypoints[2].conditions",
	}
	got := e.fields()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v\nwant   %v\n%s", got, want, e.Message)
	}
	for _, fe := range e.Errors {
		if fe.Field == "waypoints[1].conditions" && !strings.Contains(fe.Message, "$where") ||
			fe.Field == "outcomes[0].type" && !strings.Contains(fe.Message, "email") {
			t.Errorf("%s: message %q does not name the culprit", fe.Field, fe.Message)
		}
	}
}

func TestListQueries(t *testing.T) {
	h := newHarness(t)
	var first apiJourney
	for i, d := range []string{"beta", "alpha", "gamma", "alphabet"} {
		j := h.create(credA, journeyBody(d, d != "gamma"))
		if i == 0 {
			first = j
		}
		h.advance(time.Second)
	}
	descriptions := func(path string) []string {
		t.Helper()
		var list []apiJourney
		h.expect(http.StatusOK, http.MethodGet, path, credA, "", &list)
		var out []string
		for _, j := range list {
			out = append(out, j.Description)
		}
		return out
	}
	q := url.QueryEscape
	cases := []struct {
		path string
		want []string
	}{
		{"/api/v2/journey", []string{"beta", "alpha", "gamma", "alphabet"}}, // _id: creation order
		{"/api/v2/journey?sort=description", []string{"alpha", "alphabet", "beta", "gamma"}},
		{"/api/v2/journey?sort=" + q(`{"isPublic": 1, "description": -1}`), []string{"gamma", "beta", "alphabet", "alpha"}},
		{"/api/v2/journey?sort=-createdAt&skip=1&limit=2", []string{"gamma", "alpha"}},
		{"/api/v2/journey?filter=" + q(`{"description": {"$regex": "^alpha"}}`) + "&sort=description", []string{"alpha", "alphabet"}},
		{"/api/v2/journey?query=" + q(`{"isPublic": false}`), []string{"gamma"}},
		{"/api/v2/journey?filter=" + q(`{"createdAt": {"$gte": {"$date": "2024-05-01T12:00:02Z"}}}`), []string{"gamma", "alphabet"}},
	}
	for _, c := range cases {
		if got := descriptions(c.path); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.path, got, c.want)
		}
	}
	var n struct{ Count int }
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/count?filter="+q(`{"isPublic": true}`), credA, "", &n)
	if n.Count != 3 {
		t.Errorf("count %d, want 3", n.Count)
	}

	// Projection keeps the order and _id, on lists and single documents.
	r := h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey?limit=1&project="+q(`{"description": 1, "waypoints.conditions": 1}`), credA, "", nil)
	var projected []map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &projected); err != nil {
		t.Fatal(err)
	}
	if len(projected) != 1 || len(projected[0]) != 3 || projected[0]["_id"] == nil ||
		compact(t, projected[0]["waypoints"]) != `[{"conditions":"{\"statement.verb.id\": \"http://adlnet.gov/expapi/verbs/launched\"}"}]` {
		t.Errorf("inclusion projection: %s", r.body)
	}
	var one map[string]json.RawMessage
	r = h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+first.ID+"?project="+q(`{"waypoints": 0, "outcomes": false}`), credA, "", &one)
	if _, ok := one["waypoints"]; ok || one["description"] == nil || one["outcomes"] != nil || len(one) != 13 {
		t.Errorf("exclusion projection: %s", r.body)
	}

	bad := []struct{ path, field string }{
		{"/api/v2/journey?filter=" + q(`{"$where": "1"}`), "filter"},
		{"/api/v2/journey?filter=" + q(`{"a": {"$nope": 1}}`), "filter"},
		{"/api/v2/journey?filter=" + q(`[1]`), "filter"},
		{"/api/v2/journey?query=" + q(`{"a": `), "query"},
		{"/api/v2/journey?sort=" + q(`{"description": 2}`), "sort"},
		{"/api/v2/journey?sort=" + q(`{"$natural": 1}`), "sort"},
		{"/api/v2/journey?sort=a,a.b", "sort"},
		{"/api/v2/journey?limit=0", "limit"},
		{"/api/v2/journey?limit=1001", "limit"},
		{"/api/v2/journey?skip=-1", "skip"},
		{"/api/v2/journey?project=" + q(`{"a": 1, "b": 0}`), "project"},
		{"/api/v2/journey?project=" + q(`{"a": {"$slice": 1}}`), "project"},
		{"/api/v2/journey/count?filter=" + q(`{"$expr": {}}`), "filter"},
	}
	for _, b := range bad {
		var e errorResponse
		h.expect(http.StatusBadRequest, http.MethodGet, b.path, credA, "", &e)
		if !slices.Equal(e.fields(), []string{b.field}) {
			t.Errorf("%s: error fields %v, want [%s] (%s)", b.path, e.fields(), b.field, e.Message)
		}
	}
}

func TestRecalculate(t *testing.T) {
	h := newHarness(t)
	j := h.create(credA, journeyBody("recalc", false))
	h.advance(time.Second)
	var status struct {
		InProgress bool       `json:"inProgress"`
		StartedAt  *time.Time `json:"startedAt"`
		FinishedAt *time.Time `json:"finishedAt"`
	}
	// A previous run finished: the answer is the new run's status.
	if _, err := h.db.Collection("journeys").UpdateOne(context.Background(), bson.M{"_id": mustOID(j.ID)},
		bson.M{"$set": bson.M{"recalculateStatus": bson.M{"inProgress": false, "startedAt": time.Unix(1, 0), "finishedAt": time.Unix(2, 0)}}}); err != nil {
		t.Fatal(err)
	}
	r := h.expect(http.StatusAccepted, http.MethodPost, "/api/v2/journey/"+j.ID+"/recalculate?notify=true", credA, "", &status)
	if !status.InProgress || r.header.Get("Location") != "/api/v2/journey/"+j.ID {
		t.Errorf("status %+v, location %q", status, r.header.Get("Location"))
	}
	if status.FinishedAt != nil || status.StartedAt == nil || status.StartedAt.Before(time.Unix(3, 0)) {
		t.Errorf("the 202 carries the previous run's times: %+v", status)
	}
	if st := h.storedJourney(j.ID)["recalculateStatus"].(bson.M); st["finishedAt"] != nil || st["inProgress"] != true {
		t.Errorf("stored status %v, want the new run's", st)
	}
	stored := h.storedJourney(j.ID)
	req, _ := stored["recalculateRequest"].(bson.M)
	if req == nil || req["notify"] != true || req["_id"] == nil || req["requestedAt"] == nil {
		t.Fatalf("recalculateRequest %v", stored["recalculateRequest"])
	}
	// Overwriting the journey keeps a pending request for the pipeline.
	h.expect(http.StatusOK, http.MethodPut, "/api/v2/journey/"+j.ID, credA, journeyBody("recalc 2", false), nil)
	if again, _ := h.storedJourney(j.ID)["recalculateRequest"].(bson.M); again == nil || again["_id"] != req["_id"] {
		t.Errorf("PUT dropped the recalculateRequest: %v", again)
	}
	// A second request gets a new id.
	h.expect(http.StatusAccepted, http.MethodPost, "/api/v2/journey/"+j.ID+"/recalculate", credA, "", nil)
	if next, _ := h.storedJourney(j.ID)["recalculateRequest"].(bson.M); next["_id"] == req["_id"] || next["notify"] != false {
		t.Errorf("second request %v", next)
	}

	h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey/"+j.ID+"/recalculate?notify=maybe", credA, "", nil)
	h.expect(http.StatusOK, http.MethodPatch, "/api/v2/journey/"+j.ID, credA, `{"isActive": false}`, nil)
	h.expect(http.StatusConflict, http.MethodPost, "/api/v2/journey/"+j.ID+"/recalculate", credA, "", nil)
	h.expect(http.StatusNotFound, http.MethodPost, "/api/v2/journey/"+j.ID+"/recalculate", credB, "", nil)
}
