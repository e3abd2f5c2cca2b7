package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target the daemon runs with
// when the operator has not set GOGC and Pebble's caches are outside the Go
// heap (built with cgo, as `go build` does where a C compiler is): 200
// rather than Go's 100.
//
// Why: the daemon's live Go heap is then small (tens of MiB), while its
// intake allocates per request (bodies, parsed documents, batches). At Go's
// default the collector runs every few tens of milliseconds under load and
// took ~7% of the daemon's CPU; at 200 it runs half as often. Measured on
// the 1,000,000-statement end-to-end benchmark (BENCHMARKS.md, issue 10):
// 33.2 → 30.5 µs of daemon CPU per statement, RSS max 178 → 211 MiB.
//
// Built without cgo (CGO_ENABLED=0), Pebble's block
// caches and memtables are Go memory, so the live heap is ~150 MiB and a
// higher target would multiply it (RSS max 467 MiB at 200, 328 MiB at 100
// in the same benchmark): Go's default is kept there.
//
// An operator's GOGC (or GOMEMLIMIT) still decides: the runtime reads them
// before this, and an explicit GOGC is left alone.
const defaultGCPercent = 200

// tuneGC applies defaultGCPercent when Pebble's caches are off the Go heap
// and GOGC is not set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set && offHeapCaches {
		debug.SetGCPercent(defaultGCPercent)
	}
}
