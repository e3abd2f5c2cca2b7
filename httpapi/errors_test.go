package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/statementlog"
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
		c.Statement = func(context.Context, Principal, string) (bson.Raw, bool, error) { return nil, false, lrs.ErrNotFound }
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

// TestIngestEmbeddedLRS serves the statement resource on the embedded
// statement log as the daemon wires it, and checks what the log holds.
func TestIngestEmbeddedLRS(t *testing.T) {
	ctx := context.Background()
	l, err := statementlog.Open(t.TempDir(), statementlog.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	h := newHarness(t, func(c *Config) {
		c.JourneyStore = l
		c.Ingest = func(ctx context.Context, p Principal, body []byte) ([]string, error) {
			return l.Ingest(ctx, p.Organisation, p.Store, body)
		}
		c.Statement = func(ctx context.Context, p Principal, id string) (bson.Raw, bool, error) {
			return l.Statement(ctx, p.Store, id)
		}
	})
	const id = "0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	stmt := `{"id": "` + id + `", "actor": {"mbox": "mailto:ada@example.org"},
		"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "https://lms.example.org/course/1",
		"definition": {"extensions": {"http://example.org/a.b": 1}}}}`
	var ids []string
	h.expect(http.StatusOK, http.MethodPost, "/data/xAPI/statements", credXAPI, stmt, &ids)
	if !slices.Equal(ids, []string{id}) {
		t.Fatalf("ids %v", ids)
	}
	doc, voided, err := l.Statement(ctx, storeA, id)
	if err != nil || voided {
		t.Fatal(err, voided)
	}
	if o, _ := doc.Lookup("organisation").ObjectIDOK(); o != orgA {
		t.Errorf("stored for organisation %v", o)
	}
	// The same statement again: a success that changes nothing.
	last := l.Last()
	h.expect(http.StatusOK, http.MethodPost, "/data/xAPI/statements", credXAPI, stmt, nil)
	if l.Last() != last {
		t.Error("a repost was stored again")
	}
	// The same id with other content: 409.
	h.expect(http.StatusConflict, http.MethodPost, "/data/xAPI/statements", credXAPI, strings.Replace(stmt, "course/1", "course/2", 1), nil)

	// GET by statementId: the statement as stored, keys decoded.
	var got map[string]any
	r := h.expect(http.StatusOK, http.MethodGet, "/data/xAPI/statements?statementId="+id, credXAPI, "", &got)
	if got["id"] != id || r.header.Get("X-Experience-API-Version") != XAPIVersion || !strings.Contains(string(r.body), `"http://example.org/a.b"`) {
		t.Errorf("GET: %s", r.body)
	}
	if ct, err := time.Parse(time.RFC3339Nano, r.header.Get("X-Experience-API-Consistent-Through")); err != nil || time.Since(ct) > time.Minute || time.Since(ct) < 0 {
		t.Errorf("X-Experience-API-Consistent-Through %q: %v, want the time of the request", r.header.Get("X-Experience-API-Consistent-Through"), err)
	}
	// HEAD: as GET without the body (xAPI 1.0.3 Communication §1.1).
	if r := h.expect(http.StatusOK, http.MethodHead, "/data/xAPI/statements?statementId="+id, credXAPI, "", nil); len(r.body) != 0 ||
		r.header.Get("X-Experience-API-Version") != XAPIVersion || r.header.Get("X-Experience-API-Consistent-Through") == "" {
		t.Errorf("HEAD: headers %v, body %q", r.header, r.body)
	}
	h.expect(http.StatusNotFound, http.MethodHead, "/data/xAPI/statements?voidedStatementId="+id, credXAPI, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/data/xAPI/statements?voidedStatementId="+id, credXAPI, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/data/xAPI/statements?statementId=0b2a3f4e-1c2d-4e5f-8a9b-000000000000", credXAPI, "", nil)
	h.expect(http.StatusBadRequest, http.MethodGet, "/data/xAPI/statements?statementId=nope", credXAPI, "", nil)
	h.expect(http.StatusBadRequest, http.MethodGet, "/data/xAPI/statements?verb=x", credXAPI, "", nil)

	// PUT: stored under the parameter's id; 204; a differing body id is 400.
	const id2 = "0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5c"
	put := `{"actor": {"mbox": "mailto:ada@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "https://lms.example.org/course/1"}}`
	h.expect(http.StatusNoContent, http.MethodPut, "/data/xAPI/statements?statementId="+id2, credXAPI, put, nil)
	if _, _, err := l.Statement(ctx, storeA, id2); err != nil {
		t.Errorf("PUT statement: %v", err)
	}
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPut, "/data/xAPI/statements?statementId="+id2, credXAPI, stmt, &e)
	if !slices.Equal(e.fields(), []string{"id"}) {
		t.Errorf("PUT with another id: %+v", e)
	}
	h.expect(http.StatusBadRequest, http.MethodPut, "/data/xAPI/statements", credXAPI, put, nil)

	e = errorResponse{}
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

// TestXAPIHeaders checks the version header (xAPI 1.0.3 Communication
// §3.3) and the refusal of multipart/mixed bodies.
func TestXAPIHeaders(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Ingest = func(context.Context, Principal, []byte) ([]string, error) { return []string{"x"}, nil }
		c.Statement = func(context.Context, Principal, string) (bson.Raw, bool, error) { return nil, false, lrs.ErrNotFound }
	})
	for _, c := range []struct {
		version, ctype string
		status         int
	}{
		{"1.0.3", "application/json", http.StatusOK},
		{"1.0", "application/json", http.StatusOK},
		{"1.0.0", "application/json", http.StatusOK},
		{"", "application/json", http.StatusBadRequest},
		{"0.95", "application/json", http.StatusBadRequest},
		{"2.0.0", "application/json", http.StatusBadRequest},
		{"1.0.3", "multipart/mixed; boundary=abc", http.StatusUnsupportedMediaType},
		{"1.0.3", "text/plain", http.StatusUnsupportedMediaType},
	} {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/data/xAPI/statements", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", c.ctype)
		if c.version != "" {
			req.Header.Set("X-Experience-API-Version", c.version)
		}
		req.SetBasicAuth(credXAPI.key, credXAPI.secret)
		r := h.send(req)
		if r.status != c.status || r.header.Get("X-Experience-API-Version") != XAPIVersion {
			t.Errorf("version %q, %s: %d %s", c.version, c.ctype, r.status, r.body)
		}
		if c.status == http.StatusUnsupportedMediaType && strings.HasPrefix(c.ctype, "multipart") && !strings.Contains(string(r.body), "attachments") {
			t.Errorf("the 415 does not say why: %s", r.body)
		}
	}
}
