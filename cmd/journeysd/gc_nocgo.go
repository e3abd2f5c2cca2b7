//go:build !cgo

package main

// offHeapCaches: built without cgo (the container image), Pebble's block
// caches and memtables are Go memory, part of the live heap that GOGC
// multiplies (see tuneGC).
const offHeapCaches = false
