package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// runDemo runs the daemon on the embedded statement log in a temporary directory,
// creates the seed's sample journey and a repeatable unordered one, sends
// realistic xAPI traffic for a class of learners through the statements
// API, and prints the callbacks a local endpoint receives, then a summary.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	keep := fs.Bool("keep", false, "leave the daemon running after the demo, until interrupted")
	learners := fs.Int("learners", 50, "number of learners")
	seed := fs.Int64("seed", 1, "seed of the generated traffic")
	dataDir := fs.String("data-dir", "", "data directory (default: a new temporary directory, removed afterwards unless --keep)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	dir := *dataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "journeysd-demo-"); err != nil {
			return err
		}
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}

	recv, err := newReceiver(stdout)
	if err != nil {
		return err
	}
	defer recv.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := startDaemon(ctx, serveConfig{
		DataDir: dir, Listen: "127.0.0.1:0", MongoDB: "learninglocker_v2",
		AdminKey: "demo", AdminSecret: "demo-secret",
		CallbackTimeout: 5 * time.Second, CallbackRetryWindow: time.Minute, CallbackConcurrency: 8,
		CallbackAllowPrivate: true, BatchSize: 1000, ProgressCache: defaultProgressCache,
		ShutdownBudget: 10 * time.Second,
	}, log)
	if err != nil {
		return err
	}
	api := &apiClient{base: "http://" + d.Addr(), key: "demo", secret: "demo-secret"}
	fmt.Fprintf(stdout, "journeysd demo: daemon on %s, data in %s\n", api.base, dir)
	if err := waitReady(ctx, d); err != nil {
		return err
	}

	journeys := demoJourneys(recv.URL())
	ids := make([]string, len(journeys))
	for i, j := range journeys {
		var out struct {
			ID string `json:"_id"`
		}
		if err := api.do(ctx, "POST", "/api/v2/journey", j, &out); err != nil {
			return fmt.Errorf("create journey: %w", err)
		}
		ids[i] = out.ID
		recv.name(out.ID, j["description"].(string))
		fmt.Fprintf(stdout, "created journey %q (%s)\n", j["description"], out.ID)
	}

	stmts := demoTraffic(*seed, *learners)
	fmt.Fprintf(stdout, "sending %d statements for %d learners…\n", len(stmts), *learners)
	for i := 0; i < len(stmts); i += 50 {
		if err := api.do(ctx, "POST", "/data/xAPI/statements", stmts[i:min(i+50, len(stmts))], nil); err != nil {
			return fmt.Errorf("send statements: %w", err)
		}
		if (i/50)%5 == 0 || i+50 >= len(stmts) {
			fmt.Fprintf(stdout, "  sent %4d/%d statements · %d callbacks so far\n", min(i+50, len(stmts)), len(stmts), recv.Count())
		}
		time.Sleep(20 * time.Millisecond) // traffic, not a bulk load
	}

	funnels, err := settle(ctx, api, ids, recv)
	if err != nil {
		return err
	}
	printSummary(stdout, journeys, funnels, recv)

	if *keep {
		fmt.Fprintf(stdout, "\nThe daemon keeps running (Ctrl-C to stop):\n  page     %s/ui/\n  API      %s/api/v2/journey\n  progress %s/api/v2/journeyprogress?journey=%s\n  metrics  %s/metrics\n  credentials: HTTP Basic demo:demo-secret\n", api.base, api.base, api.base, ids[0], api.base)
		<-ctx.Done()
	}
	cancel()
	return d.Wait()
}

func waitReady(ctx context.Context, d *daemon) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := d.ready(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon not ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// funnel is the part of GET /api/v2/journey/:id/funnel the demo prints.
type funnel struct {
	Owners            int `json:"owners"`
	InProgress        int `json:"inProgress"`
	CompletedAttempts int `json:"completedAttempts"`
	Waypoints         []struct {
		Description string `json:"description"`
		Completed   int    `json:"completed"`
	} `json:"waypoints"`
}

// settle waits until every completion the funnels report has been called
// back and nothing changed for a moment, and returns the funnels.
func settle(ctx context.Context, api *apiClient, ids []string, recv *receiver) ([]funnel, error) {
	deadline := time.Now().Add(60 * time.Second)
	var last string
	stable := 0
	for {
		fs := make([]funnel, len(ids))
		completions := 0
		for i, id := range ids {
			if err := api.do(ctx, "GET", "/api/v2/journey/"+id+"/funnel", nil, &fs[i]); err != nil {
				return nil, err
			}
			completions += fs[i].CompletedAttempts
		}
		b, _ := json.Marshal(fs)
		if string(b) == last && completions == recv.Count() {
			if stable++; stable >= 3 {
				return fs, nil
			}
		} else {
			stable = 0
		}
		last = string(b)
		if time.Now().After(deadline) {
			return fs, fmt.Errorf("callbacks did not settle: %d completions, %d callbacks received", completions, recv.Count())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printSummary(w io.Writer, journeys []map[string]any, fs []funnel, recv *receiver) {
	fmt.Fprintln(w, "\nSummary")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "journey\twaypoints reached (latest attempt)\tin progress\tcompleted attempts\tcallbacks")
	for i, j := range journeys {
		var steps []string
		for _, s := range fs[i].Waypoints {
			steps = append(steps, fmt.Sprintf("%s: %d", s.Description, s.Completed))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", j["description"], strings.Join(steps, " → "), fs[i].InProgress, fs[i].CompletedAttempts, recv.CountFor(j["description"].(string)))
	}
	tw.Flush()
}

// demoJourneys are the seed's sample journey (its example body, commas
// fixed, on every store) and a repeatable, unordered one.
func demoJourneys(callback string) []map[string]any {
	out := []map[string]any{{
		"description": "5 comments and 1 completion of a course", "isActive": true,
		"isSequential": true, "isRepeatable": false, "trackBy": "actor", "isPublic": true,
		"waypoints": []any{
			map[string]any{"description": "5 comments", "isActive": true, "count": 5, "order": 1,
				"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/commented"}`},
			map[string]any{"description": "1 course completion", "isActive": true, "count": 1, "order": 2,
				"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed", "statement.object.definition.type": "http://adlnet.gov/expapi/activities/course"}`},
		},
	}, {
		"description": "Practice: a module, a question and a pass, in any order", "isActive": true,
		"isSequential": false, "isRepeatable": true, "trackBy": "actor",
		"waypoints": []any{
			map[string]any{"description": "2 modules", "count": 2,
				"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/experienced", "statement.object.definition.type": "http://adlnet.gov/expapi/activities/module"}`},
			map[string]any{"description": "1 answer", "count": 1,
				"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/answered"}`},
			map[string]any{"description": "1 pass", "count": 1,
				"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/passed", "statement.result.score.scaled": {"$gte": 0.5}}`},
		},
	}}
	for _, j := range out {
		j["outcomes"] = []any{map[string]any{"description": "POST to the demo endpoint", "isActive": true, "type": "callback", "callback": callback}}
	}
	return out
}

// demoTraffic makes a class's statements: every learner comments a few
// times, most complete the course, and they work through modules,
// questions and assessments, in an interleaved order.
func demoTraffic(seed int64, learners int) []map[string]any {
	r := rand.New(rand.NewSource(seed))
	type ev struct {
		at   int
		stmt map[string]any
	}
	var evs []ev
	base := time.Now().Add(-time.Hour).UTC()
	n := 0
	add := func(at int, learner int, verb, object, typ string, score float64) {
		s := map[string]any{
			"id":     fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(seed), n),
			"actor":  map[string]any{"objectType": "Agent", "name": fmt.Sprintf("Learner %02d", learner), "mbox": fmt.Sprintf("mailto:learner%02d@example.com", learner)},
			"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"en-US": verb}},
			"object": map[string]any{"id": object, "objectType": "Activity", "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/" + typ, "name": map[string]any{"en-US": object[strings.LastIndex(object, "/")+1:]}}},
		}
		if score >= 0 {
			s["result"] = map[string]any{"score": map[string]any{"scaled": score}, "success": score >= 0.5}
		}
		n++
		s["timestamp"] = base.Add(time.Duration(at) * time.Second).Format(time.RFC3339Nano)
		evs = append(evs, ev{at: at, stmt: s})
	}
	course := "http://example.com/courses/xapi-101"
	for l := 0; l < learners; l++ {
		t := r.Intn(600)
		for c := 2 + r.Intn(6); c > 0; c-- {
			t += 10 + r.Intn(120)
			add(t, l, "commented", course+"/forum", "discussion", -1)
		}
		for m := r.Intn(6); m > 0; m-- {
			t += 10 + r.Intn(120)
			add(t, l, "experienced", fmt.Sprintf("%s/module/%d", course, r.Intn(4)), "module", -1)
			if r.Intn(2) == 0 {
				add(t+5, l, "answered", fmt.Sprintf("%s/question/%d", course, r.Intn(9)), "question", -1)
			}
			if r.Intn(3) == 0 {
				add(t+9, l, "passed", course+"/quiz", "assessment", 0.4+0.6*r.Float64())
			}
		}
		if r.Intn(5) != 0 {
			add(t+200+r.Intn(300), l, "completed", course, "course", -1)
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	out := make([]map[string]any, len(evs))
	for i, e := range evs {
		out[i] = e.stmt
	}
	return out
}

// receiver is the demo's callback endpoint: it prints who completed what.
type receiver struct {
	out   io.Writer
	srv   *http.Server
	ln    net.Listener
	mu    sync.Mutex
	names map[string]string
	by    map[string]int
	total int
}

func newReceiver(out io.Writer) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{out: out, ln: ln, names: map[string]string{}, by: map[string]int{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) URL() string { return "http://" + r.ln.Addr().String() + "/callback" }

func (r *receiver) name(id, desc string) {
	r.mu.Lock()
	r.names[id] = desc
	r.mu.Unlock()
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Owner struct {
			Ident map[string]any `json:"ident"`
		} `json:"owner"`
		Journey struct {
			ID          string `json:"_id"`
			Description string `json:"description"`
		} `json:"journey"`
		CompletedAt string `json:"completedAt"`
	}
	b, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	who := fmt.Sprint(body.Owner.Ident["mbox"])
	r.mu.Lock()
	r.by[body.Journey.Description]++
	r.total++
	r.mu.Unlock()
	fmt.Fprintf(r.out, "  ✓ callback %s: %s completed %q\n", req.Header.Get("webhook-id"), strings.TrimPrefix(who, "mailto:"), body.Journey.Description)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

func (r *receiver) CountFor(desc string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[desc]
}

func (r *receiver) Close() error { return r.srv.Close() }

// apiClient calls the daemon's API with the admin credential.
type apiClient struct {
	base, key, secret string
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.key, c.secret)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(path, "/data/xAPI/") {
		req.Header.Set("X-Experience-API-Version", "1.0.3")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
