package state

import (
	"testing"
)

// TestResetOwnerProgress: one owner's progress and archived attempts go,
// its fired markers, its neighbours (including an owner whose key extends
// it) and other journeys stay, and writes later in the same batch survive.
func TestResetOwnerProgress(t *testing.T) {
	s := openStore(t, "")
	j, other := JourneyID{1}, JourneyID{2}
	commit(t, s, func(b *Batch) {
		for _, jj := range []JourneyID{j, other} {
			for _, o := range []string{"a", "ab", "b"} {
				b.PutProgress(jj, []byte(o), []byte("p"+o))
				b.PutAttempt(jj, []byte(o), 1, []byte("a1"))
				b.PutAttempt(jj, []byte(o), 2, []byte("a2"))
				b.MarkFired(jj, []byte(o), 1)
			}
		}
	})
	commit(t, s, func(b *Batch) {
		b.ResetOwnerProgress(j, []byte("a"))
		b.ResetOwnerProgress(j, []byte("b"))
		b.PutAttempt(j, []byte("b"), 1, []byte("rebuilt"))
		b.PutProgress(j, []byte("b"), []byte("pb2"))
	})
	if got, want := scanProgress(t, s, j), []kv{{"b", "pb2"}, {"ab", "pab"}}; !equalKV(got, want) {
		t.Errorf("progress of j = %v, want %v", got, want)
	}
	if got := scanAttempts(t, s, j, "a"); len(got) != 0 {
		t.Errorf("attempts of the reset owner: %v", got)
	}
	if got := scanAttempts(t, s, j, "b"); len(got) != 1 || got[0].value != "rebuilt" {
		t.Errorf("attempts written after the reset in the same batch: %v", got)
	}
	if got := scanAttempts(t, s, j, "ab"); len(got) != 2 {
		t.Errorf("attempts of an owner whose key extends the reset one: %v", got)
	}
	if got := scanProgress(t, s, other); len(got) != 3 {
		t.Errorf("other journey's progress: %v", got)
	}
	if fired, err := s.Fired(j, []byte("a"), 1); err != nil || !fired {
		t.Errorf("fired marker after reset: %v, %v; want kept", fired, err)
	}
}

func TestStatementPersona(t *testing.T) {
	s := openStore(t, "")
	stmt, p1, p2 := [12]byte{7}, [12]byte{1}, [12]byte{2}
	if _, ok, err := s.StatementPersona(stmt); ok || err != nil {
		t.Fatalf("before any write: %v, %v", ok, err)
	}
	commit(t, s, func(b *Batch) { b.SetStatementPersona(stmt, p1) })
	commit(t, s, func(b *Batch) { b.SetStatementPersona(stmt, p2) })
	got, ok, err := s.StatementPersona(stmt)
	if err != nil || !ok || got != p2 {
		t.Errorf("StatementPersona = %x, %v, %v; want the last persona %x", got, ok, err, p2)
	}
	if _, ok, _ := s.StatementPersona([12]byte{8}); ok {
		t.Error("another statement has a persona")
	}
}

func equalKV(a, b []kv) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
