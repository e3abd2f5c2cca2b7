package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

func TestErrorResponses(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBody = 4096 })
	j := h.create(credA, journeyBody("x", true))

	// 405 with Allow, as JSON.
	var e errorResponse
	r := h.expect(http.StatusMethodNotAllowed, http.MethodDelete, "/api/v2/journey", credA, "", &e)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, http.MethodGet) || !strings.Contains(allow, http.MethodPost) {
		t.Errorf("Allow %q", allow)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || e.Message == "" {
		t.Errorf("405 body %s", r.body)
	}
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/nothing", credA, "", &e)
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journey/"+strings.Repeat("z", 24), credA, "", nil)

	// 413 over the body limit, by declared length and by streaming.
	big := journeyBody(strings.Repeat("x", 5000), true)
	h.expect(http.StatusRequestEntityTooLarge, http.MethodPost, "/api/v2/journey", credA, big, nil)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v2/journey", strings.NewReader(big))
	req.ContentLength = -1 // chunked: the limit is met while reading
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(credA.key, credA.secret)
	if r := h.send(req); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body: %d %s", r.status, r.body)
	}

	// 415 for anything but JSON.
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "garbage;;"} {
		req, _ := http.NewRequest(http.MethodPut, h.srv.URL+"/api/v2/journey/"+j.ID, strings.NewReader(journeyBody("y", true)))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.SetBasicAuth(credA.key, credA.secret)
		if r := h.send(req); r.status != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d", ct, r.status)
		}
	}
	req, _ = http.NewRequest(http.MethodPatch, h.srv.URL+"/api/v2/journey/"+j.ID, strings.NewReader(`{"description": "merge-patch"}`))
	req.Header.Set("Content-Type", "application/merge-patch+json; charset=utf-8")
	req.SetBasicAuth(credA.key, credA.secret)
	if r := h.send(req); r.status != http.StatusOK {
		t.Errorf("application/merge-patch+json: %d %s", r.status, r.body)
	}

	// Invalid JSON gives the offset on every body route.
	bad := `{"description": "a",, }`
	for _, m := range []string{http.MethodPut, http.MethodPatch} {
		e = errorResponse{}
		h.expect(http.StatusBadRequest, m, "/api/v2/journey/"+j.ID, credA, bad, &e)
		// The offset counts the offending second comma.
		if want := int64(strings.Index(bad, ",,") + 2); e.Offset == nil || *e.Offset != want {
			t.Errorf("%s: offset %v, want %d (%s)", m, e.Offset, want, e.Message)
		}
	}
	for _, body := range []string{`[]`, `null`, `"x"`, `{"waypoints": 3}`} {
		h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA, body, nil)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	ready := errors.New("change stream not running")
	h := newHarness(t, func(c *Config) {
		c.Ready = func(context.Context) error { return ready }
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "journeys_up 1") })
	})
	h.expect(http.StatusOK, http.MethodGet, "/healthz", nil, "", nil)
	var st struct{ Status, Message string }
	h.expect(http.StatusServiceUnavailable, http.MethodGet, "/readyz", nil, "", &st)
	if !strings.Contains(st.Message, ready.Error()) {
		t.Errorf("readyz %+v", st)
	}
	ready = nil
	h.expect(http.StatusOK, http.MethodGet, "/readyz", nil, "", nil)
	if r := h.do(http.MethodGet, "/metrics", nil, ""); r.status != http.StatusOK || string(r.body) != "journeys_up 1\n" {
		t.Errorf("metrics: %d %q", r.status, r.body)
	}
	// Without a metrics handler the route does not exist.
	plain := newHarness(t)
	plain.expect(http.StatusNotFound, http.MethodGet, "/metrics", nil, "", nil)
}

func TestIngest(t *testing.T) {
	var got []Principal
	var fail error
	h := newHarness(t, func(c *Config) {
		c.Ingest = func(_ context.Context, p Principal, body []byte) ([]string, error) {
			got = append(got, p)
			if fail != nil {
				return nil, fail
			}
			return []string{"id-" + fmt.Sprint(len(body))}, nil
		}
	})
	var ids []string
	r := h.expect(http.StatusOK, http.MethodPost, "/data/xAPI/statements", credXAPI, `[{"verb": {}}]`, &ids)
	if !slices.Equal(ids, []string{"id-14"}) || r.header.Get("X-Experience-API-Version") != XAPIVersion {
		t.Errorf("ids %v, header %q", ids, r.header.Get("X-Experience-API-Version"))
	}
	h.expect(http.StatusOK, http.MethodPost, "/data/xAPI/statements", credAdmin, `{}`, nil)
	if len(got) != 2 || got[0].Organisation != orgA || got[0].Store != storeA || got[1].Store != storeA || !got[1].Admin {
		t.Errorf("principals %+v", got)
	}
	h.expect(http.StatusForbidden, http.MethodPost, "/data/xAPI/statements", credViewer, `{}`, nil)
	h.expect(http.StatusUnauthorized, http.MethodPost, "/data/xAPI/statements", nil, `{}`, nil)

	cases := []struct {
		err    error
		status int
		check  func(e errorResponse) bool
	}{
		{fmt.Errorf("ingest: %w", &journey.SyntaxError{Offset: 7, Msg: "x"}), http.StatusBadRequest,
			func(e errorResponse) bool { return e.Offset != nil && *e.Offset == 7 }},
		{&lrs.IngestError{Errors: []lrs.FieldError{{Index: 1, Field: "actor", Message: "is required"}, {Index: -1, Message: "empty"}}},
			http.StatusBadRequest, func(e errorResponse) bool {
				return slices.Equal(e.fields(), []string{"statements[1].actor", "statements"})
			}},
		{&lrs.ConflictError{IDs: []string{"x"}}, http.StatusConflict, func(e errorResponse) bool { return strings.Contains(e.Message, "x") }},
		{errors.New("disk full"), http.StatusInternalServerError, func(e errorResponse) bool { return !strings.Contains(e.Message, "disk") }},
	}
	for _, c := range cases {
		fail = c.err
		var e errorResponse
		r := h.expect(c.status, http.MethodPost, "/data/xAPI/statements", credA, `{}`, &e)
		if !c.check(e) || r.header.Get("X-Experience-API-Version") != XAPIVersion {
			t.Errorf("%v: %s", c.err, r.body)
		}
	}
	// Without an ingest function the route does not exist.
	plain := newHarness(t)
	plain.expect(http.StatusNotFound, http.MethodPost, "/data/xAPI/statements", credA, `{}`, nil)
}

// TestIngestEmbeddedLRS serves statements into the embedded LRS as the
// daemon wires it, and checks what the store holds.
func TestIngestEmbeddedLRS(t *testing.T) {
	ctx := context.Background()
	l, err := lrs.Open(ctx, lrs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(ctx) })
	h := newHarnessOn(t, l.DB, func(c *Config) {
		c.Ingest = func(ctx context.Context, p Principal, body []byte) ([]string, error) {
			return l.Ingest(ctx, p.Organisation, p.Store, body)
		}
	})
	const id = "0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	stmt := `{"id": "` + id + `", "actor": {"mbox": "mailto:ada@example.org"},
		"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "https://lms.example.org/course/1"}}`
	var ids []string
	h.expect(http.StatusOK, http.MethodPost, "/data/xAPI/statements", credXAPI, stmt, &ids)
	if !slices.Equal(ids, []string{id}) {
		t.Fatalf("ids %v", ids)
	}
	var doc bson.M
	if err := l.DB.Collection(l.Statements).FindOne(ctx, bson.M{"statement.id": id}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["organisation"] != orgA || doc["lrs_id"] != storeA {
		t.Errorf("stored for organisation %v store %v", doc["organisation"], doc["lrs_id"])
	}
	h.expect(http.StatusConflict, http.MethodPost, "/data/xAPI/statements", credXAPI, stmt, nil)
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPost, "/data/xAPI/statements", credXAPI, `[{"actor": {"mbox": "mailto:a@b.c"}, "object": {"id": "x:y"}}]`, &e)
	if len(e.Errors) == 0 || !strings.HasPrefix(e.Errors[0].Field, "statements[0].verb") {
		t.Errorf("validation errors %+v", e)
	}
	e = errorResponse{}
	h.expect(http.StatusBadRequest, http.MethodPost, "/data/xAPI/statements", credXAPI, `{"actor": }`, &e)
	if e.Offset == nil || *e.Offset != 11 {
		t.Errorf("syntax error offset %v (%s)", e.Offset, e.Message)
	}
}
