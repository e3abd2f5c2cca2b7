package state

import (
	"errors"
	"testing"
)

// openStore opens a NoSync store in dir (a fresh temporary directory when
// dir is empty) and closes it when the test ends, unless the test did.
func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(dir, Options{NoSync: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// commit applies fill to a new batch and commits it.
func commit(t testing.TB, s *Store, fill func(b *Batch)) {
	t.Helper()
	b := s.NewBatch()
	fill(b)
	if err := b.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// kv is one scanned record, copied out of the scan.
type kv struct {
	key, value string
}

// scanProgress returns journey j's progress records in scan order.
func scanProgress(t testing.TB, s *Store, j JourneyID) []kv {
	t.Helper()
	var out []kv
	if err := s.ScanProgress(j, func(owner, value []byte) error {
		out = append(out, kv{string(owner), string(value)})
		return nil
	}); err != nil {
		t.Fatalf("ScanProgress: %v", err)
	}
	return out
}

// attempt is one scanned archived attempt.
type attempt struct {
	n     uint32
	value string
}

// scanAttempts returns owner's archived attempts in journey j.
func scanAttempts(t testing.TB, s *Store, j JourneyID, owner string) []attempt {
	t.Helper()
	var out []attempt
	if err := s.Attempts(j, []byte(owner), func(n uint32, value []byte) error {
		out = append(out, attempt{n, string(value)})
		return nil
	}); err != nil {
		t.Fatalf("Attempts: %v", err)
	}
	return out
}

// readProgress returns owner's progress in journey j and whether it exists.
func readProgress(t testing.TB, s *Store, j JourneyID, owner string) (string, bool) {
	t.Helper()
	v, ok, err := s.Progress(j, []byte(owner))
	if err != nil {
		t.Fatalf("Progress: %v", err)
	}
	return string(v), ok
}

// fired reports whether the fired marker of attempt n exists.
func fired(t testing.TB, s *Store, j JourneyID, owner string, n uint32) bool {
	t.Helper()
	ok, err := s.Fired(j, []byte(owner), n)
	if err != nil {
		t.Fatalf("Fired: %v", err)
	}
	return ok
}

// journey returns a journey id whose bytes are all fill except the last,
// which is last: ids that differ only in the final byte are neighbours in
// key order, the case where a loose prefix bound would leak records.
func journey(fill, last byte) JourneyID {
	var j JourneyID
	for i := range j {
		j[i] = fill
	}
	j[len(j)-1] = last
	return j
}
