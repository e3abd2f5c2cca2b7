package ops

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exposedNames returns the sample names of a text exposition (histogram
// series with their _bucket, _sum and _count suffixes).
func exposedNames(text string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query any    `json:"query"` // a string, or {query, refId}
		} `json:"list"`
	} `json:"templating"`
}

// labelValues matches a Grafana label_values(metric, label) query.
var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$`)

// TestDashboardMetricsExist: the Grafana dashboard is valid JSON and every
// metric its panels and variables query is served by a live daemon: a
// renamed metric must not leave a panel silently empty.
func TestDashboardMetricsExist(t *testing.T) {
	raw, err := os.ReadFile("grafana/journeysd.json")
	if err != nil {
		t.Fatal(err)
	}
	var db dashboard
	if err := json.Unmarshal(raw, &db); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	if db.Title == "" || db.UID == "" {
		t.Error("dashboard needs a title and a uid")
	}
	d := startDaemon(t)
	d.insert(t, 100, traffic{})
	exposed := exposedNames(d.scrape(t))

	var queried []string
	for _, p := range db.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := metricNames(tg.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: no metric in %q", p.Title, tg.Expr)
			}
			for _, n := range names {
				if !exposed[n] {
					t.Errorf("panel %q queries %s, which journeysd does not export", p.Title, n)
				}
				queried = append(queried, n)
			}
		}
	}
	for _, v := range db.Templating.List {
		q := v.Query
		if m, ok := q.(map[string]any); ok {
			q = m["query"]
		}
		s, _ := q.(string)
		if s == "prometheus" { // the data source variable's plugin type
			continue
		}
		m := labelValues.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, s)
			continue
		}
		if !exposed[m[1]] {
			t.Errorf("variable %s queries %s, which journeysd does not export", v.Name, m[1])
		}
	}
	// The list of what the dashboard shows.
	for _, want := range []string{
		"journeys_statements_processed_total",               // throughput
		"journeys_stream_lag_seconds",                       // lag
		"journeys_completions_total",                        // completions
		"journeys_callback_deliveries_total",                // callback health
		"journeys_outbox_pending",                           // outbox
		"journeys_recalculation_remaining_statements",       // recalculation
		"journeys_commit_duration_seconds_bucket",           // commits
		"journeys_pebble_disk_usage_bytes",                  // state store
		"journeys_callback_attempt_duration_seconds_bucket", // callback latency
	} {
		if !slices.Contains(queried, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

// TestAlertMetricsExist: every metric the alert rules use is served by a
// live daemon (or, for up, made by Prometheus): an alert on a misspelt
// metric never fires.
func TestAlertMetricsExist(t *testing.T) {
	raw, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs := ruleExprs(string(raw))
	if len(exprs) < 4 {
		t.Fatalf("found %d rule expressions in alerts.yml, want at least 4", len(exprs))
	}
	d := startDaemon(t)
	d.insert(t, 100, traffic{})
	exposed := exposedNames(d.scrape(t))
	exposed["up"] = true // the scrape's own health, recorded by Prometheus
	for _, e := range exprs {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("no metric in rule %q", e)
		}
		for _, n := range names {
			if !exposed[n] {
				t.Errorf("rule %q uses %s, which journeysd does not export", strings.TrimSpace(e), n)
			}
		}
	}
}

// TestMetricsDocumented: METRICS.md documents every journeys_ metric a
// live daemon exports, and nothing it does not export.
func TestMetricsDocumented(t *testing.T) {
	raw, err := os.ReadFile("METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(journeys_[a-z_]+)`").FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]] = true
	}
	d := startDaemon(t)
	d.insert(t, 50, traffic{})
	families := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (journeys_\w+) `).FindAllStringSubmatch(d.scrape(t), -1) {
		families[m[1]] = true
		if !documented[m[1]] {
			t.Errorf("%s is exported but not documented in METRICS.md", m[1])
		}
	}
	if len(families) == 0 {
		t.Fatal("no journeys_ metric in the scrape")
	}
	for name := range documented {
		// The bare prefix `journeys_` names them all, not a metric.
		if !families[name] && !strings.HasSuffix(name, "_") {
			t.Errorf("METRICS.md documents %s, which is not exported", name)
		}
	}
}
