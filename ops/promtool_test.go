package ops

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// tool returns the path of a Prometheus command (Debian's prometheus
// package installs them). It skips the test when the command is absent,
// except in CI (CI set), which installs it and must not pass by skipping.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run must install Debian's prometheus package", name)
	}
	t.Skipf("%s is not installed: apt-get install -y prometheus to run this test", name)
	return ""
}

// promtool runs promtool with args in dir, feeding it stdin, and returns
// its combined output.
func promtool(t *testing.T, dir string, stdin []byte, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool(t, "promtool"), args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPromtoolCheckMetrics lints a live scrape the way CI's promtool step
// does: names, units, types and help by Prometheus conventions. promtool
// prints nothing when there is nothing to say.
func TestPromtoolCheckMetrics(t *testing.T) {
	tool(t, "promtool")
	d := startDaemon(t)
	d.insert(t, 200, traffic{voided: 1, malformed: 1, anonymous: 1})
	scrape := d.scrape(t)
	if !strings.Contains(scrape, "journeys_statements_processed_total 200") {
		t.Fatalf("the scrape does not show the traffic:\n%s", scrape)
	}
	out, err := promtool(t, ".", []byte(scrape), "check", "metrics")
	if err != nil || out != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPromtoolRules validates the alert rules and the scrape
// configuration, and runs the rules' unit tests (alerts_test.yml).
func TestPromtoolRules(t *testing.T) {
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
		{"check", "config", "prometheus.yml"},
	} {
		if out, err := promtool(t, "prometheus", nil, args...); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
