package state

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
)

// TestReopenPersistsEveryKind writes each kind of record, reopens the store
// from disk and reads everything back.
func TestReopenPersistsEveryKind(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "state")
	j := journey(0xAB, 0xCD)
	owner := []byte("mbox\x00mailto:a@b.c")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, func(b *Batch) {
		b.SetCheckpoint([]byte("cp"))
		b.PutProgress(j, owner, []byte("progress"))
		b.PutAttempt(j, owner, 1, []byte("attempt"))
		b.MarkFired(j, owner, 1)
		b.PutJourneyMeta(j, []byte("meta"))
		b.PutOutbox([]byte("o1"), []byte("pending"))
		b.PutDead([]byte("d1"), []byte("dead"))
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	check := func(what string, got []byte, ok bool, err error, want string) {
		t.Helper()
		if err != nil || !ok || string(got) != want {
			t.Errorf("%s after reopen = %q, %v, %v; want %q", what, got, ok, err, want)
		}
	}
	v, ok, err := s.Checkpoint()
	check("checkpoint", v, ok, err, "cp")
	v, ok, err = s.Progress(j, owner)
	check("progress", v, ok, err, "progress")
	v, ok, err = s.JourneyMeta(j)
	check("meta", v, ok, err, "meta")
	v, ok, err = s.Dead([]byte("d1"))
	check("dead letter", v, ok, err, "dead")
	if got := scanAttempts(t, s, j, string(owner)); len(got) != 1 || got[0] != (attempt{1, "attempt"}) {
		t.Errorf("attempts after reopen = %v", got)
	}
	if !fired(t, s, j, string(owner), 1) {
		t.Error("fired marker lost on reopen")
	}
	var outbox []kv
	if err := s.ScanOutbox(func(id, value []byte) error {
		outbox = append(outbox, kv{string(id), string(value)})
		return nil
	}); err != nil || len(outbox) != 1 || outbox[0] != (kv{"o1", "pending"}) {
		t.Errorf("outbox after reopen = %q, %v", outbox, err)
	}
}

func TestOpenRejectsForeignDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("somebody else's key"), nil, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("Open accepted a database that is not a journeys store")
	}
}

func TestOpenRejectsUnknownLayoutVersion(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.db.Set(versionKey, []byte{layoutVersion + 1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open accepted an unknown layout version")
	}
	if !strings.Contains(err.Error(), "layout version") {
		t.Errorf("error %q does not name the layout version", err)
	}
}

func TestOpenRejectsNegativeCacheSize(t *testing.T) {
	if s, err := Open(t.TempDir(), Options{CacheSize: -1}); err == nil {
		s.Close()
		t.Fatal("Open accepted a negative cache size")
	}
}

func TestOpenFailsOnUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(filepath.Join(file, "state"), Options{})
	if err == nil || !strings.Contains(err.Error(), "state: open") {
		t.Fatalf("Open under a regular file: error = %v, want a wrapped open error", err)
	}
}

func TestOpenFailsWhileLocked(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir)
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("a second Open of the same directory succeeded")
	}
}

func TestClosedStoreRefusesOperations(t *testing.T) {
	s := openStore(t, "")
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy on an open store: %v", err)
	}
	if s.Metrics() == nil {
		t.Fatal("Metrics on an open store returned nil")
	}
	b := s.NewBatch()
	b.SetCheckpoint([]byte("cp"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	late := s.NewBatch()
	late.SetCheckpoint([]byte("cp"))
	j := journey(1, 1)
	noop := func([]byte, []byte) error { return nil }
	ops := map[string]error{
		"Close":                              s.Close(),
		"Healthy":                            s.Healthy(),
		"Commit":                             b.Commit(),
		"Commit of a batch made after Close": late.Commit(),
		"ScanProgress":                       s.ScanProgress(j, noop),
		"ScanOutbox":                         s.ScanOutbox(noop),
		"ScanJourneyMeta":                    s.ScanJourneyMeta(func(JourneyID, []byte) error { return nil }),
		"Attempts":                           s.Attempts(j, nil, func(uint32, []byte) error { return nil }),
		"ScanProgressFrom":                   s.ScanProgressFrom(j, nil, noop),
	}
	_, _, ops["Checkpoint"] = s.Checkpoint()
	_, _, ops["Progress"] = s.Progress(j, nil)
	_, ops["Fired"] = s.Fired(j, nil, 0)
	for name, err := range ops {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: error = %v, want ErrClosed", name, err)
		}
	}
	if s.Metrics() != nil {
		t.Error("Metrics after Close is not nil")
	}
}

// TestCloseWaitsForScan closes the store while a scan is inside its callback:
// Close must wait for the scan, and the callback's own calls into the
// closing store must fail with ErrClosed instead of deadlocking.
func TestCloseWaitsForScan(t *testing.T) {
	s := openStore(t, "")
	j := journey(1, 1)
	commit(t, s, func(b *Batch) { b.PutProgress(j, []byte("o"), []byte("v")) })

	closed := make(chan error, 1)
	err := s.ScanProgress(j, func(_, _ []byte) error {
		go func() { closed <- s.Close() }()
		// Wait until Close has begun: new operations are then refused.
		deadline := time.Now().Add(5 * time.Second)
		for s.Healthy() == nil {
			if time.Now().After(deadline) {
				return errors.New("Close did not begin")
			}
			time.Sleep(time.Millisecond)
		}
		if _, _, err := s.Progress(j, []byte("o")); !errors.Is(err, ErrClosed) {
			return fmt.Errorf("Progress during Close: error = %v, want ErrClosed", err)
		}
		select {
		case err := <-closed:
			return fmt.Errorf("Close returned (%v) while a scan was running", err)
		case <-time.After(20 * time.Millisecond):
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestConcurrentCommits commits synced batches from several goroutines, as
// the engine and the callback dispatcher do, and checks none is lost.
func TestConcurrentCommits(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, batches = 4, 25
	j := journey(1, 1)
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				b := s.NewBatch()
				b.PutProgress(j, fmt.Appendf(nil, "w%d-%02d", w, i), []byte{byte(w)})
				b.PutOutbox(fmt.Appendf(nil, "w%d-%02d", w, i), nil)
				if err := b.Commit(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(scanProgress(t, s, j)); got != writers*batches {
		t.Fatalf("%d progress records after concurrent commits, want %d", got, writers*batches)
	}
}

func TestMetricsReflectWrites(t *testing.T) {
	s := openStore(t, "")
	before := s.Metrics().WAL.BytesIn
	commit(t, s, func(b *Batch) { b.PutOutbox([]byte("id"), bytes.Repeat([]byte("x"), 1000)) })
	if after := s.Metrics().WAL.BytesIn; after < before+1000 {
		t.Errorf("WAL bytes in went from %d to %d after a 1000-byte write", before, after)
	}
}

// TestLoggerReceivesPebbleOutput checks both routes into the slog logger:
// Pebble's log lines (WAL replay on reopen) and its events (a flush).
func TestLoggerReceivesPebbleOutput(t *testing.T) {
	dir := t.TempDir()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(dir, Options{Logger: logger, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, func(b *Batch) { b.SetCheckpoint([]byte("cp")) })
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	commit(t, s, func(b *Batch) { b.SetCheckpoint([]byte("cp2")) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{Logger: logger, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Pebble's own lines (the WAL replay on every reopen) are routine:
	// debug, so that a restart logs nothing alarming at info.
	for _, want := range []string{"level=DEBUG msg=\"pebble flush\"", "level=DEBUG msg=\"pebble: [JOB"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "level=INFO") {
		t.Errorf("Pebble logged at info:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for Pebble's background goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
