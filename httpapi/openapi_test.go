package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/lrs"
)

type nopReplayer struct{}

func (nopReplayer) Replay(context.Context, string) error { return nil }

// noStatements is an LRS without statements.
type noStatements struct{}

func (noStatements) Recent(context.Context, primitive.ObjectID, int, func(bson.Raw) error) error {
	return nil
}

// TestOpenAPIMatchesRoutes: every registered route is in the served
// document, and every operation of the document is routed — for the full
// configuration and for the minimal one, whose optional routes are absent
// from both.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	full := func(c *Config) {
		c.Ingest = func(context.Context, Principal, []byte) ([]string, error) { return nil, nil }
		c.Statement = func(context.Context, Principal, string) (bson.Raw, bool, error) { return nil, false, lrs.ErrNotFound }
		c.Deliveries = nopReplayer{}
		c.Metrics = http.NotFoundHandler()
		c.Statements = noStatements{}
	}
	optional := []string{"/data/xAPI/statements", "/api/v2/deliveries/{id}/replay", "/metrics", "/api/v2/journey/conditions/test"}
	for _, tc := range []struct {
		name      string
		configure []func(*Config)
		optional  bool // whether the optional routes exist
	}{{"full", []func(*Config){full}, true}, {"minimal", nil, false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.configure...)
			var doc struct {
				OpenAPI string                                `json:"openapi"`
				Paths   map[string]map[string]json.RawMessage `json:"paths"`
			}
			h.expect(http.StatusOK, http.MethodGet, "/api/openapi.json", nil, "", &doc)
			if !strings.HasPrefix(doc.OpenAPI, "3.") {
				t.Fatalf("openapi version %q", doc.OpenAPI)
			}
			router := h.handler.(*canonicalPaths).router
			s := &server{cfg: Config{}}
			if tc.optional {
				full(&s.cfg)
			}
			registered := map[string]bool{}
			for _, rt := range s.routeTable() {
				p := openAPIPath(rt.pattern)
				registered[rt.method+" "+p] = true
				if _, ok := doc.Paths[p][strings.ToLower(rt.method)]; !ok {
					t.Errorf("route %s %s is not in the document", rt.method, p)
				}
			}
			operations := 0
			for p, item := range doc.Paths {
				for m := range item {
					if !isOperation(m) {
						continue
					}
					operations++
					method := strings.ToUpper(m)
					if !registered[method+" "+p] {
						t.Errorf("document operation %s %s is not a route", method, p)
					}
					// The router really serves it.
					concrete := strings.ReplaceAll(p, "{id}", "65a000000000000000000001")
					if h, _, _ := router.Lookup(method, concrete); h == nil {
						t.Errorf("document operation %s %s: the router has no handler for %s", method, p, concrete)
					}
				}
			}
			if operations != len(registered) {
				t.Errorf("%d operations, %d routes", operations, len(registered))
			}
			for _, p := range optional {
				if _, ok := doc.Paths[p]; ok != tc.optional {
					t.Errorf("optional path %s present: %v", p, ok)
				}
			}
		})
	}
}

// TestOpenAPITemplateCoversRoutes: renderOpenAPI refuses a route the
// template does not describe.
func TestOpenAPITemplateCoversRoutes(t *testing.T) {
	_, err := renderOpenAPI([]route{{method: http.MethodGet, pattern: "/api/v2/undocumented"}})
	if err == nil || !strings.Contains(err.Error(), "/api/v2/undocumented") {
		t.Errorf("err = %v", err)
	}
}
