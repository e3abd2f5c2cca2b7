package state

import (
	"errors"
	"testing"
)

func TestBatchLenAndEmpty(t *testing.T) {
	s := openStore(t, "")
	b := s.NewBatch()
	defer b.Close()
	if !b.Empty() || b.Len() != 0 {
		t.Fatalf("new batch: Empty=%v Len=%d", b.Empty(), b.Len())
	}
	j := journey(1, 1)
	b.SetCheckpoint([]byte("cp"))
	b.PutProgress(j, []byte("o"), []byte("v"))
	b.DeleteProgress(j, []byte("o"))
	b.PutAttempt(j, []byte("o"), 1, nil)
	b.MarkFired(j, []byte("o"), 1)
	b.PutJourneyMeta(j, nil)
	b.PutOutbox([]byte("id"), nil)
	b.DeleteOutbox([]byte("id"))
	b.PutDead([]byte("id"), nil)
	b.DeleteDead([]byte("id"))
	b.DeleteJourney(j)        // three operations
	b.ResetJourneyProgress(j) // two operations
	if want := 10 + 6 + 5; b.Len() != want || b.Empty() {
		t.Fatalf("Len = %d, Empty = %v; want %d, false", b.Len(), b.Empty(), want)
	}
}

func TestBatchInvisibleUntilCommit(t *testing.T) {
	s := openStore(t, "")
	j := journey(1, 1)
	b := s.NewBatch()
	b.PutProgress(j, []byte("o"), []byte("v"))
	b.SetCheckpoint([]byte("cp"))
	if _, ok := readProgress(t, s, j, "o"); ok {
		t.Fatal("uncommitted progress is visible")
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, ok := readProgress(t, s, j, "o"); !ok || v != "v" {
		t.Fatalf("committed progress = %q, %v", v, ok)
	}
	if err := b.Commit(); !errors.Is(err, errBatchDone) {
		t.Errorf("second Commit: error = %v, want errBatchDone", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("Len after Commit = %d", b.Len())
	}
}

func TestBatchCloseDiscards(t *testing.T) {
	s := openStore(t, "")
	b := s.NewBatch()
	b.SetCheckpoint([]byte("cp"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Commit(); !errors.Is(err, errBatchDone) {
		t.Fatalf("Commit after Close: error = %v, want errBatchDone", err)
	}
	if _, ok, _ := s.Checkpoint(); ok {
		t.Fatal("a closed batch was written")
	}
}

func TestEmptyCommitSucceeds(t *testing.T) {
	s := openStore(t, "")
	if err := s.NewBatch().Commit(); err != nil {
		t.Fatalf("empty Commit: %v", err)
	}
}

// TestOversizedOwnerFailsWholeBatch checks that an owner the layout cannot
// encode makes Commit fail without writing the batch's valid operations.
func TestOversizedOwnerFailsWholeBatch(t *testing.T) {
	huge := make([]byte, MaxOwnerLen+1)
	j := journey(1, 1)
	writes := map[string]func(b *Batch){
		"PutProgress":    func(b *Batch) { b.PutProgress(j, huge, nil) },
		"DeleteProgress": func(b *Batch) { b.DeleteProgress(j, huge) },
		"PutAttempt":     func(b *Batch) { b.PutAttempt(j, huge, 1, nil) },
		"MarkFired":      func(b *Batch) { b.MarkFired(j, huge, 1) },
	}
	s := openStore(t, "")
	for name, write := range writes {
		b := s.NewBatch()
		b.SetCheckpoint([]byte(name))
		write(b)
		b.PutProgress(j, []byte("valid"), []byte(name))
		if err := b.Commit(); !errors.Is(err, ErrOwnerTooLong) {
			t.Errorf("%s: Commit error = %v, want ErrOwnerTooLong", name, err)
		}
	}
	if _, ok, _ := s.Checkpoint(); ok {
		t.Error("a failed batch wrote its checkpoint")
	}
	if _, ok := readProgress(t, s, j, "valid"); ok {
		t.Error("a failed batch wrote its valid progress")
	}

	reads := map[string]func() error{
		"Progress": func() error { _, _, err := s.Progress(j, huge); return err },
		"Attempts": func() error { return s.Attempts(j, huge, func(uint32, []byte) error { return nil }) },
		"Fired":    func() error { _, err := s.Fired(j, huge, 1); return err },
	}
	for name, read := range reads {
		if err := read(); !errors.Is(err, ErrOwnerTooLong) {
			t.Errorf("%s with an oversized owner: error = %v, want ErrOwnerTooLong", name, err)
		}
	}
}

// TestPutDoesNotAllocate guards the per-statement write path: keys are built
// in the batch's scratch buffer and Pebble copies them into its own buffer,
// whose growth is amortised to nothing per Put.
func TestPutDoesNotAllocate(t *testing.T) {
	s := openStore(t, "")
	b := s.NewBatch()
	defer b.Close()
	j := journey(1, 1)
	owner := []byte("mbox\x00mailto:learner@example.com")
	value := make([]byte, 200)
	allocs := testing.AllocsPerRun(5000, func() {
		b.PutProgress(j, owner, value)
		b.PutAttempt(j, owner, 3, value)
		b.MarkFired(j, owner, 3)
	})
	if allocs != 0 {
		t.Errorf("allocations per PutProgress+PutAttempt+MarkFired = %v, want 0", allocs)
	}
}
