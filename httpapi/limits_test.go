package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/journeys/journeys/processor/dispatch"
	"github.com/journeys/journeys/processor/journey"
)

// sizedBody is a journey body with the given numbers of waypoints and
// outcomes, each waypoint's conditions condBytes long.
func sizedBody(t *testing.T, waypoints, outcomes, condBytes int, callback string) string {
	t.Helper()
	const head, tail = `{"statement.verb.id":"v","$comment":"`, `"}`
	cond := head + strings.Repeat("x", max(condBytes-len(head)-len(tail), 0)) + tail
	var ws, os []any
	for range waypoints {
		ws = append(ws, map[string]any{"conditions": cond})
	}
	for range outcomes {
		os = append(os, map[string]any{"type": "callback", "callback": callback})
	}
	b, err := json.Marshal(map[string]any{"waypoints": ws, "outcomes": os})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJourneyLimits(t *testing.T) {
	stats := &journey.LimitStats{}
	h := newHarness(t, func(c *Config) {
		c.Limits = journey.Limits{Waypoints: 4, Outcomes: 2, ConditionBytes: 200}
		c.LimitStats = stats
	})
	const hook = "https://93.184.216.34/hook"
	// At every limit: saved.
	j := h.create(credA, sizedBody(t, 4, 2, 200, hook))

	tests := []struct {
		name, method, path, body string
		field, message           string
	}{
		{"waypoints on create", http.MethodPost, "/api/v2/journey", sizedBody(t, 5, 0, 100, hook), "waypoints", "limit of 4 waypoints"},
		{"outcomes on put", http.MethodPut, "/api/v2/journey/" + j.ID, sizedBody(t, 1, 3, 100, hook), "outcomes", "limit of 2 outcomes"},
		{"condition on patch", http.MethodPatch, "/api/v2/journey/" + j.ID,
			`{"waypoints":[{"conditions":"{\"statement.verb.id\":\"` + strings.Repeat("y", 200) + `\"}"}]}`,
			"waypoints[0].conditions", "condition size limit of 200 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errorResponse
			h.expect(http.StatusBadRequest, tt.method, tt.path, credA, tt.body, &e)
			if len(e.Errors) != 1 || e.Errors[0].Field != tt.field || !strings.Contains(e.Errors[0].Message, tt.message) {
				t.Errorf("errors %+v, want %s naming %q", e.Errors, tt.field, tt.message)
			}
		})
	}
	if w, o, c := stats.Waypoints.Load(), stats.Outcomes.Load(), stats.ConditionBytes.Load(); w != 1 || o != 1 || c != 1 {
		t.Errorf("limit hits waypoints %d, outcomes %d, condition bytes %d; want 1 each", w, o, c)
	}
	// The refused writes changed nothing.
	var got apiJourney
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+j.ID, credA, "", &got)
	if len(got.Waypoints) != 4 || len(got.Outcomes) != 2 {
		t.Errorf("stored journey has %d waypoints, %d outcomes after refused writes", len(got.Waypoints), len(got.Outcomes))
	}
}

// A callback target the dispatcher would refuse is a 400 at save that
// names the setting that allows it, with the URL's credentials redacted.
func TestRefusedCallbackTargetAtSave(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		d, err := dispatch.New(dispatch.Config{Store: c.Store})
		if err != nil {
			t.Fatal(err)
		}
		c.CheckCallback = d.CheckTarget
	})
	for _, target := range []string{"http://hookuser:hookpass@127.0.0.1:8080/hook?token=qs3cret", "http://localhost:9/hook", "http://[::1]/x", "https://10.1.2.3/x"} {
		var e errorResponse
		r := h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA, sizedBody(t, 1, 1, 60, target), &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != "outcomes[0].callback" || !strings.Contains(e.Errors[0].Message, "--callback-allow-private") {
			t.Errorf("%s: errors %+v, want outcomes[0].callback naming --callback-allow-private", target, e.Errors)
		}
		for _, secret := range []string{"hookpass", "qs3cret"} {
			if strings.Contains(string(r.body), secret) {
				t.Errorf("error body leaks %q: %s", secret, r.body)
			}
		}
	}
	var e errorResponse
	h.expect(http.StatusBadRequest, http.MethodPost, "/api/v2/journey", credA, sizedBody(t, 1, 1, 60, "http://example.com:99999/hook"), &e)
	if len(e.Errors) != 1 || !strings.Contains(e.Errors[0].Message, "port 99999") {
		t.Errorf("bad port: %+v", e.Errors)
	}
	// A public address is accepted.
	h.create(credA, sizedBody(t, 1, 1, 60, "https://93.184.216.34/hook"))
}

// Every error message is redacted: a URL quoted from the input keeps
// neither its credentials nor its query values.
func TestErrorBodiesRedactURLs(t *testing.T) {
	ae := errBadRequest("outcomes[0].callback", `not reachable: "https://u:pw9@example.com/x?sig=q7"`)
	body := redactedBody(ae)
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pw9", "q7"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("error body holds %q: %s", secret, b)
		}
	}
	if !strings.Contains(string(b), "https://REDACTED@example.com/x?sig=REDACTED") || body.Errors[0].Field != "outcomes[0].callback" {
		t.Errorf("error body %s", b)
	}
}
