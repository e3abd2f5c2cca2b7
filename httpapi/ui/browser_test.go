package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/httpapi"
	"github.com/journeys/journeys/httpapi/ui"
	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

// chromium is Debian's Chromium, which CI installs with apt-get.
const chromium = "/usr/bin/chromium"

// The fixture's LRS client.
const (
	clientKey    = "ui-key"
	clientSecret = "ui-secret"
)

// site is the daemon's HTTP surface in a test: the real API and the page,
// over an embedded lungo engine and a real state store.
type site struct {
	t   *testing.T
	srv *httptest.Server
	db  lungo.IDatabase
	st  *state.Store
	org primitive.ObjectID
	lrs primitive.ObjectID
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	client, engine, err := lungo.Open(ctx, lungo.Options{Store: lungo.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &site{t: t, db: client.Database("learninglocker_v2"), st: st, org: primitive.NewObjectID(), lrs: primitive.NewObjectID()}
	_, err = s.db.Collection("client").InsertOne(ctx, bson.D{
		{Key: "_id", Value: primitive.NewObjectID()},
		{Key: "organisation", Value: s.org},
		{Key: "lrs_id", Value: s.lrs},
		{Key: "api", Value: bson.D{{Key: "basic_key", Value: clientKey}, {Key: "basic_secret", Value: clientSecret}}},
		{Key: "scopes", Value: bson.A{httpapi.ScopeAll}},
		{Key: "isTrusted", Value: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{DB: s.db, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(ui.Prefix, ui.Handler())
	mux.Handle("/", api)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// call sends an authenticated API request, requires status want and
// decodes the JSON answer into out unless it is nil.
func (s *site) call(method, path, body string, want int, out any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewBufferString(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(clientKey, clientSecret)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if res.StatusCode != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// createJourney posts a journey and returns its id.
func (s *site) createJourney(doc map[string]any) string {
	s.t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		s.t.Fatal(err)
	}
	var created struct {
		ID string `json:"_id"`
	}
	s.call(http.MethodPost, "/api/v2/journey", string(body), http.StatusCreated, &created)
	return created.ID
}

// compiled reads a journey as the pipeline would and compiles it.
func (s *site) compiled(id string) *journey.Compiled {
	s.t.Helper()
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := s.db.Collection("journeys").FindOne(context.Background(), bson.M{"_id": oid}).Raw()
	if err != nil {
		s.t.Fatal(err)
	}
	var j journey.Journey
	if err := bson.Unmarshal(raw, &j); err != nil {
		s.t.Fatal(err)
	}
	c, err := journey.Compile(&j)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// setStatus writes a journey's recalculateStatus as the pipeline does.
func (s *site) setStatus(id string, status bson.M) {
	s.t.Helper()
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		s.t.Fatal(err)
	}
	_, err = s.db.Collection("journeys").UpdateOne(context.Background(), bson.M{"_id": oid},
		bson.M{"$set": bson.M{"recalculateStatus": status}})
	if err != nil {
		s.t.Fatal(err)
	}
}

// waypoint is a waypoint of a journey body matching one verb.
func waypoint(description, verb string, count int, order float64) map[string]any {
	return map[string]any{
		"description": description,
		"conditions":  `{"statement.verb.id": "` + verb + `"}`,
		"count":       count,
		"order":       order,
	}
}

// Shapes of the API answers the test reads.
type (
	funnel struct {
		Owners            int   `json:"owners"`
		InProgress        int   `json:"inProgress"`
		Completed         int   `json:"completed"`
		CompletedAttempts int64 `json:"completedAttempts"`
		Waypoints         []struct {
			Waypoint  string `json:"waypoint"`
			Completed int    `json:"completed"`
		} `json:"waypoints"`
	}
	progressDoc struct {
		Journey string `json:"journey"`
		Owner   struct {
			Ident map[string]any `json:"ident"`
		} `json:"owner"`
		Completions []struct {
			Waypoints map[string]struct {
				Statements []struct {
					Statement string `json:"statement"`
				} `json:"statements"`
			} `json:"waypoints"`
		} `json:"completions"`
	}
)

// learnerExpectation is what the page must show for one learner: per
// journey, the number of attempts and the statements that counted.
type learnerExpectation struct {
	Mbox     string            `json:"mbox,omitempty"`
	HomePage string            `json:"homePage,omitempty"`
	Name     string            `json:"name,omitempty"`
	Journeys []journeyAttempts `json:"journeys"`
}

type journeyAttempts struct {
	Journey    string   `json:"journey"`
	Attempts   int      `json:"attempts"`
	Statements []string `json:"statements"`
}

// expectLearner reads a learner's progress through the API.
func (s *site) expectLearner(q url.Values, le learnerExpectation) learnerExpectation {
	s.t.Helper()
	var docs []progressDoc
	s.call(http.MethodGet, "/api/v2/journeyprogress?"+q.Encode(), "", http.StatusOK, &docs)
	if len(docs) == 0 {
		s.t.Fatalf("no progress for %v", q)
	}
	for _, d := range docs {
		ja := journeyAttempts{Journey: d.Journey, Attempts: len(d.Completions)}
		for _, a := range d.Completions {
			for _, w := range a.Waypoints {
				for _, st := range w.Statements {
					ja.Statements = append(ja.Statements, st.Statement)
				}
			}
		}
		le.Journeys = append(le.Journeys, ja)
	}
	return le
}

// journeyRow is a journey as the page's list must show it.
type journeyRow struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Status      string `json:"status"`
}

// e2eConfig is handed to e2e/ui.test.mjs as JSON in E2E_CONFIG.
type e2eConfig struct {
	URL         string             `json:"url"`
	Key         string             `json:"key"`
	Secret      string             `json:"secret"`
	Chromium    string             `json:"chromium"`
	Screenshots string             `json:"screenshots"`
	Journeys    []journeyRow       `json:"journeys"`
	Funnel      funnel             `json:"funnel"`
	FunnelOf    string             `json:"funnelOf"`
	Recalculate string             `json:"recalculating"`
	ByMbox      learnerExpectation `json:"byMbox"`
	ByAccount   learnerExpectation `json:"byAccount"`
}

// TestBrowser drives the page in headless Chromium against the real API
// over progress the real engine computed from generated traffic. Set
// UI_SCREENSHOTS to a directory to keep the screenshots it takes.
func TestBrowser(t *testing.T) {
	node := browserPrerequisites(t)
	s := newSite(t)
	cfg := e2eConfig{URL: s.srv.URL + ui.Prefix, Key: clientKey, Secret: clientSecret, Chromium: chromium}
	cfg.Journeys = s.createJourneys()
	onboarding, assessment, media := cfg.Journeys[0].ID, cfg.Journeys[1].ID, cfg.Journeys[2].ID
	s.runTraffic(onboarding, assessment, media)

	// What the pipeline would report: every recalculation done but the
	// media journey's, at 3750 of 5000 statements.
	now := time.Now()
	for _, id := range []string{onboarding, assessment} {
		s.setStatus(id, bson.M{"inProgress": false, "totalCount": int64(600), "remainingCount": int64(0), "startedAt": now, "finishedAt": now})
	}
	s.setStatus(media, bson.M{"inProgress": true, "totalCount": int64(5000), "remainingCount": int64(1250), "startedAt": now})

	cfg.FunnelOf, cfg.Recalculate = onboarding, media
	s.call(http.MethodGet, "/api/v2/journey/"+onboarding+"/funnel", "", http.StatusOK, &cfg.Funnel)
	f := cfg.Funnel
	// The traffic must make every number of the funnel worth checking:
	// repeated attempts, owners in progress and a narrowing funnel.
	if f.Owners == 0 || f.InProgress == 0 || f.CompletedAttempts <= int64(f.Completed) || len(f.Waypoints) != 3 ||
		f.Waypoints[2].Completed == 0 || f.Waypoints[0].Completed <= f.Waypoints[2].Completed {
		t.Fatalf("generated traffic gives a degenerate funnel: %+v", f)
	}
	cfg.ByMbox, cfg.ByAccount = s.learners(onboarding)

	cfg.Screenshots = os.Getenv("UI_SCREENSHOTS")
	if cfg.Screenshots == "" {
		cfg.Screenshots = t.TempDir()
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runScript(t, node, "ui.test.mjs", b)
}

// browserPrerequisites returns node's path, or skips the test when node,
// Chromium or playwright-core is missing, or in -short mode.
func browserPrerequisites(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipping the browser test: node is not installed (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("skipping the browser test: %s is missing (apt-get install -y chromium)", chromium)
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Skip("skipping the browser test: playwright-core is missing (npm ci in httpapi/ui/e2e)")
	}
	return node
}

// createJourneys creates the fixture's journeys: a sequential repeatable
// one with an inactive waypoint, an unordered one, one the test shows as
// recalculating and an inactive one, in that order.
func (s *site) createJourneys() []journeyRow {
	s.t.Helper()
	defs := []struct {
		status string // as the list must show it
		body   map[string]any
	}{
		{"Active", map[string]any{
			"description": "Onboarding: launch, discuss, complete", "isSequential": true, "isRepeatable": true,
			"waypoints": []any{
				waypoint("Launch the course", xapitest.VerbLaunched, 1, 1),
				waypoint("Join the discussion", xapitest.VerbCommented, 2, 2),
				waypoint("Complete the course", xapitest.VerbCompleted, 1, 3),
				map[string]any{"description": "Retired survey", "isActive": false, "conditions": `{"statement.verb.id": "x"}`},
			},
		}},
		{"Active", map[string]any{
			"description": "Assessment: pass and answer three questions",
			"waypoints": []any{
				waypoint("Pass the assessment", xapitest.VerbPassed, 1, 1),
				waypoint("Answer questions", xapitest.VerbAnswered, 3, 2),
			},
		}},
		{"Recalculating", map[string]any{
			"description": "Media: experience two videos",
			"waypoints":   []any{waypoint("Watch videos", xapitest.VerbExperienced, 2, 1)},
		}},
		{"Inactive", map[string]any{
			"description": "Pilot (retired)", "isActive": false,
			"waypoints": []any{waypoint("Launch", xapitest.VerbLaunched, 1, 1)},
		}},
	}
	rows := make([]journeyRow, len(defs))
	for i, d := range defs {
		rows[i] = journeyRow{ID: s.createJourney(d.body), Description: d.body["description"].(string), Status: d.status}
	}
	return rows
}

// runTraffic runs the real engine over generated statements for the
// journeys ids and commits their progress to the state store.
func (s *site) runTraffic(ids ...string) {
	s.t.Helper()
	engine := processor.NewEngine(s.st, processor.Options{})
	for _, id := range ids {
		engine.SetJourney(s.compiled(id), 0)
	}
	const actors = 24
	gen := xapitest.New(11, xapitest.Options{Organisation: s.org, Store: s.lrs, Actors: actors})
	verbs := []string{
		xapitest.VerbLaunched, xapitest.VerbCommented, xapitest.VerbCommented, xapitest.VerbCompleted,
		xapitest.VerbPassed, xapitest.VerbAnswered, xapitest.VerbExperienced, xapitest.VerbAttempted,
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 600 {
		doc := gen.Make(xapitest.Spec{Actor: gen.Actor(rng.IntN(actors)), Verb: verbs[rng.IntN(len(verbs))]})
		if _, err := engine.Statement(doc); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := engine.Commit(nil); err != nil {
		s.t.Fatal(err)
	}
}

// learners picks two owners of journey id, one by mbox with at least two
// attempts and one by account, and reads what the page must show for them.
func (s *site) learners(id string) (byMbox, byAccount learnerExpectation) {
	s.t.Helper()
	var docs []progressDoc
	s.call(http.MethodGet, "/api/v2/journeyprogress?limit=1000&journey="+id, "", http.StatusOK, &docs)
	for _, d := range docs {
		if mbox, ok := d.Owner.Ident["mbox"].(string); ok && byMbox.Mbox == "" && len(d.Completions) >= 2 {
			byMbox = s.expectLearner(url.Values{"mbox": {mbox}}, learnerExpectation{Mbox: mbox})
		}
		if acc, ok := d.Owner.Ident["account"].(map[string]any); ok && byAccount.Name == "" {
			home, name := acc["homePage"].(string), acc["name"].(string)
			byAccount = s.expectLearner(url.Values{"account.homePage": {home}, "account.name": {name}},
				learnerExpectation{HomePage: home, Name: name})
		}
	}
	if byMbox.Mbox == "" || byAccount.Name == "" {
		s.t.Fatalf("no learner by mbox with two attempts or by account among %d owners", len(docs))
	}
	return byMbox, byAccount
}

// runScript runs the browser script e2e/name with config in E2E_CONFIG
// and fails the test with its output when it fails.
func runScript(t *testing.T, node, name string, config []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, name)
	cmd.Dir = "e2e"
	cmd.Env = append(os.Environ(), "E2E_CONFIG="+string(config))
	cmd.WaitDelay = 5 * time.Second // bound a browser that outlives the script
	out, err := cmd.CombinedOutput()
	t.Logf("%s:\n%s", name, out)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
