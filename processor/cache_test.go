package processor

import (
	"bytes"
	"fmt"
	"testing"
)

// cacheKey is a 12-byte journey id followed by an owner.
func cacheKey(journey byte, owner string) string {
	id := [12]byte{11: journey}
	return string(id[:]) + owner
}

func TestRecordCache(t *testing.T) {
	type op struct {
		do        string // put, get, drop, dropJourney, reset
		key       string
		v         string // put: the value ("" = no record); get: the value expected
		cached    bool   // get: expected to be cached
		journey   byte
		wantBytes int // after the op, the bytes charged to cur (-1: not checked)
	}
	a, b, c := cacheKey(1, "a"), cacheKey(1, "b"), cacheKey(2, "c")
	size := func(k, v string) int { return len(k) + len(v) + cacheEntryOverhead }
	for _, tc := range []struct {
		name   string
		budget int
		ops    []op
	}{
		{"miss, put, hit", 1 << 20, []op{
			{do: "get", key: a, cached: false, wantBytes: 0},
			{do: "put", key: a, v: "rec-a", wantBytes: size(a, "rec-a")},
			{do: "get", key: a, v: "rec-a", cached: true, wantBytes: -1},
		}},
		{"no record is cached as empty, unlike a miss", 1 << 20, []op{
			{do: "put", key: a, v: "", wantBytes: size(a, "")},
			{do: "get", key: a, v: "", cached: true, wantBytes: -1},
			{do: "get", key: b, cached: false, wantBytes: -1},
		}},
		{"a put replaces in place and recharges", 1 << 20, []op{
			{do: "put", key: a, v: "rec-a", wantBytes: -1},
			{do: "put", key: a, v: "rec-a-longer", wantBytes: len(a) + cap(append([]byte("rec-a")[:0:5], "rec-a-longer"...)) + cacheEntryOverhead},
			{do: "get", key: a, v: "rec-a-longer", cached: true, wantBytes: -1},
		}},
		{"budget: the oldest generation goes", 2 * (size(a, "rec-a") + size(b, "rec-b")), []op{
			{do: "put", key: a, v: "rec-a", wantBytes: -1},
			{do: "put", key: b, v: "rec-b", wantBytes: size(a, "rec-a") + size(b, "rec-b")},
			// cur is full: c starts a new generation, a and b are old.
			{do: "put", key: c, v: "rec-c", wantBytes: size(c, "rec-c")},
			{do: "get", key: a, v: "rec-a", cached: true, wantBytes: -1},
			// Putting a again moves it to cur.
			{do: "put", key: a, v: "rec-a", wantBytes: size(c, "rec-c") + size(a, "rec-a")},
			// cur is full again: b (old, not used) goes, c and a survive.
			{do: "put", key: b, v: "rec-B", wantBytes: size(b, "rec-B")},
			{do: "get", key: c, v: "rec-c", cached: true, wantBytes: -1},
			{do: "get", key: a, v: "rec-a", cached: true, wantBytes: -1},
			{do: "get", key: b, v: "rec-B", cached: true, wantBytes: -1},
			// d fills cur; e starts a new generation: c and a go.
			{do: "put", key: cacheKey(3, "d"), v: "rec-d", wantBytes: size(b, "rec-B") + size(cacheKey(3, "d"), "rec-d")},
			{do: "put", key: cacheKey(3, "e"), v: "rec-e", wantBytes: size(cacheKey(3, "e"), "rec-e")},
			{do: "get", key: c, cached: false, wantBytes: -1},
			{do: "get", key: a, cached: false, wantBytes: -1},
			{do: "get", key: b, v: "rec-B", cached: true, wantBytes: -1},
			{do: "get", key: cacheKey(3, "d"), v: "rec-d", cached: true, wantBytes: -1},
		}},
		{"drop and dropJourney", 1 << 20, []op{
			{do: "put", key: a, v: "rec-a", wantBytes: -1},
			{do: "put", key: b, v: "rec-b", wantBytes: -1},
			{do: "put", key: c, v: "rec-c", wantBytes: -1},
			{do: "drop", key: b, wantBytes: size(a, "rec-a") + size(c, "rec-c")},
			{do: "get", key: b, cached: false, wantBytes: -1},
			{do: "dropJourney", journey: 1, wantBytes: size(c, "rec-c")},
			{do: "get", key: a, cached: false, wantBytes: -1},
			{do: "get", key: c, v: "rec-c", cached: true, wantBytes: -1},
			{do: "reset", wantBytes: 0},
			{do: "get", key: c, cached: false, wantBytes: -1},
		}},
		{"disabled", -1, []op{
			{do: "put", key: a, v: "rec-a", wantBytes: 0},
			{do: "get", key: a, cached: false, wantBytes: 0},
		}},
	} {
		rc := newRecordCache(tc.budget)
		for i, o := range tc.ops {
			where := fmt.Sprintf("%s, op %d (%s)", tc.name, i, o.do)
			switch o.do {
			case "put":
				rc.put(o.key, []byte(o.v))
			case "get":
				v, ok := rc.get([]byte(o.key))
				if ok != o.cached || ok && !bytes.Equal(v, []byte(o.v)) {
					t.Errorf("%s: got %q, %v; want %q, %v", where, v, ok, o.v, o.cached)
				}
			case "drop":
				rc.drop([]byte(o.key))
			case "dropJourney":
				rc.dropJourney([12]byte{11: o.journey})
			case "reset":
				rc.reset()
			}
			if o.wantBytes >= 0 && rc.curBytes != o.wantBytes {
				t.Errorf("%s: cur holds %d bytes, want %d", where, rc.curBytes, o.wantBytes)
			}
		}
	}
}

// The cache copies what it is given: the caller's buffer is reused for the
// next record.
func TestRecordCacheCopies(t *testing.T) {
	rc := newRecordCache(0)
	buf := []byte("first")
	rc.put(cacheKey(1, "a"), buf)
	copy(buf, "XXXXX")
	if v, _ := rc.get([]byte(cacheKey(1, "a"))); string(v) != "first" {
		t.Fatalf("cached %q, want first", v)
	}
}
