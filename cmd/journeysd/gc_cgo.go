//go:build cgo

package main

// offHeapCaches: built with cgo, Pebble allocates its block caches and
// memtables with C's malloc, outside the Go heap (see tuneGC).
const offHeapCaches = true
