package progress

import (
	"reflect"
	"testing"
)

// step applies a statement (id n, stored 1000+n) matching exactly the
// waypoints listed.
func step(ru *Rules, r *Record, n byte, matches ...int) Effect {
	s := Stmt{ID: [12]byte{11: n}, Stored: 1000 + int64(n), Timestamp: 500 + int64(n)}
	return Apply(ru, r, s, func(i int) bool {
		for _, m := range matches {
			if m == i {
				return true
			}
		}
		return false
	})
}

func counts(r *Record) []uint32 {
	var out []uint32
	for _, w := range r.Attempt.Waypoints {
		out = append(out, w.Count)
	}
	return out
}

func TestUnorderedCountsEveryMatchingWaypoint(t *testing.T) {
	ru := &Rules{Counts: []int{2, 1}}
	var r Record
	if eff := step(ru, &r, 1, 0, 1); !eff.Changed || !eff.Started || eff.Completed {
		t.Fatalf("first statement: %+v", eff)
	}
	if got := counts(&r); !reflect.DeepEqual(got, []uint32{1, 1}) {
		t.Fatalf("counts %v", got)
	}
	if r.Attempt.Waypoints[1].CompletedAt != 1001 {
		t.Fatalf("waypoint 1 completedAt %d, want the stored time 1001", r.Attempt.Waypoints[1].CompletedAt)
	}
	// Waypoint 1 is complete: a statement matching both counts only for 0.
	eff := step(ru, &r, 2, 0, 1)
	if !eff.Completed || r.Attempt.CompletedAt != 1002 {
		t.Fatalf("second statement: %+v, attempt %+v", eff, r.Attempt)
	}
	if got := counts(&r); !reflect.DeepEqual(got, []uint32{2, 1}) {
		t.Fatalf("counts %v", got)
	}
	if got := r.Attempt.Waypoints[0].Refs; len(got) != 2 || got[1].Statement[11] != 2 || got[1].Timestamp != 502 {
		t.Fatalf("refs %+v", got)
	}
	// Not repeatable: done.
	if eff := step(ru, &r, 3, 0, 1); eff.Changed {
		t.Fatalf("finished record changed: %+v", eff)
	}
}

func TestSequentialCountsOnlyFirstIncomplete(t *testing.T) {
	ru := &Rules{Sequential: true, Counts: []int{1, 2}}
	var r Record
	// Matches only the second waypoint: does not count, creates nothing.
	if eff := step(ru, &r, 1, 1); eff.Changed || r.Attempt.Number != 0 {
		t.Fatalf("out-of-order statement counted: %+v %+v", eff, r)
	}
	// Matches both: advances only the first.
	step(ru, &r, 2, 0, 1)
	if got := counts(&r); !reflect.DeepEqual(got, []uint32{1, 0}) {
		t.Fatalf("counts %v", got)
	}
	step(ru, &r, 3, 0, 1)
	step(ru, &r, 4, 1)
	if !r.Done() || r.Attempt.CompletedAt != 1004 || r.CreatedAt != 1002 || r.UpdatedAt != 1004 {
		t.Fatalf("record %+v", r)
	}
}

func TestRepeatableStartsNextAttemptOnlyWhenSomethingCounts(t *testing.T) {
	ru := &Rules{Repeatable: true, Counts: []int{1}}
	var r Record
	if eff := step(ru, &r, 1, 0); !eff.Completed || r.Attempt.Number != 1 {
		t.Fatalf("%+v %+v", eff, r)
	}
	done := r.Attempt
	// A statement that matches nothing leaves the completed attempt as is.
	if eff := step(ru, &r, 2); eff.Changed || eff.Started || !reflect.DeepEqual(r.Attempt, done) {
		t.Fatalf("non-matching statement changed the record: %+v %+v", eff, r.Attempt)
	}
	eff := step(ru, &r, 3, 0)
	if !eff.Started || !eff.Completed || r.Attempt.Number != 2 || r.Attempt.CompletedAt != 1003 {
		t.Fatalf("second attempt: %+v %+v", eff, r.Attempt)
	}
	if !reflect.DeepEqual(done.Waypoints[0].Refs[0].Statement[11], byte(1)) {
		t.Fatalf("first attempt was modified: %+v", done)
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	ru := &Rules{Sequential: true, Repeatable: true, Counts: []int{3, 1, 2}}
	var r Record
	r.Display = "Persona Name"
	for n := byte(1); n < 20; n++ {
		step(ru, &r, n, int(n%3))
		b := r.AppendBinary(nil)
		var got Record
		if err := got.Decode(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalise(got), normalise(r)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
		a, err := DecodeAttempt(r.Attempt.AppendBinary(nil))
		if err != nil || !reflect.DeepEqual(normalise(Record{Attempt: a}).Attempt, normalise(r).Attempt) {
			t.Fatalf("attempt round trip: %v %+v", err, a)
		}
	}
}

// normalise makes nil and empty slices compare equal.
func normalise(r Record) Record {
	ws := make([]Waypoint, len(r.Attempt.Waypoints))
	for i, w := range r.Attempt.Waypoints {
		if len(w.Refs) == 0 {
			w.Refs = nil
		}
		ws[i] = w
	}
	r.Attempt.Waypoints = ws
	return r
}

func TestDecodeRejectsCorruptInput(t *testing.T) {
	var r Record
	step(&Rules{Counts: []int{2, 2}}, &r, 1, 0, 1)
	b := r.AppendBinary(nil)
	for i := 0; i < len(b); i++ {
		var got Record
		if err := got.Decode(b[:i]); err == nil {
			t.Fatalf("truncated record of %d bytes decoded", i)
		}
	}
	var got Record
	if err := got.Decode(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func FuzzDecode(f *testing.F) {
	var r Record
	step(&Rules{Counts: []int{2, 1}}, &r, 1, 0, 1)
	f.Add(r.AppendBinary(nil))
	f.Add([]byte{1, 0, 0, 0, 1, 0, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if err := r.Decode(b); err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes equal.
		var again Record
		if err := again.Decode(r.AppendBinary(nil)); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(normalise(again), normalise(r)) {
			t.Fatal("re-encoding changed the record")
		}
	})
}
