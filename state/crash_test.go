package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment of the crash helper process.
const (
	crashDirEnv    = "JOURNEYS_STATE_CRASH_DIR"   // store directory; unset: not a helper
	crashUntilEnv  = "JOURNEYS_STATE_CRASH_UNTIL" // last batch to commit before exiting
	crashSeedEnv   = "JOURNEYS_STATE_CRASH_SEED"  // replays a logged TestCrashConsistency run
	crashReady     = "crash-helper-ready"
	crashCommitted = "committed " // prefix of the line the child prints after each Commit
)

// TestCrashHelperProcess is the child of TestCrashConsistency: it opens a
// durable on-disk store and commits workload batches from the checkpoint it
// finds until it is killed or reaches the batch in crashUntilEnv.
func TestCrashHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashConsistency")
	}
	until, err := strconv.ParseUint(os.Getenv(crashUntilEnv), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", crashUntilEnv, err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := uint64(0)
	if cp, ok, err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	} else if ok {
		next = binary.BigEndian.Uint64(cp) + 1
	}
	fmt.Println(crashReady)
	read := func(j JourneyID, owner []byte) ([]byte, bool) {
		v, ok, err := s.Progress(j, owner)
		if err != nil {
			t.Fatal(err)
		}
		return v, ok
	}
	for i := next; i <= until; i++ {
		b := s.NewBatch()
		crashBatch(i, read, b)
		// Two batches in three are committed unsynced (as a scan's are):
		// a kill may lose them, but only with everything after them.
		if i%3 != 0 {
			if err := b.CommitUnsynced(); err != nil {
				t.Fatalf("commit batch %d unsynced: %v", i, err)
			}
			continue
		}
		if err := b.Commit(); err != nil {
			t.Fatalf("commit batch %d: %v", i, err)
		}
		// Tell the parent which batches Commit has declared durable (with
		// the unsynced ones before them).
		fmt.Printf("%s%d\n", crashCommitted, i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCrashConsistency SIGKILLs a process committing batches at random
// moments and checks after each kill that the store holds exactly the state
// of the batches up to its checkpoint: no torn batch, no lost committed
// batch, no stray key. The child commits most batches unsynced
// (Batch.CommitUnsynced), so this also checks that a kill leaves a prefix
// of the commit sequence and that a synced commit makes the unsynced ones
// before it durable.
func TestCrashConsistency(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", crashSeedEnv, err)
		}
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	model := newCrashModel()
	applied := uint64(0) // batches applied to the model
	last := int64(-1)    // checkpoint after the previous run

	const kills = 8
	for k := range kills {
		// Most kills land in the commit loop; some land while the child
		// is still opening the store and replaying the WAL.
		duringOpen := rng.IntN(4) == 0
		delay := time.Duration(rng.IntN(250)) * time.Millisecond
		if duringOpen {
			delay = time.Duration(rng.IntN(40)) * time.Millisecond
		}
		out := runCrashHelper(t, dir, math.MaxUint64, func(ready <-chan struct{}) {
			if !duringOpen {
				<-ready
			}
			time.Sleep(delay)
		})
		cp := checkCrashState(t, dir, model, &applied)
		acked := lastCommitted(out)
		t.Logf("kill %d: after %v (from start: %v), checkpoint %d, last acknowledged commit %d", k, delay, duringOpen, cp, acked)
		if cp < acked || cp < last {
			t.Fatalf("checkpoint %d lost a committed batch (acknowledged %d, previous run %d)", cp, acked, last)
		}
		last = cp
	}
	if last < 10 {
		t.Fatalf("only %d batches committed across %d runs: the kills tested nothing", last+1, kills)
	}

	// A final uninterrupted stretch must end exactly at its last batch.
	until := uint64(last) + 200
	runCrashHelper(t, dir, until, nil)
	if cp := checkCrashState(t, dir, model, &applied); cp != int64(until) {
		t.Fatalf("final run ended at checkpoint %d, want %d", cp, until)
	}
}

// runCrashHelper starts the helper on dir. With a non-nil wait it calls wait
// with a channel closed once the child has opened the store, then SIGKILLs
// the child; with a nil wait it expects the child to run to completion. It
// returns the child's output.
func runCrashHelper(t *testing.T, dir string, until uint64, wait func(ready <-chan struct{})) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashUntilEnv+"="+strconv.FormatUint(until, 10))
	out := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if wait == nil {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		return out.String()
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := make(chan struct{})
	go func() {
		wait(out.ready)
		close(waited)
	}()
	select {
	case err := <-exited:
		t.Fatalf("helper exited before it was killed: %v\n%s", err, out)
	case <-waited:
	case <-time.After(20 * time.Second):
		t.Fatalf("helper not ready after 20s\n%s", out)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Fatalf("helper exited cleanly although it was killed\n%s", out)
	}
	return out.String()
}

// checkCrashState opens the store in dir, advances the model to the store's
// checkpoint and compares every key and value. It returns the checkpoint, -1
// when no batch has committed.
func checkCrashState(t *testing.T, dir string, model *crashModel, applied *uint64) int64 {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cp := int64(-1)
	if v, ok, err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	} else if ok {
		cp = int64(binary.BigEndian.Uint64(v))
	}
	if cp+1 < int64(*applied) {
		t.Fatalf("checkpoint %d is behind batches already verified (%d)", cp, *applied)
	}
	for ; int64(*applied) <= cp; *applied++ {
		model.apply(*applied)
	}
	want := model.render()

	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	got := map[string]string{}
	for valid := it.First(); valid; valid = it.Next() {
		got[string(it.Key())] = string(it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	for _, k := range sortedKeys(want) {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing %x", k))
		} else if g != want[k] {
			diffs = append(diffs, fmt.Sprintf("key %x = %x, want %x", k, g, want[k]))
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("extra %x", k))
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("... %d more", len(diffs)-10))
		}
		t.Fatalf("store at checkpoint %d differs from batches 0..%d:\n%s", cp, cp, strings.Join(diffs, "\n"))
	}
	return cp
}

// lastCommitted returns the last batch the child acknowledged as committed
// in its output, or -1.
func lastCommitted(out string) int64 {
	i := strings.LastIndex(out, crashCommitted)
	if i < 0 {
		return -1
	}
	line := out[i+len(crashCommitted):]
	end := strings.IndexByte(line, '\n')
	if end < 0 {
		// The kill cut the line short; the one before it is complete.
		return lastCommitted(out[:i])
	}
	n, err := strconv.ParseInt(line[:end], 10, 64)
	if err != nil {
		return lastCommitted(out[:i])
	}
	return n
}

// readyWriter collects the child's output and closes ready when the child
// announces that its store is open.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	seen  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.seen && bytes.Contains(w.buf.Bytes(), []byte(crashReady+"\n")) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
