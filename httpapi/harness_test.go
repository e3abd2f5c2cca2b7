package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

// cred is an HTTP Basic credential of the test fixtures.
type cred struct{ key, secret string }

// The fixture's clients: two organisations with a full client each, and
// restricted or unusable clients of organisation A.
var (
	orgA   = mustOID("5a0000000000000000000001")
	orgB   = mustOID("5b0000000000000000000001")
	storeA = mustOID("5a00000000000000000000a1")
	storeB = mustOID("5b00000000000000000000b1")

	clientA      = mustOID("5a00000000000000000000c1")
	clientB      = mustOID("5b00000000000000000000c1")
	clientViewer = mustOID("5a00000000000000000000c2")

	credA         = &cred{"key-a", "secret-a"}
	credB         = &cred{"key-b", "secret-b"}
	credViewer    = &cred{"key-viewer", "secret-viewer"} // org A, public journeys only
	credReader    = &cred{"key-reader", "secret-reader"} // org A, all/read
	credXAPI      = &cred{"key-xapi", "secret-xapi"}     // org A, statements only
	credUntrusted = &cred{"key-untrusted", "secret-untrusted"}
	credNoOrg     = &cred{"key-noorg", "secret-noorg"}
	credAdmin     = &cred{"admin", "admin-secret"}
)

func mustOID(s string) primitive.ObjectID {
	id, err := primitive.ObjectIDFromHex(s)
	if err != nil {
		panic(err)
	}
	return id
}

// clientDocument is a Learning Locker client document.
func clientDocument(id, org, store primitive.ObjectID, c *cred, scopes []string, extra ...bson.E) bson.D {
	d := bson.D{
		{Key: "_id", Value: id},
		{Key: "title", Value: c.key},
		{Key: "organisation", Value: org},
		{Key: "lrs_id", Value: store},
		{Key: "api", Value: bson.D{{Key: "basic_key", Value: c.key}, {Key: "basic_secret", Value: c.secret}}},
		{Key: "scopes", Value: scopes},
		{Key: "isTrusted", Value: true},
	}
	return append(d, extra...)
}

// harness is the real API handler served over HTTP, on an embedded lungo
// memory engine and an on-disk state store.
type harness struct {
	t       testing.TB
	handler http.Handler
	srv     *httptest.Server
	db      lungo.IDatabase
	store   *state.Store

	mu  sync.Mutex
	now time.Time
}

// newHarness starts a server on a new embedded memory engine; configure
// adjusts the Config before New.
func newHarness(t testing.TB, configure ...func(*Config)) *harness {
	t.Helper()
	client, engine, err := lungo.Open(context.Background(), lungo.Options{Store: lungo.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	return newHarnessOn(t, client.Database("learninglocker_v2"), configure...)
}

// newHarnessOn starts a server on db, seeding its client collection.
func newHarnessOn(t testing.TB, db lungo.IDatabase, configure ...func(*Config)) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, db: db, store: st, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	clients := []any{
		clientDocument(clientA, orgA, storeA, credA, []string{ScopeAll}),
		clientDocument(clientB, orgB, storeB, credB, []string{ScopeAll}),
		clientDocument(clientViewer, orgA, storeA, credViewer, []string{ScopeViewPublicJourneys}),
		clientDocument(primitive.NewObjectID(), orgA, storeA, credReader, []string{ScopeAllRead}),
		clientDocument(primitive.NewObjectID(), orgA, storeA, credXAPI, []string{ScopeXAPIAll}),
		clientDocument(primitive.NewObjectID(), orgA, storeA, credUntrusted, []string{ScopeAll}, bson.E{Key: "isTrusted", Value: false}),
		bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "api", Value: bson.D{{Key: "basic_key", Value: credNoOrg.key}, {Key: "basic_secret", Value: credNoOrg.secret}}}, {Key: "scopes", Value: []string{ScopeAll}}},
	}
	if _, err := h.db.Collection("client").InsertMany(ctx, clients); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		DB:    h.db,
		Store: st,
		Admin: Admin{Key: credAdmin.key, Secret: credAdmin.secret, Organisation: orgA, Store: storeA},
		Now:   h.clock,
	}
	for _, f := range configure {
		f(&cfg)
	}
	if h.handler, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.handler)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; a non-empty body is sent as application/json.
func (h *harness) do(method, path string, c *cred, body string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(path, "/data/xAPI/") {
		req.Header.Set("X-Experience-API-Version", "1.0.3")
	}
	if c != nil {
		req.SetBasicAuth(c.key, c.secret)
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// expect sends a request, checks its status and decodes its JSON body into
// out (when out is not nil).
func (h *harness) expect(want int, method, path string, c *cred, body string, out any) response {
	h.t.Helper()
	r := h.do(method, path, c, body)
	if r.status != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// errorResponse is the body of an error answer.
type errorResponse struct {
	Message string `json:"message"`
	Errors  []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	Offset *int64 `json:"offset"`
}

// fields returns the field paths of an error response.
func (e errorResponse) fields() []string {
	var out []string
	for _, fe := range e.Errors {
		out = append(out, fe.Field)
	}
	return out
}

// apiJourney is a journey as the API serves it, decoded for assertions.
type apiJourney struct {
	ID           string   `json:"_id"`
	Organisation string   `json:"organisation"`
	Owner        string   `json:"owner"`
	CreatedAt    string   `json:"createdAt"`
	UpdatedAt    string   `json:"updatedAt"`
	Description  string   `json:"description"`
	IsActive     bool     `json:"isActive"`
	Sources      []string `json:"sources"`
	Waypoints    []struct {
		ID          string  `json:"_id"`
		Description string  `json:"description"`
		IsActive    bool    `json:"isActive"`
		Conditions  string  `json:"conditions"`
		Count       int     `json:"count"`
		Order       float64 `json:"order"`
	} `json:"waypoints"`
	Outcomes []struct {
		ID          string `json:"_id"`
		Description string `json:"description"`
		IsActive    bool   `json:"isActive"`
		Type        string `json:"type"`
		Callback    string `json:"callback"`
	} `json:"outcomes"`
	IsSequential      bool   `json:"isSequential"`
	IsRepeatable      bool   `json:"isRepeatable"`
	TrackBy           string `json:"trackBy"`
	IsPublic          bool   `json:"isPublic"`
	RecalculateStatus struct {
		InProgress     bool  `json:"inProgress"`
		TotalCount     int64 `json:"totalCount"`
		RemainingCount int64 `json:"remainingCount"`
	} `json:"recalculateStatus"`
}

// journeyBody is a minimal valid journey body.
func journeyBody(description string, public bool) string {
	b, _ := json.Marshal(map[string]any{
		"description": description,
		"isPublic":    public,
		"waypoints": []any{map[string]any{
			"description": "launch", "conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/launched"}`,
		}},
	})
	return string(b)
}

// create posts a journey as c and returns it.
func (h *harness) create(c *cred, body string) apiJourney {
	h.t.Helper()
	var j apiJourney
	h.expect(http.StatusCreated, http.MethodPost, "/api/v2/journey", c, body, &j)
	return j
}

// storedJourney reads a journey document straight from the database.
func (h *harness) storedJourney(id string) bson.M {
	h.t.Helper()
	var m bson.M
	if err := h.db.Collection("journeys").FindOne(context.Background(), bson.M{"_id": mustOID(id)}).Decode(&m); err != nil {
		h.t.Fatalf("read journey %s: %v", id, err)
	}
	return m
}

// compact re-encodes JSON without insignificant space, for comparisons.
func compact(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact %s: %v", b, err)
	}
	return buf.String()
}

// compileStored reads journey id as the API stored it and compiles it, as
// the pipeline does.
func compileStored(t testing.TB, db lungo.IDatabase, id string) *journey.Compiled {
	t.Helper()
	raw, err := db.Collection("journeys").FindOne(context.Background(), bson.M{"_id": mustOID(id)}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := journey.DecodeBSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := journey.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seedOwners runs the real engine over a launch statement by each of the
// first n actors of g for journey id, so that progress, funnel and
// delivery routes have records to read.
func seedOwners(t testing.TB, h *harness, id string, g *xapitest.Generator, n int) {
	t.Helper()
	c := compileStored(t, h.db, id)
	e := processor.NewEngine(h.store, processor.Options{})
	e.SetJourney(c, 0)
	for i := range n {
		if _, err := e.Statement(g.Make(xapitest.Spec{Actor: g.Actor(i), Verb: xapitest.VerbLaunched})); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}
}
