package statementlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/pebblelog"
	"github.com/journeys/journeys/processor/lrs"
)

// voidingStmt returns a voiding statement body with id, of target.
func voidingStmt(id, target string) string {
	return `{"id":"` + id + `","actor":{"mbox":"mailto:admin@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"` + target + `"}}`
}

// fillLog ingests statements from..to-1 (given ids, and as many generated
// ones), voiding every fifth one stored before and leaving a pending void
// of an id not stored.
func fillLog(t *testing.T, l *Log, from, to int) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < to; i++ {
		parts := []string{stmt(uuid(i), i), stmt("", i)}
		if i%5 == 0 && i > from {
			parts = append(parts, voidingStmt(uuid(100000+i), uuid(i-1)))
		}
		if i%7 == 0 {
			parts = append(parts, voidingStmt(uuid(200000+i), uuid(300000+i)))
		}
		if _, err := l.Ingest(ctx, org, store, []byte("["+strings.Join(parts, ",")+"]")); err != nil {
			t.Fatal(err)
		}
	}
}

// dumpIndex returns every key and value of the index instance, and fails
// if the log instance holds an index key or a counter.
func dumpIndex(t *testing.T, l *Log) string {
	t.Helper()
	var b strings.Builder
	it, err := l.idx.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		fmt.Fprintf(&b, "%x=%x\n", it.Key(), it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []byte{prefixIndex, prefixMeta} {
		it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{p}, UpperBound: []byte{p + 1}})
		if err != nil {
			t.Fatal(err)
		}
		if it.First() {
			t.Errorf("the log instance holds %q", it.Key())
		}
		it.Close()
	}
	return b.String()
}

// checkFound checks that statements 0..n-1 are found by id, that a repost
// of each stores nothing and that an altered one is a conflict.
func checkFound(t *testing.T, l *Log, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, _, err := l.Statement(ctx, store, uuid(i)); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	last := l.Last()
	var parts []string
	for i := range n {
		parts = append(parts, stmt(uuid(i), i))
	}
	if _, err := l.Ingest(ctx, org, store, []byte("["+strings.Join(parts, ",")+"]")); err != nil {
		t.Fatalf("a repost of the same statements: %v", err)
	}
	if l.Last() != last {
		t.Fatalf("a repost of the same statements appended %d entries", l.Last()-last)
	}
	var ce *lrs.ConflictError
	if _, err := l.Ingest(ctx, org, store, []byte(stmt(uuid(n-1), n+1000))); !errors.As(err, &ce) {
		t.Fatalf("an altered repost: %v, want a conflict", err)
	}
}

// reopen closes l, lets damage change the directory, and opens it again.
func reopen(t *testing.T, l *Log, dir string, damage func()) *Log {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	damage()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestIndexCatchUp loses the index instance wholly, or its latest part
// (the index has no WAL: a crash loses what was not flushed), and checks
// that Open rebuilds it exactly from the log: the same keys and values,
// counters included, as before the loss.
func TestIndexCatchUp(t *testing.T) {
	for _, whole := range []bool{true, false} {
		t.Run(fmt.Sprintf("whole=%v", whole), func(t *testing.T) {
			dir := t.TempDir()
			saved := filepath.Join(t.TempDir(), "index")
			l, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fillLog(t, l, 0, 40)
			if !whole {
				l = reopen(t, l, dir, func() {
					if err := os.CopyFS(saved, os.DirFS(filepath.Join(dir, indexDir))); err != nil {
						t.Fatal(err)
					}
				})
			}
			fillLog(t, l, 40, 80)
			want := dumpIndex(t, l)
			count, stored := l.nstored.Load(), l.stored.Load()
			l = reopen(t, l, dir, func() {
				if err := os.RemoveAll(filepath.Join(dir, indexDir)); err != nil {
					t.Fatal(err)
				}
				if !whole {
					if err := os.CopyFS(filepath.Join(dir, indexDir), os.DirFS(saved)); err != nil {
						t.Fatal(err)
					}
				}
			})
			if got := dumpIndex(t, l); got != want {
				t.Fatalf("the index after the catch-up differs:\n got %s\nwant %s", got, want)
			}
			if l.nstored.Load() != count || l.stored.Load() != stored {
				t.Fatalf("counters %d %d, want %d %d", l.nstored.Load(), l.stored.Load(), count, stored)
			}
			checkFound(t, l, 80)
			// Voiding still holds: every fifth statement's predecessor is
			// voided, and a late target of a pending void is stored voided.
			if _, voided, err := l.Statement(context.Background(), store, uuid(9)); err != nil || !voided {
				t.Fatalf("statement 9: voided %v, %v", voided, err)
			}
			if _, err := l.Ingest(context.Background(), org, store, []byte(stmt(uuid(300077), 1))); err != nil {
				t.Fatal(err)
			}
			if _, voided, err := l.Statement(context.Background(), store, uuid(300077)); err != nil || !voided {
				t.Fatalf("the target of a pending void: voided %v, %v", voided, err)
			}
		})
	}
}

// TestIndexCatchUpAfterImport rebuilds the counters over imported
// statements: the writer's lastStored is one past an imported statement's
// stored, so that later ones are stamped after it.
func TestIndexCatchUpAfterImport(t *testing.T) {
	future := time.Now().Add(time.Hour)
	src, err := Open(t.TempDir(), Options{Now: func() time.Time { return future }})
	if err != nil {
		t.Fatal(err)
	}
	fillLog(t, src, 0, 10)
	docs := scanAll(t, src)
	src.Close()
	dir := t.TempDir()
	l := openLog(t, dir)
	fillLog(t, l, 1000, 1001)
	if err := l.Import(docs); err != nil {
		t.Fatal(err)
	}
	want := dumpIndex(t, l)
	l = reopen(t, l, dir, func() {
		if err := os.RemoveAll(filepath.Join(dir, indexDir)); err != nil {
			t.Fatal(err)
		}
	})
	if got := dumpIndex(t, l); got != want {
		t.Fatalf("the index after the catch-up differs:\n got %s\nwant %s", got, want)
	}
	for i := range 10 {
		if _, _, err := l.Statement(context.Background(), store, uuid(i)); err != nil {
			t.Fatalf("imported statement %d: %v", i, err)
		}
	}
}

// TestIndexAheadOfLog replaces the log with an older copy beside a newer
// index: the index is rebuilt from the log, so the statements the log no
// longer holds are not found, and the others are.
func TestIndexAheadOfLog(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(t.TempDir(), "log")
	l := openLog(t, dir)
	fillLog(t, l, 0, 20)
	l = reopen(t, l, dir, func() {
		if err := os.CopyFS(old, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	})
	fillLog(t, l, 20, 40)
	l = reopen(t, l, old, func() {
		if err := os.RemoveAll(filepath.Join(old, indexDir)); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(filepath.Join(old, indexDir), os.DirFS(filepath.Join(dir, indexDir))); err != nil {
			t.Fatal(err)
		}
	})
	if _, _, err := l.Statement(context.Background(), store, uuid(30)); !errors.Is(err, lrs.ErrNotFound) {
		t.Fatalf("a statement the log does not hold: %v", err)
	}
	if n := l.nstored.Load(); n != int64(len(scanAll(t, l))) {
		t.Fatalf("count %d, the log holds %d", n, len(scanAll(t, l)))
	}
	checkFound(t, l, 20)
}

// TestIndexMovedFromOldLog turns a log into the layout written before the
// index had its own instance (index keys and counters in the log instance,
// statement entries without the digest) and checks that Open moves them
// once: the same index as before, none left in the log instance, and a
// repost of the same content still recognised (the client's digest is
// moved, not recomputed). An index instance left by a move that a crash
// interrupted is moved over again.
func TestIndexMovedFromOldLog(t *testing.T) {
	for _, interrupted := range []bool{false, true} {
		t.Run(fmt.Sprintf("interrupted=%v", interrupted), func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir)
			fillLog(t, l, 0, 30)
			want := dumpIndex(t, l)
			count, stored := l.nstored.Load(), l.stored.Load()
			l = reopen(t, l, dir, func() { toOldLayout(t, dir, !interrupted) })
			if got := dumpIndex(t, l); got != want {
				t.Fatalf("the moved index differs:\n got %s\nwant %s", got, want)
			}
			if l.nstored.Load() != count || l.stored.Load() != stored {
				t.Fatalf("counters %d %d, want %d %d", l.nstored.Load(), l.stored.Load(), count, stored)
			}
			checkFound(t, l, 30)
			// Entries without a digest keep their moved index through a
			// later catch-up.
			want = dumpIndex(t, l)
			l = reopen(t, l, dir, func() {})
			if got := dumpIndex(t, l); got != want {
				t.Fatalf("the index after a reopen differs:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// toOldLayout rewrites the closed log in dir as a log written before the
// index had its own instance: the index instance's keys (but the new
// counter) into the log instance, statement entries without the digest;
// dropIndex removes the index instance.
func toOldLayout(t *testing.T, dir string, dropIndex bool) {
	t.Helper()
	cmp := *pebble.DefaultComparer
	cmp.Split = func(key []byte) int { return len(key) }
	quiet := pebblelog.Logger(slog.New(slog.DiscardHandler))
	idx, err := pebble.Open(filepath.Join(dir, indexDir), &pebble.Options{Comparer: &cmp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open(dir, &pebble.Options{Comparer: &cmp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	it, _ := idx.NewIter(nil)
	for ok := it.First(); ok; ok = it.Next() {
		if !bytes.Equal(it.Key(), metaIndexed) {
			_ = b.Set(it.Key(), it.Value(), nil)
		}
	}
	it.Close()
	it, _ = db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixEntry}, UpperBound: []byte{prefixEntry + 1}})
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if v[0] == kindStatementDigest {
			old := append([]byte{kindStatement}, v[1:entryHeader]...)
			old = append(old, v[entryHeader+32:]...)
			if _, err := bson.Raw(old[entryHeader:]).LookupErr("statement"); err != nil {
				t.Fatal(err)
			}
			_ = b.Set(it.Key(), old, nil)
		}
	}
	it.Close()
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	idx.Close()
	if dropIndex {
		if err := os.RemoveAll(filepath.Join(dir, indexDir)); err != nil {
			t.Fatal(err)
		}
	}
}
