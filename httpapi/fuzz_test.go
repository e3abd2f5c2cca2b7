package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// fuzzRoutes are the patterns the fuzzer addresses; it also sends raw
// paths.
var fuzzRoutes = []string{
	"/api/v2/journey", "/api/v2/journey/count", "/api/v2/journey/:id", "/api/v2/journey/:id/recalculate",
	"/api/v2/journey/:id/funnel", "/api/v2/journey/:id/deliveries", "/api/connection/journey",
	"/api/v2/journeyprogress", "/api/connection/journeyProgress", "/api/v2/deliveries",
	"/api/v2/deliveries/:id/replay", "/data/xAPI/statements", "/healthz", "/readyz", "/api/openapi.json",
}

var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions, "BREW"}

// FuzzHandlers sends random methods, paths, parameters, bodies and headers
// to the real handler over an embedded store holding journeys and
// progress. No request may get a 5xx or panic (the router turns panics into
// 500s, so the status check covers both).
func FuzzHandlers(f *testing.F) {
	h := newHarness(f, func(c *Config) {
		c.Ingest = func(_ context.Context, _ Principal, body []byte) ([]string, error) {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				return nil, &journey.SyntaxError{Msg: err.Error()}
			}
			return []string{"00000000-0000-4000-8000-000000000000"}, nil
		}
		c.Statement = func(context.Context, Principal, string) (bson.Raw, bool, error) { return nil, false, lrs.ErrNotFound }
		c.Deliveries = nopReplayer{}
	})
	j := h.create(credA, journeyBody("fuzz", true))
	seedOwners(f, h, j.ID, xapitest.New(1, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 8}), 8)

	f.Add(uint8(0), uint8(0), "", `sort={"description":-1}&filter={"isActive":true}&project={"waypoints":0}`, []byte{}, "", uint8(0), "", "")
	f.Add(uint8(1), uint8(0), "", "", []byte(journeyBody("seeded", false)), "application/json", uint8(0), "", "")
	f.Add(uint8(3), uint8(2), j.ID, "", []byte(`{"waypoints": [{"conditions": {"$or": [{"a": {"$regex": "x", "$options": "q"}}]}}]}`), "application/json", uint8(0), "", "")
	f.Add(uint8(0), uint8(6), "", "first=3&after=AAAA&sort=-_id", []byte{}, "", uint8(1), "", "")
	f.Add(uint8(0), uint8(8), "", "last=2&before=CAAAAAJ0AAIAAABwAAA&mbox=mailto:x@y", []byte{}, "", uint8(0), "", "")
	f.Add(uint8(1), uint8(11), "", "", []byte(`[{"actor": {}}]`), "application/json", uint8(2), "X-Experience-API-Version", "1.0.3")
	f.Add(uint8(1), uint8(3), j.ID, "notify=1", []byte{}, "", uint8(3), "Authorization", "Basic Og==")
	f.Add(uint8(2), uint8(2), "65a000000000000000000001", "", []byte("{\"description\": \"\xff\"}"), "application/json; charset=latin1", uint8(0), "", "")
	f.Add(uint8(0), uint8(4), j.ID, "", []byte{}, "", uint8(4), "", "")
	f.Add(uint8(1), uint8(10), "msg_0000", "", []byte{}, "", uint8(0), "", "")
	f.Add(uint8(0), uint8(15), "", `filter={"completions":{"$elemMatch":{"completedAt":{"$gte":"2020-01-01"}}},"owner.ident.mbox":{"$in":["mailto:a@b"]}}`, []byte{}, "", uint8(0), "", "")
	f.Add(uint8(0), uint8(16), "", `select=owner,-journey&journey=`+j.ID, []byte{}, "", uint8(0), "", "")
	f.Add(uint8(0), uint8(0), "", `sort=description -createdAt&project={"t":"$waypoints.description"}&query={"_id":{"$in":["`+j.ID+`"]},"createdAt":{"$lt":{"$dte":"2030-01-01"}}}`, []byte{}, "", uint8(0), "", "")
	f.Add(uint8(0), uint8(17), "", `filter={"journey":"`+j.ID+`"}&first=2`, []byte{}, "", uint8(0), "", "")

	creds := []*cred{credA, credB, credXAPI, nil, credViewer, credAdmin, {"key-a", "wrong"}}
	f.Fuzz(func(t *testing.T, method, routeIdx uint8, id, query string, body []byte, contentType string, credIdx uint8, hdrName, hdrValue string) {
		path := fuzzRoutes[int(routeIdx)%len(fuzzRoutes)]
		if routeIdx >= 128 {
			path = "/" + id // a raw path
		}
		path = strings.ReplaceAll(path, ":id", url.PathEscape(id))
		target := "http://journeys.test" + path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], target, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if c := creds[int(credIdx)%len(creds)]; c != nil {
			req.SetBasicAuth(c.key, c.secret)
		}
		if hdrName != "" && validHeader(hdrName, hdrValue) {
			req.Header.Set(hdrName, hdrValue)
		}
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, target, rec.Code, rec.Body.Bytes())
		}
		if rec.Code >= 400 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d with a non-JSON error body %q", req.Method, target, rec.Code, rec.Body.Bytes())
		}
	})
}

// validHeader reports whether a client could send the header at all.
func validHeader(name, value string) bool {
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	for _, c := range value {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
