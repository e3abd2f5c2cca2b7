package lrs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A process reopening the embedded store within the second of the last
// write waits until that second is over, so that its change events cannot
// repeat timestamps (and so resume tokens) already in the oplog.
func TestWaitPastLastWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), StoreFile)
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	if err := os.Chtimes(path, written, written); err != nil {
		t.Fatal(err)
	}
	waitPastLastWrite(path)
	if now := time.Now(); now.Unix() <= written.Unix() {
		t.Fatalf("returned at %v, still within the second of the write (%v)", now, written)
	}
	// Nothing to wait for: an old file, or none.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
	start := time.Now()
	waitPastLastWrite(path)
	waitPastLastWrite(filepath.Join(t.TempDir(), "missing"))
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("waited for an old or missing file")
	}
}
