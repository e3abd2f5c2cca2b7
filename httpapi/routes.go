package httpapi

import "net/http"

// access is what a route requires of the principal.
type access int

const (
	accessPublic access = iota // no credentials
	accessRead                 // read journeys, progress, funnels, deliveries
	accessWrite                // write journeys, request recalculations, replay
	accessIngest               // store xAPI statements
)

// handlerFunc serves one route; a returned error is written as the
// response (see writeError).
type handlerFunc func(w http.ResponseWriter, r *http.Request, rq *request) error

// route is one method and path of the API. The route table is the single
// source of the router's registrations and of the OpenAPI document's
// paths.
type route struct {
	method  string
	pattern string // httprouter syntax: /api/v2/journey/:id
	access  access
	h       handlerFunc
	// alias marks a route served by another route's handler because
	// httprouter cannot register both patterns (GET /api/v2/journey/count
	// under GET /api/v2/journey/:id, and likewise for journeyprogress).
	alias bool
	// routed, when set, is the pattern registered on the router in place
	// of pattern, which the OpenAPI document shows: httprouter cannot
	// register a static segment where another route has a parameter, so
	// POST /api/v2/journey/conditions/test is registered as
	// /api/v2/journey/:id/test and its handler answers 404 for any other
	// id.
	routed string
}

// routeTable lists the routes for the server's configuration.
func (s *server) routeTable() []route {
	rs := []route{
		{method: http.MethodGet, pattern: "/healthz", access: accessPublic, h: s.healthz},
		{method: http.MethodGet, pattern: "/readyz", access: accessPublic, h: s.readyz},
		{method: http.MethodGet, pattern: "/api/openapi.json", access: accessPublic, h: s.openAPI},

		{method: http.MethodGet, pattern: "/api/v2/journey", access: accessRead, h: s.listJourneys},
		{method: http.MethodPost, pattern: "/api/v2/journey", access: accessWrite, h: s.createJourney},
		{method: http.MethodGet, pattern: "/api/v2/journey/count", access: accessRead, h: s.countJourneys, alias: true},
		{method: http.MethodGet, pattern: "/api/v2/journey/:id", access: accessRead, h: s.getJourneyOrCount},
		{method: http.MethodPut, pattern: "/api/v2/journey/:id", access: accessWrite, h: s.putJourney},
		{method: http.MethodPost, pattern: "/api/v2/journey/:id", access: accessWrite, h: s.putJourney},
		{method: http.MethodPatch, pattern: "/api/v2/journey/:id", access: accessWrite, h: s.patchJourney},
		{method: http.MethodDelete, pattern: "/api/v2/journey/:id", access: accessWrite, h: s.deleteJourney},
		{method: http.MethodPost, pattern: "/api/v2/journey/:id/recalculate", access: accessWrite, h: s.recalculate},
		{method: http.MethodGet, pattern: "/api/v2/journey/:id/funnel", access: accessRead, h: s.funnel},
		{method: http.MethodGet, pattern: "/api/v2/journey/:id/deliveries", access: accessRead, h: s.journeyDeliveries},
		{method: http.MethodGet, pattern: "/api/connection/journey", access: accessRead, h: s.journeyConnection},

		{method: http.MethodGet, pattern: "/api/v2/journeyprogress", access: accessRead, h: s.listProgress},
		{method: http.MethodGet, pattern: "/api/v2/journeyprogress/count", access: accessRead, h: s.countProgress, alias: true},
		{method: http.MethodGet, pattern: "/api/v2/journeyprogress/:id", access: accessRead, h: s.getProgressOrCount},
		{method: http.MethodGet, pattern: "/api/connection/journeyProgress", access: accessRead, h: s.progressConnection},
		{method: http.MethodGet, pattern: "/api/v2/journeyprogress/:id/attempts", access: accessRead, h: s.progressAttemptsPage},

		{method: http.MethodGet, pattern: "/api/v2/deliveries", access: accessRead, h: s.listDeliveries},
	}
	if s.cfg.Deliveries != nil {
		rs = append(rs, route{method: http.MethodPost, pattern: "/api/v2/deliveries/:id/replay", access: accessWrite, h: s.replay})
	}
	if s.cfg.Statements != nil {
		rs = append(rs, route{method: http.MethodPost, pattern: "/api/v2/journey/conditions/test", routed: "/api/v2/journey/:id/test", access: accessWrite, h: s.testConditions})
	}
	if s.cfg.Ingest != nil {
		rs = append(rs,
			route{method: http.MethodPost, pattern: "/data/xAPI/statements", access: accessIngest, h: s.ingest},
			route{method: http.MethodPut, pattern: "/data/xAPI/statements", access: accessIngest, h: s.putStatement},
			route{method: http.MethodGet, pattern: "/data/xAPI/statements", access: accessIngest, h: s.getStatement},
			// xAPI 1.0.3 Communication §1.1: HEAD is answered as GET
			// without the body (net/http drops what the handler writes).
			route{method: http.MethodHead, pattern: "/data/xAPI/statements", access: accessIngest, h: s.getStatement})
	}
	if s.cfg.Metrics != nil {
		rs = append(rs, route{method: http.MethodGet, pattern: "/metrics", access: accessPublic, h: s.metrics})
	}
	return rs
}
