package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/256dpi/lungo"
	"github.com/julienschmidt/httprouter"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/state"
)

// DefaultMaxBody is the request body limit used when Config.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// Config configures the API handler.
type Config struct {
	// JourneyStore holds the journeys; ClientStore the LRS clients that
	// authenticate (nil: only the admin credential does).
	JourneyStore lrs.JourneyStore
	ClientStore  lrs.ClientStore
	// DB, when set, is a MongoDB LRS database (wrapped by lungo.Connect,
	// or lungo standing in for one in tests) whose collections provide
	// JourneyStore and ClientStore where they are nil; Journeys and
	// Clients are the collection names ("journeys" and "client" when
	// empty).
	DB                lungo.IDatabase
	Journeys, Clients string
	// Store holds progress and deliveries; the API only reads it. Required.
	Store *state.Store
	// Admin is the static admin credential; an empty Key disables it.
	Admin Admin
	// MaxBody bounds request bodies in bytes; zero selects DefaultMaxBody.
	MaxBody int64
	// Ingest stores xAPI statements (embedded mode only) and returns their
	// ids; it is statementlog.Log.Ingest, whose error types (lrs's) are
	// mapped to 400 and 409 responses. Nil leaves POST /data/xAPI/statements unrouted.
	Ingest func(ctx context.Context, p Principal, body []byte) ([]string, error)
	// Statement returns the stored document of statement id in p's store
	// and whether it is voided, or lrs.ErrNotFound; it serves GET and
	// must be set with Ingest (which also serves PUT).
	Statement func(ctx context.Context, p Principal, id string) (bson.Raw, bool, error)
	// Statements reads recent statements for the condition tester; nil
	// leaves POST /api/v2/journey/conditions/test unrouted.
	Statements Statements
	// Ready reports readiness for /readyz; nil is always ready.
	Ready func(ctx context.Context) error
	// Metrics is served at /metrics when non-nil.
	Metrics http.Handler
	// Deliveries replays dead-lettered callbacks; nil leaves the replay
	// route unrouted.
	Deliveries DeliveryControl
	// Limits bound the size of journeys saved through the API; the zero
	// value selects the defaults (docs/design.md §11). LimitStats, when not
	// nil, counts the saves each limit refused.
	Limits     journey.Limits
	LimitStats *journey.LimitStats
	// ProgressAttempts is how many completed attempts a progress document
	// lists (the newest; older ones are paged through
	// /api/v2/journeyprogress/:id/attempts); zero selects
	// DefaultProgressAttempts.
	ProgressAttempts int
	// CheckCallback, when not nil, checks at save time that a callback URL
	// can be delivered to (dispatch.Dispatcher.CheckTarget); its error is
	// a 400 on the outcome's callback field.
	CheckCallback func(ctx context.Context, url string) error
	// Logger receives request failures; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. It dates writes.
	Now func() time.Time
}

// Admin is the static admin credential. It authenticates as a principal of
// Organisation with every scope; statements it ingests go to Store.
type Admin struct {
	Key, Secret  string
	Organisation primitive.ObjectID
	Store        primitive.ObjectID
}

// DeliveryControl replays dead-lettered callback deliveries. The callback
// dispatcher implements it.
type DeliveryControl interface {
	// Replay moves the dead-lettered delivery id back to the outbox, to be
	// sent again as soon as possible.
	Replay(ctx context.Context, id string) error
}

// server holds the API's dependencies; its methods are the handlers.
type server struct {
	cfg      Config
	journeys lrs.JourneyStore
	auth     *authenticator
	log      *slog.Logger
	now      func() time.Time
	routes   []route
	openapi  []byte
	// params are the query parameters each route accepts: those its
	// operation documents in openapi.
	params queryParams
}

// New returns the API handler for cfg.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("httpapi: config: no state store")
	}
	if cfg.Admin.Key != "" && (cfg.Admin.Secret == "" || cfg.Admin.Organisation.IsZero()) {
		return nil, errors.New("httpapi: config: the admin credential needs a secret and an organisation")
	}
	if cfg.Journeys == "" {
		cfg.Journeys = "journeys"
	}
	if cfg.Clients == "" {
		cfg.Clients = "client"
	}
	if cfg.DB != nil && cfg.JourneyStore == nil {
		cfg.JourneyStore = lrs.CollectionJourneys{Coll: cfg.DB.Collection(cfg.Journeys)}
	}
	if cfg.DB != nil && cfg.ClientStore == nil {
		cfg.ClientStore = lrs.CollectionClients{Coll: cfg.DB.Collection(cfg.Clients)}
	}
	if cfg.JourneyStore == nil {
		return nil, errors.New("httpapi: config: no journey store")
	}
	if (cfg.Ingest == nil) != (cfg.Statement == nil) {
		return nil, errors.New("httpapi: config: the statement resource needs both Ingest and Statement")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{
		cfg:      cfg,
		journeys: cfg.JourneyStore,
		auth:     newAuthenticator(cfg.ClientStore, cfg.Admin, cfg.Now),
		log:      cfg.Logger,
		now:      cfg.Now,
	}
	s.routes = s.routeTable()
	doc, err := renderOpenAPI(s.routes)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	s.openapi = doc
	if s.params, err = documentedQueryParams(doc); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	return newCanonicalPaths(s.newRouter(), s.routes), nil
}

// newRouter registers the route table on an httprouter.
func (s *server) newRouter() *httprouter.Router {
	r := httprouter.New()
	r.RedirectTrailingSlash = false // a redirect would drop a POST body
	r.RedirectFixedPath = false
	for _, rt := range s.routes {
		if rt.alias {
			continue // served by the route sharing its pattern
		}
		pattern := rt.pattern
		if rt.routed != "" {
			pattern = rt.routed
		}
		r.Handle(rt.method, pattern, s.handle(rt))
	}
	r.NotFound = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, errNotFound("no such route"))
	})
	r.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// httprouter has set the Allow header.
		s.writeError(w, req, &apiError{status: http.StatusMethodNotAllowed, msg: "method " + req.Method + " not allowed"})
	})
	r.PanicHandler = func(w http.ResponseWriter, req *http.Request, v any) {
		s.log.Error("panic serving request", "method", req.Method, "path", req.URL.Path, "panic", v)
		s.writeError(w, req, fmt.Errorf("panic: %v", v))
	}
	return r
}

// handle adapts a route to httprouter: it authenticates and authorises the
// request, then runs the handler and writes its error, if any.
func (s *server) handle(rt route) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		rq := &request{params: ps}
		if rt.access != accessPublic {
			p, err := s.auth.authenticate(r.Context(), r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if !p.allows(rt.access) {
				s.writeError(w, r, &apiError{status: http.StatusForbidden, msg: "the credential's scopes do not allow this request"})
				return
			}
			rq.p = p
		}
		if err := s.params.check(rt, r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := rt.h(w, r, rq); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// request carries what the router and the authentication established.
type request struct {
	p      *Principal // nil on public routes
	params httprouter.Params
}
