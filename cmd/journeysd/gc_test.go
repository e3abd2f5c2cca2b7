package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	tuneGC()
	want := 100 // built without cgo: Pebble's caches are in the Go heap
	if offHeapCaches {
		want = defaultGCPercent
	}
	if got := debug.SetGCPercent(100); got != want {
		t.Errorf("GOGC unset (cgo %v): GC percent %d, want %d", offHeapCaches, got, want)
	}

	t.Setenv("GOGC", "100")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100: GC percent %d, want the operator's 100", got)
	}
}
