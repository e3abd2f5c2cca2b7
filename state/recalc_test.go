package state

import "testing"

func TestLastPending(t *testing.T) {
	s := openStore(t, t.TempDir())
	j, other := JourneyID{1}, JourneyID{2}
	if last, err := s.LastPending(j); err != nil || last != 0 {
		t.Fatalf("empty log: %d, %v; want 0", last, err)
	}
	b := s.NewBatch()
	for _, seq := range []uint64{1, 2, 300, 1 << 40} {
		b.PutPending(j, seq, []byte("doc"))
	}
	b.PutPending(other, 1<<50, []byte("doc")) // a later journey's log
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastPending(j); err != nil || last != 1<<40 {
		t.Fatalf("LastPending %d, %v; want %d", last, err, uint64(1<<40))
	}
	if last, err := s.LastPending(JourneyID{0}); err != nil || last != 0 {
		t.Fatalf("an earlier journey's empty log: %d, %v; want 0", last, err)
	}
}
