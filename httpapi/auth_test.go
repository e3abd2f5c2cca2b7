package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

func TestUnauthorized(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name string
		c    *cred
	}{
		{"no credentials", nil},
		{"unknown key", &cred{"nobody", "secret-a"}},
		{"wrong secret", &cred{credA.key, "secret-b"}},
		{"empty secret", &cred{credA.key, ""}},
		{"untrusted client", credUntrusted},
		{"client without organisation", credNoOrg},
		{"wrong admin secret", &cred{credAdmin.key, credA.secret}},
	}
	for _, c := range cases {
		for _, path := range []string{"/api/v2/journey", "/api/connection/journeyProgress", "/api/v2/journey/count"} {
			var e errorResponse
			r := h.expect(http.StatusUnauthorized, http.MethodGet, path, c.c, "", &e)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") || e.Message == "" {
				t.Errorf("%s %s: WWW-Authenticate %q, body %s", c.name, path, r.header.Get("WWW-Authenticate"), r.body)
			}
		}
	}
	// A malformed Authorization header is missing credentials, not a crash.
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/api/v2/journey", nil)
	req.Header.Set("Authorization", "Basic !!!")
	if r := h.send(req); r.status != http.StatusUnauthorized {
		t.Errorf("malformed header: %d", r.status)
	}
	// Public routes need nothing.
	h.expect(http.StatusOK, http.MethodGet, "/healthz", nil, "", nil)
	h.expect(http.StatusOK, http.MethodGet, "/api/openapi.json", nil, "", nil)
}

func TestAdminCredential(t *testing.T) {
	h := newHarness(t)
	j := h.create(credAdmin, journeyBody("by admin", false))
	if j.Organisation != orgA.Hex() || j.Owner == "" || j.Owner == clientA.Hex() {
		t.Errorf("admin journey: organisation %s owner %s", j.Organisation, j.Owner)
	}
	// The admin is bound to organisation A: A's clients see its journeys.
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+j.ID, credA, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journey/"+j.ID, credB, "", nil)
}

// TestOrganisationsAreIsolated: each organisation's client sees and writes
// only its own journeys; the other's ids answer 404 and stay untouched.
func TestOrganisationsAreIsolated(t *testing.T) {
	h := newHarness(t)
	a := h.create(credA, journeyBody("A's", true))
	b := h.create(credB, journeyBody("B's", true))
	if b.Organisation != orgB.Hex() {
		t.Fatalf("B's journey in %s", b.Organisation)
	}
	for _, c := range []struct {
		who   *cred
		other apiJourney
	}{{credA, b}, {credB, a}} {
		path := "/api/v2/journey/" + c.other.ID
		h.expect(http.StatusNotFound, http.MethodGet, path, c.who, "", nil)
		h.expect(http.StatusNotFound, http.MethodPut, path, c.who, journeyBody("hijack", true), nil)
		h.expect(http.StatusNotFound, http.MethodPost, path, c.who, journeyBody("hijack", true), nil)
		h.expect(http.StatusNotFound, http.MethodPatch, path, c.who, `{"description": "hijack"}`, nil)
		h.expect(http.StatusNotFound, http.MethodDelete, path, c.who, "", nil)
		h.expect(http.StatusNotFound, http.MethodPost, path+"/recalculate", c.who, "", nil)
		h.expect(http.StatusNotFound, http.MethodGet, path+"/funnel", c.who, "", nil)
		h.expect(http.StatusNotFound, http.MethodGet, path+"/deliveries", c.who, "", nil)
		var list []apiJourney
		h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", c.who, "", &list)
		if len(list) != 1 || list[0].ID == c.other.ID {
			t.Errorf("list leaks: %+v", list)
		}
		var conn struct{ Edges []struct{ Node apiJourney } }
		h.expect(http.StatusOK, http.MethodGet, "/api/connection/journey?first=100", c.who, "", &conn)
		if len(conn.Edges) != 1 || conn.Edges[0].Node.ID == c.other.ID {
			t.Errorf("connection leaks: %+v", conn)
		}
		// A filter naming the other organisation cannot widen the scope.
		var n struct{ Count int }
		h.expect(http.StatusOK, http.MethodGet, `/api/v2/journey/count?filter={"organisation":{"$exists":true}}`, c.who, "", &n)
		if n.Count != 1 {
			t.Errorf("count %d", n.Count)
		}
		var progress []any
		h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?journey="+c.other.ID, c.who, "", &progress)
		if len(progress) != 0 {
			t.Errorf("progress leaks: %v", progress)
		}
	}
	for _, j := range []apiJourney{a, b} {
		if got := h.storedJourney(j.ID)["description"]; got != j.Description {
			t.Errorf("journey %s was modified: %v", j.ID, got)
		}
	}
}

// TestScopes: a client without "all" reads public journeys and its own
// and writes nothing; all/read reads everything; an xAPI client reads
// nothing.
func TestScopes(t *testing.T) {
	h := newHarness(t)
	public := h.create(credA, journeyBody("public", true))
	private := h.create(credA, journeyBody("private", false))
	// A private journey owned by the viewer client (as if it had been
	// created with another scope set).
	own := h.create(credA, journeyBody("viewer's own", false))
	_, err := h.db.Collection("journeys").UpdateOne(context.Background(),
		bson.M{"_id": mustOID(own.ID)}, bson.M{"$set": bson.M{"owner": clientViewer}})
	if err != nil {
		t.Fatal(err)
	}

	var list []apiJourney
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", credViewer, "", &list)
	if len(list) != 2 || list[0].ID != public.ID || list[1].ID != own.ID {
		t.Errorf("viewer list: %+v", list)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+public.ID, credViewer, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journey/"+private.ID, credViewer, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journey/"+private.ID+"/funnel", credViewer, "", nil)
	for _, w := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v2/journey", journeyBody("x", true)},
		{http.MethodPatch, "/api/v2/journey/" + public.ID, `{"description": "x"}`},
		{http.MethodDelete, "/api/v2/journey/" + public.ID, ""},
		{http.MethodPost, "/api/v2/journey/" + public.ID + "/recalculate", ""},
	} {
		h.expect(http.StatusForbidden, w.method, w.path, credViewer, w.body, nil)
		h.expect(http.StatusForbidden, w.method, w.path, credReader, w.body, nil)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", credReader, "", &list)
	if len(list) != 3 {
		t.Errorf("all/read list: %d journeys", len(list))
	}
	h.expect(http.StatusForbidden, http.MethodGet, "/api/v2/journey", credXAPI, "", nil)
}

// TestAuthCache: client changes take effect within the cache TTL, not
// before, and not after.
func TestAuthCache(t *testing.T) {
	h := newHarness(t)
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", credA, "", nil)
	_, err := h.db.Collection("client").UpdateOne(context.Background(),
		bson.M{"_id": clientA}, bson.M{"$set": bson.M{"isTrusted": false}})
	if err != nil {
		t.Fatal(err)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", credA, "", nil)
	h.advance(authCacheTTL + time.Millisecond)
	h.expect(http.StatusUnauthorized, http.MethodGet, "/api/v2/journey", credA, "", nil)

	// An unknown key is cached as unknown for the TTL too.
	fresh := &cred{"key-new", "secret-new"}
	h.expect(http.StatusUnauthorized, http.MethodGet, "/api/v2/journey", fresh, "", nil)
	if _, err := h.db.Collection("client").InsertOne(context.Background(),
		clientDocument(mustOID("5a00000000000000000000c9"), orgA, storeA, fresh, []string{ScopeAll})); err != nil {
		t.Fatal(err)
	}
	h.expect(http.StatusUnauthorized, http.MethodGet, "/api/v2/journey", fresh, "", nil)
	h.advance(authCacheTTL + time.Millisecond)
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey", fresh, "", nil)
}
