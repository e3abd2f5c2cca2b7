//go:build !cgo

package main

// offHeapCaches: built without cgo (CGO_ENABLED=0), Pebble's block
// caches and memtables are Go memory, part of the live heap that GOGC
// multiplies (see tuneGC).
const offHeapCaches = false
