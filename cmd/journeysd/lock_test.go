package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A second daemon on a data directory in use says so, naming the
// directory, instead of Pebble's bare "resource temporarily unavailable".
func TestSecondDaemonOnDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "data")
	d := startProc(t, dir)
	defer d.stop()
	out, err := exec.Command(binary, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("a second journeysd started on %s:\n%s", dir, out)
	}
	want := "another journeysd is running on " + dir + ":"
	if !strings.Contains(string(out), want) {
		t.Errorf("output %q does not say %q", out, want)
	}
}
