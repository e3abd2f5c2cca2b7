package state

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Owners that stress the layout: empty, NUL and 0xFF bytes, one owner that
// is a byte prefix of others, and the longest accepted owner.
var trickyOwners = []string{
	"",
	"\x00",
	"\xFF",
	"mbox\x00mailto:a@b.c",
	"mbox\x00mailto:a@b.c\x00",
	"mbox\x00mailto:a@b.c\xFF\xFF",
	"account\x00https://lrs.example\x00\xFF\x00",
	strings.Repeat("\xFF", MaxOwnerLen),
}

func TestCheckpointRoundTrip(t *testing.T) {
	s := openStore(t, "")
	if v, ok, err := s.Checkpoint(); err != nil || ok || v != nil {
		t.Fatalf("Checkpoint on empty store = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
	for _, cp := range []string{"token-1", "token-2\x00\xFF"} {
		commit(t, s, func(b *Batch) { b.SetCheckpoint([]byte(cp)) })
		v, ok, err := s.Checkpoint()
		if err != nil || !ok || string(v) != cp {
			t.Fatalf("Checkpoint = %q, %v, %v; want %q, true, nil", v, ok, err, cp)
		}
	}
}

func TestProgressRoundTrip(t *testing.T) {
	s := openStore(t, "")
	j := journey(0xAB, 1)
	commit(t, s, func(b *Batch) {
		for i, o := range trickyOwners {
			b.PutProgress(j, []byte(o), []byte{byte(i), 0x00, 0xFF})
		}
		b.PutProgress(j, []byte("empty value"), nil)
	})
	for i, o := range trickyOwners {
		if v, ok := readProgress(t, s, j, o); !ok || v != string([]byte{byte(i), 0x00, 0xFF}) {
			t.Errorf("Progress(%q) = %x, %v; want %x, true", o, v, ok, []byte{byte(i), 0, 0xFF})
		}
	}
	v, ok, err := s.Progress(j, []byte("empty value"))
	if err != nil || !ok || v == nil || len(v) != 0 {
		t.Errorf("Progress of an empty value = %#v, %v, %v; want non-nil empty, true, nil", v, ok, err)
	}
	if _, ok := readProgress(t, s, j, "absent"); ok {
		t.Error("Progress of an absent owner reported present")
	}
	if _, ok := readProgress(t, s, journey(0xAB, 2), trickyOwners[3]); ok {
		t.Error("Progress of another journey reported present")
	}

	commit(t, s, func(b *Batch) { b.DeleteProgress(j, []byte(trickyOwners[3])) })
	if _, ok := readProgress(t, s, j, trickyOwners[3]); ok {
		t.Error("Progress present after DeleteProgress")
	}
	// The owner extending the deleted one by a byte must survive: owner
	// keys are length-prefixed, not prefix-matched.
	if _, ok := readProgress(t, s, j, trickyOwners[4]); !ok {
		t.Error("DeleteProgress removed an owner that extends the deleted owner")
	}
}

func TestReturnedValuesAreOwnedByCaller(t *testing.T) {
	s := openStore(t, "")
	j := journey(1, 1)
	value := []byte("original")
	commit(t, s, func(b *Batch) {
		b.PutProgress(j, []byte("o"), value)
		// The batch copied the value: changing the caller's buffer after
		// the call must not change what is committed.
		copy(value, "mutated!")
	})
	first, _, err := s.Progress(j, []byte("o"))
	if err != nil || string(first) != "original" {
		t.Fatalf("Progress = %q, %v; want original", first, err)
	}
	copy(first, "clobber!")
	if v, _ := readProgress(t, s, j, "o"); v != "original" {
		t.Fatalf("modifying a returned value changed the store: %q", v)
	}
}

// TestScanProgressIsolatesJourneys writes the same owners into byte-adjacent
// journeys and checks each scan sees exactly its own, in shortlex order.
func TestScanProgressIsolatesJourneys(t *testing.T) {
	s := openStore(t, "")
	ids := []JourneyID{journey(0, 0xFE), journey(0, 0xFF), journey(1, 0), journey(0xFF, 0xFF)}
	commit(t, s, func(b *Batch) {
		for ji, j := range ids {
			for _, o := range trickyOwners {
				b.PutProgress(j, []byte(o), []byte{byte(ji)})
			}
		}
	})
	want := slices.Clone(trickyOwners)
	slices.SortFunc(want, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	for ji, j := range ids {
		got := scanProgress(t, s, j)
		if len(got) != len(want) {
			t.Fatalf("journey %x: scanned %d owners, want %d", j, len(got), len(want))
		}
		for i, r := range got {
			if r.key != want[i] || r.value != string([]byte{byte(ji)}) {
				t.Errorf("journey %x record %d = %q=%x, want %q=%x", j, i, r.key, r.value, want[i], ji)
			}
		}
	}
	if got := scanProgress(t, s, journey(0, 0xFD)); len(got) != 0 {
		t.Errorf("scan of a journey without progress returned %d records", len(got))
	}
}

func TestScanProgressFromPaginates(t *testing.T) {
	s := openStore(t, "")
	j, neighbour := journey(3, 0xFF), journey(4, 0)
	commit(t, s, func(b *Batch) {
		for _, o := range trickyOwners {
			b.PutProgress(j, []byte(o), []byte(o))
			b.PutProgress(neighbour, []byte(o), []byte("neighbour"))
		}
	})
	all := scanProgress(t, s, j)

	// Page through three owners at a time, resuming after the last owner of
	// each page, the way the API's cursors do.
	const pageSize = 3
	var paged []kv
	page := func(after []byte) []kv {
		var p []kv
		stop := errors.New("page full")
		fn := func(owner, value []byte) error {
			p = append(p, kv{string(owner), string(value)})
			if len(p) == pageSize {
				return stop
			}
			return nil
		}
		var err error
		if after == nil {
			err = s.ScanProgress(j, fn)
		} else {
			err = s.ScanProgressFrom(j, after, fn)
		}
		if err != nil && !errors.Is(err, stop) {
			t.Fatalf("scan page after %q: %v", after, err)
		}
		return p
	}
	for p := page(nil); len(p) > 0; p = page([]byte(p[len(p)-1].key)) {
		paged = append(paged, p...)
		if len(paged) > len(all) {
			t.Fatal("pagination does not terminate")
		}
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paged scan = %q\nfull scan  = %q", paged, all)
	}

	// Resuming after an owner that does not exist starts at the next owner
	// in shortlex order.
	var got []string
	if err := s.ScanProgressFrom(j, []byte("\x01"), func(owner, _ []byte) error {
		got = append(got, string(owner))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0] != "\xFF" || len(got) != len(all)-2 {
		t.Errorf("ScanProgressFrom(\\x01) = %q; want all owners after \\x00, starting with \\xFF", got)
	}
	if err := s.ScanProgressFrom(j, make([]byte, MaxOwnerLen+1), func(_, _ []byte) error { return nil }); !errors.Is(err, ErrOwnerTooLong) {
		t.Errorf("ScanProgressFrom with an oversized owner: error = %v, want ErrOwnerTooLong", err)
	}
}

func TestAttemptsAscendAndIsolateOwners(t *testing.T) {
	s := openStore(t, "")
	j := journey(9, 9)
	numbers := []uint32{0xFFFFFFFF, 256, 1, 65536, 0, 2}
	commit(t, s, func(b *Batch) {
		for _, n := range numbers {
			b.PutAttempt(j, []byte("a"), n, []byte{byte(n >> 16), byte(n)})
		}
		// Owners whose bytes extend "a" with what looks like an attempt
		// number, and the same owner in the neighbouring journey.
		b.PutAttempt(j, []byte("a\x00\x00\x00\x05"), 7, []byte("other"))
		b.PutAttempt(j, []byte("a\x00"), 8, []byte("other"))
		b.PutAttempt(journey(9, 10), []byte("a"), 3, []byte("neighbour"))
	})
	got := scanAttempts(t, s, j, "a")
	want := slices.Sorted(slices.Values(numbers))
	if len(got) != len(want) {
		t.Fatalf("Attempts = %v, want numbers %v", got, want)
	}
	for i, a := range got {
		if a.n != want[i] || a.value != string([]byte{byte(want[i] >> 16), byte(want[i])}) {
			t.Errorf("attempt %d = %d:%x, want %d", i, a.n, a.value, want[i])
		}
	}
	if got := scanAttempts(t, s, j, "a\x00"); len(got) != 1 || got[0].n != 8 {
		t.Errorf(`Attempts("a\x00") = %v, want only attempt 8`, got)
	}
	if got := scanAttempts(t, s, j, "b"); len(got) != 0 {
		t.Errorf("Attempts of an owner without attempts = %v", got)
	}
}

func TestFiredMarkers(t *testing.T) {
	s := openStore(t, "")
	j := journey(5, 5)
	owner := trickyOwners[5]
	commit(t, s, func(b *Batch) { b.MarkFired(j, []byte(owner), 2) })
	for _, tt := range []struct {
		j     JourneyID
		owner string
		n     uint32
		want  bool
	}{
		{j, owner, 2, true},
		{j, owner, 1, false},
		{j, owner, 3, false},
		{j, owner[:len(owner)-1], 2, false},
		{journey(5, 6), owner, 2, false},
	} {
		if got := fired(t, s, tt.j, tt.owner, tt.n); got != tt.want {
			t.Errorf("Fired(%x, %q, %d) = %v, want %v", tt.j, tt.owner, tt.n, got, tt.want)
		}
	}
}

func TestJourneyMeta(t *testing.T) {
	s := openStore(t, "")
	ids := []JourneyID{journey(0xFF, 0xFF), journey(0, 1), journey(0, 0), journey(0x10, 0)}
	commit(t, s, func(b *Batch) {
		for _, j := range ids {
			b.PutJourneyMeta(j, j[:1])
			// Progress under the same id must not show up as metadata.
			b.PutProgress(j, []byte("o"), []byte("progress"))
		}
	})
	for _, j := range ids {
		v, ok, err := s.JourneyMeta(j)
		if err != nil || !ok || !bytes.Equal(v, j[:1]) {
			t.Errorf("JourneyMeta(%x) = %x, %v, %v; want %x, true, nil", j, v, ok, err, j[:1])
		}
	}
	if _, ok, err := s.JourneyMeta(journey(0, 2)); ok || err != nil {
		t.Errorf("JourneyMeta of an absent journey = %v, %v; want false, nil", ok, err)
	}
	var got []JourneyID
	if err := s.ScanJourneyMeta(func(j JourneyID, v []byte) error {
		if !bytes.Equal(v, j[:1]) {
			t.Errorf("ScanJourneyMeta: journey %x has value %x", j, v)
		}
		got = append(got, j)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := slices.SortedFunc(slices.Values(ids), func(a, b JourneyID) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(got, want) {
		t.Errorf("ScanJourneyMeta order = %x, want %x", got, want)
	}
}

func TestOutboxAndDeadLetters(t *testing.T) {
	s := openStore(t, "")
	ids := []string{"b", "a", "a\x00", "\xFF", ""}
	commit(t, s, func(b *Batch) {
		for _, id := range ids {
			b.PutOutbox([]byte(id), []byte("pending "+id))
		}
	})
	scanIDs := func(scan func(func(id, value []byte) error) error) []kv {
		var out []kv
		if err := scan(func(id, value []byte) error {
			out = append(out, kv{string(id), string(value)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := []kv{{"", "pending "}, {"a", "pending a"}, {"a\x00", "pending a\x00"}, {"b", "pending b"}, {"\xFF", "pending \xFF"}}
	if got := scanIDs(s.ScanOutbox); !slices.Equal(got, want) {
		t.Fatalf("ScanOutbox = %q, want %q", got, want)
	}
	if got := scanIDs(s.ScanDead); len(got) != 0 {
		t.Fatalf("ScanDead on an empty dead-letter queue = %q", got)
	}

	// Dead-letter "a": the dispatcher moves it in one batch.
	commit(t, s, func(b *Batch) {
		b.DeleteOutbox([]byte("a"))
		b.PutDead([]byte("a"), []byte("dead a"))
	})
	if got := scanIDs(s.ScanOutbox); len(got) != len(ids)-1 || slices.Contains(got, want[1]) {
		t.Errorf("ScanOutbox after dead-lettering a = %q", got)
	}
	if got := scanIDs(s.ScanDead); !slices.Equal(got, []kv{{"a", "dead a"}}) {
		t.Errorf("ScanDead = %q, want [a=dead a]", got)
	}
	if v, ok, err := s.Dead([]byte("a")); err != nil || !ok || string(v) != "dead a" {
		t.Errorf("Dead(a) = %q, %v, %v; want dead a, true, nil", v, ok, err)
	}
	if _, ok, err := s.Dead([]byte("b")); ok || err != nil {
		t.Errorf("Dead(b) of a pending delivery = %v, %v; want false, nil", ok, err)
	}

	// Replay: back into the outbox.
	commit(t, s, func(b *Batch) {
		b.DeleteDead([]byte("a"))
		b.PutOutbox([]byte("a"), []byte("replayed"))
	})
	if _, ok, _ := s.Dead([]byte("a")); ok {
		t.Error("Dead(a) present after DeleteDead")
	}
	if got := scanIDs(s.ScanOutbox); len(got) != len(ids) || got[1] != (kv{"a", "replayed"}) {
		t.Errorf("ScanOutbox after replay = %q", got)
	}
}

// populate writes every journey-scoped kind for journey j and two owners.
func populate(b *Batch, j JourneyID, tag string) {
	for _, o := range []string{"\x00", "\xFF\xFF"} {
		b.PutProgress(j, []byte(o), []byte(tag))
		b.PutAttempt(j, []byte(o), 1, []byte(tag))
		b.MarkFired(j, []byte(o), 1)
	}
	b.PutJourneyMeta(j, []byte(tag))
}

// journeyRecords summarises what the store holds for journey j.
type journeyRecords struct {
	progress, attempts, fired int
	meta                      bool
}

func recordsOf(t *testing.T, s *Store, j JourneyID) journeyRecords {
	t.Helper()
	var r journeyRecords
	r.progress = len(scanProgress(t, s, j))
	for _, o := range []string{"\x00", "\xFF\xFF"} {
		r.attempts += len(scanAttempts(t, s, j, o))
		if fired(t, s, j, o, 1) {
			r.fired++
		}
	}
	_, r.meta, _ = s.JourneyMeta(j)
	return r
}

func TestDeleteJourneyAndReset(t *testing.T) {
	full := journeyRecords{progress: 2, attempts: 2, fired: 2, meta: true}
	tests := []struct {
		name  string
		apply func(b *Batch, j JourneyID)
		want  journeyRecords
	}{
		{"DeleteJourney", (*Batch).DeleteJourney, journeyRecords{fired: 2}},
		{"ResetJourneyProgress", (*Batch).ResetJourneyProgress, journeyRecords{fired: 2, meta: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, "")
			// The target sits between two byte-adjacent neighbours; the last
			// id carries over 0xFF into the kind byte's range end.
			ids := []JourneyID{journey(0, 0xFE), journey(0, 0xFF), journey(1, 0), journey(0xFF, 0xFF)}
			commit(t, s, func(b *Batch) {
				for _, j := range ids {
					populate(b, j, "v")
				}
				b.PutOutbox([]byte("delivery"), []byte("due"))
				b.SetCheckpoint([]byte("cp"))
			})
			for _, target := range []JourneyID{ids[1], ids[3]} {
				commit(t, s, func(b *Batch) { tt.apply(b, target) })
				if got := recordsOf(t, s, target); got != tt.want {
					t.Errorf("journey %x after %s: %+v, want %+v", target, tt.name, got, tt.want)
				}
			}
			for _, j := range []JourneyID{ids[0], ids[2]} {
				if got := recordsOf(t, s, j); got != full {
					t.Errorf("neighbour %x after %s: %+v, want %+v", j, tt.name, got, full)
				}
			}
			var pending int
			if err := s.ScanOutbox(func(_, _ []byte) error { pending++; return nil }); err != nil || pending != 1 {
				t.Errorf("outbox after %s: %d deliveries, %v; want 1", tt.name, pending, err)
			}
			if _, ok, _ := s.Checkpoint(); !ok {
				t.Errorf("checkpoint lost by %s", tt.name)
			}
		})
	}
}

// TestWritesAfterRangeDeletionSurvive checks the recalculation pattern: a
// reset and the rebuilt progress in one batch leave the rebuilt progress.
func TestWritesAfterRangeDeletionSurvive(t *testing.T) {
	s := openStore(t, "")
	j := journey(2, 2)
	commit(t, s, func(b *Batch) { populate(b, j, "old") })
	commit(t, s, func(b *Batch) {
		b.ResetJourneyProgress(j)
		b.PutProgress(j, []byte("\x00"), []byte("new"))
		b.PutAttempt(j, []byte("\x00"), 4, []byte("new"))
	})
	if got := scanProgress(t, s, j); !slices.Equal(got, []kv{{"\x00", "new"}}) {
		t.Errorf("progress after reset and rebuild = %q", got)
	}
	if got := scanAttempts(t, s, j, "\x00"); !slices.Equal(got, []attempt{{4, "new"}}) {
		t.Errorf("attempts after reset and rebuild = %v", got)
	}
	commit(t, s, func(b *Batch) {
		b.DeleteJourney(j)
		b.PutJourneyMeta(j, []byte("recreated"))
	})
	if v, ok, _ := s.JourneyMeta(j); !ok || string(v) != "recreated" {
		t.Errorf("meta after delete and recreate = %q, %v", v, ok)
	}
}

func TestScanStopsOnCallbackError(t *testing.T) {
	s := openStore(t, "")
	j := journey(1, 1)
	commit(t, s, func(b *Batch) {
		for _, o := range trickyOwners {
			b.PutProgress(j, []byte(o), nil)
		}
	})
	stop := errors.New("stop")
	calls := 0
	err := s.ScanProgress(j, func(_, _ []byte) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Errorf("ScanProgress returned %v after %d calls; want stop after 2", err, calls)
	}
}

// TestScanSeesPointInTimeView commits inside a scan callback and checks the
// running scan does not observe it.
func TestScanSeesPointInTimeView(t *testing.T) {
	s := openStore(t, "")
	j := journey(1, 1)
	commit(t, s, func(b *Batch) {
		b.PutProgress(j, []byte("a"), []byte("1"))
		b.PutProgress(j, []byte("b"), []byte("1"))
	})
	var seen []kv
	if err := s.ScanProgress(j, func(owner, value []byte) error {
		if string(owner) == "a" {
			commit(t, s, func(b *Batch) {
				b.PutProgress(j, []byte("b"), []byte("2"))
				b.PutProgress(j, []byte("c"), []byte("2"))
			})
		}
		seen = append(seen, kv{string(owner), string(value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []kv{{"a", "1"}, {"b", "1"}}; !slices.Equal(seen, want) {
		t.Errorf("scan saw %q, want the snapshot %q", seen, want)
	}
	if got := len(scanProgress(t, s, j)); got != 3 {
		t.Errorf("a new scan sees %d owners, want 3", got)
	}
}
