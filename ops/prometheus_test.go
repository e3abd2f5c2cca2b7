package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// prometheusServer is a real Prometheus scraping one daemon every second,
// with ops/prometheus/alerts.yml loaded.
type prometheusServer struct {
	t    *testing.T
	url  string
	log  bytes.Buffer
	done chan error
}

// startPrometheus starts Prometheus on a free loopback port, scraping
// target as job "journeys", and waits until it is ready.
func startPrometheus(t *testing.T, target string) *prometheusServer {
	t.Helper()
	bin := tool(t, "prometheus")
	dir := t.TempDir()
	rules, err := filepath.Abs("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: journeys
    static_configs: [{targets: [%q]}]
`, rules, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &prometheusServer{t: t, url: "http://" + freeAddr(t), done: make(chan error, 1)}
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.url[len("http://"):],
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.log.String())
		}
	})
	p.waitFor("Prometheus ready", func() bool {
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// waitFor polls cond until it holds, failing the test after 20 s or when
// Prometheus exits.
func (p *prometheusServer) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		select {
		case err := <-p.done:
			p.t.Fatalf("prometheus exited (%v) while waiting for %s:\n%s", err, what, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get decodes the data of a Prometheus HTTP API response into out.
func (p *prometheusServer) get(path string, out any) {
	p.t.Helper()
	resp, err := http.Get(p.url + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	if body.Status != "success" {
		p.t.Fatalf("GET %s: %s: %s", path, body.Status, body.Error)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
}

// query returns the value of an instant query that selects one series;
// ok is false when it selects none.
func (p *prometheusServer) query(q string) (v float64, ok bool) {
	p.t.Helper()
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	p.get("/api/v1/query?query="+url.QueryEscape(q), &data)
	switch len(data.Result) {
	case 0:
		return 0, false
	case 1:
	default:
		p.t.Fatalf("query %s: %d series, want 1", q, len(data.Result))
	}
	s, _ := data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		p.t.Fatalf("query %s: value %q: %v", q, s, err)
	}
	return v, true
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPrometheusScrapesDaemon runs a real Prometheus against a daemon fed
// traffic and reads the statement counter back through its HTTP API, then
// checks that the alert rules evaluate cleanly on the live series.
func TestPrometheusScrapesDaemon(t *testing.T) {
	tool(t, "prometheus")
	d := startDaemon(t)
	d.insert(t, 300, traffic{voided: 2, anonymous: 1})
	p := startPrometheus(t, d.srv.Listener.Addr().String())

	const processed = `journeys_statements_processed_total{job="journeys"}`
	p.waitFor("the first scrape", func() bool { _, ok := p.query(processed); return ok })
	if v, _ := p.query(processed); v != 300 {
		t.Errorf("%s = %g after 300 statements", processed, v)
	}
	d.insert(t, 150, traffic{})
	p.waitFor("a scrape after more traffic", func() bool { v, _ := p.query(processed); return v == 450 })
	if v, _ := p.query(`journeys_statements_skipped_total{job="journeys",reason="voided"}`); v != 2 {
		t.Errorf("voided statements = %g through Prometheus, want 2", v)
	}
	if v, _ := p.query(`up{job="journeys"}`); v != 1 {
		t.Errorf(`up{job="journeys"} = %g, want 1`, v)
	}

	// Every alert rule is evaluated without error, and none fires on a
	// healthy daemon.
	type rule struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
		State     string `json:"state"`
	}
	var rules []rule
	p.waitFor("the alert rules' evaluation", func() bool {
		var data struct {
			Groups []struct {
				Rules []rule `json:"rules"`
			} `json:"groups"`
		}
		p.get("/api/v1/rules", &data)
		rules = rules[:0]
		for _, g := range data.Groups {
			rules = append(rules, g.Rules...)
		}
		for _, r := range rules {
			if r.Health == "unknown" {
				return false
			}
		}
		return len(rules) > 0
	})
	for _, r := range rules {
		if r.Health != "ok" || r.State != "inactive" {
			t.Errorf("rule %s: health %s (%s), state %s; want ok and inactive", r.Name, r.Health, r.LastError, r.State)
		}
	}
}
