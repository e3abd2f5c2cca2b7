package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target the daemon runs with
// when the operator has not set GOGC: 200 rather than Go's 100.
//
// Why: the daemon's live Go heap is small (tens of MiB: Pebble's block
// caches and memtables are allocated outside it), while its intake
// allocates per request (bodies, parsed documents, batches). At Go's
// default the collector then runs every few tens of milliseconds under
// load and took ~7% of the daemon's CPU; at 200 it runs half as often.
// Measured on the 1,000,000-statement end-to-end benchmark (BENCHMARKS.md,
// issue 10): 33.2 → 30.5 µs of daemon CPU per statement, RSS 178 → 211 MiB.
// An operator's GOGC (or GOMEMLIMIT) still decides: the runtime reads them
// before this, and an explicit GOGC is left alone.
const defaultGCPercent = 200

// tuneGC applies defaultGCPercent unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
