package statementlog

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"github.com/journeys/journeys/internal/pebblelog"
	"github.com/journeys/journeys/processor/lrs"
)

// TestIDLookupsOverTables checks the writer's id look-ups (one iterator
// per group commit, SeekPrefixGE through the tables' bloom filters) when
// the index lives in sstables written by Pebble's default comparer, as
// logs written before the look-ups changed are: reposts are recognised,
// a changed statement conflicts, a new one is stored, and a pending void
// recorded before a restart still voids its target.
func TestIDLookupsOverTables(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const n = 3000
	body := func(first, count int) []byte {
		parts := make([]string, 0, count)
		for i := first; i < first+count; i++ {
			parts = append(parts, stmt(uuid(i), i))
		}
		return []byte("[" + strings.Join(parts, ",") + "]")
	}
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 100 {
		if _, err := l.Ingest(ctx, org, store, body(i, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Ingest(ctx, org, store, []byte(voiding(uuid(n+1), uuid(n+2)))); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Rewrite every table, the log's (pending voids) and the id index's
	// (its own instance), with the default comparer (no Split), filters
	// over whole keys.
	for _, d := range []string{dir, filepath.Join(dir, indexDir)} {
		db, err := pebble.Open(d, &pebble.Options{
			Levels: []pebble.LevelOptions{{FilterPolicy: bloom.FilterPolicy(10)}},
			Logger: pebblelog.Logger(slog.New(slog.DiscardHandler)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Compact([]byte{0}, []byte{0xff}, true); err != nil {
			t.Fatal(err)
		}
		m := db.Metrics()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if tables := m.Total().NumFiles; tables == 0 {
			t.Fatalf("%s: no table rewritten", d)
		}
	}

	l = openLog(t, dir)
	end := l.Last()
	for i := 0; i < n; i += 100 {
		ids, err := l.Ingest(ctx, org, store, body(i, 100))
		if err != nil || len(ids) != 100 || ids[0] != uuid(i) {
			t.Fatalf("repost of %d..: %v %v", i, ids, err)
		}
	}
	if l.Last() != end {
		t.Fatalf("reposts appended %d entries", l.Last()-end)
	}
	_, err = l.Ingest(ctx, org, store, []byte(stmt(uuid(1234), 99)))
	var ce *lrs.ConflictError
	if !errors.As(err, &ce) || len(ce.IDs) != 1 || ce.IDs[0] != uuid(1234) {
		t.Fatalf("changed statement: %v, want a conflict on %s", err, uuid(1234))
	}
	if _, err := l.Ingest(ctx, org, store, []byte(stmt(uuid(n+2), n+2))); err != nil {
		t.Fatal(err)
	}
	if !isVoided(t, l, uuid(n+2)) {
		t.Fatal("the target of a void recorded before the restart is not voided")
	}
	if isVoided(t, l, uuid(7)) {
		t.Fatal("an unrelated statement is voided")
	}
}
