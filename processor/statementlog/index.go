package statementlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/internal/pebblelog"
	"github.com/journeys/journeys/processor/lrs"
)

// indexDir is the index instance's directory inside the log's.
const indexDir = "index"

// indexBatchBytes bounds the batches of a catch-up or a move.
const indexBatchBytes = 4 << 20

// openIndex opens the index instance in dir: no WAL (the log is the truth:
// what a crash loses, the catch-up at open rebuilds), an 8 MiB memtable
// (16 MiB cost 20 MiB more RSS for no measurable gain; BENCHMARKS.md), the
// log's block cache and comparer (its look-ups seek by prefix).
func openIndex(dir string, comparer *pebble.Comparer, cache *pebble.Cache, logger *slog.Logger) (*pebble.DB, error) {
	ilog := logger.With("instance", "index")
	idx, err := pebble.Open(dir, &pebble.Options{
		Comparer:                    comparer,
		Cache:                       cache,
		FormatMajorVersion:          pebble.FormatNewest,
		Levels:                      []pebble.LevelOptions{{FilterPolicy: bloom.FilterPolicy(10)}},
		MemTableSize:                8 << 20,
		MemTableStopWritesThreshold: 2,
		DisableWAL:                  true,
		Logger:                      pebblelog.Logger(ilog),
		EventListener:               pebblelog.EventListener(ilog),
	})
	if err != nil {
		return nil, fmt.Errorf("statementlog: open the index %s: %w", dir, err)
	}
	return idx, nil
}

// moveIndex moves the id index and the counters of a log written before
// the index had its own instance from the log instance to the index
// instance, once: the index instance is written and flushed first, then
// the keys are deleted from the log with a synced batch, so a crash in
// between moves them again at the next open. The old index reflected every
// entry, so the moved one is marked as indexing the whole log.
func (l *Log) moveIndex() error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixIndex}, UpperBound: []byte{prefixIndex + 1}})
	if err != nil {
		return fmt.Errorf("statementlog: move the index: %w", err)
	}
	moved := 0
	b := l.idx.NewBatch()
	for ok := it.First(); ok; ok = it.Next() {
		_ = b.Set(it.Key(), it.Value(), nil)
		moved++
		if b.Len() >= indexBatchBytes {
			if err := b.Commit(pebble.NoSync); err != nil {
				it.Close()
				return fmt.Errorf("statementlog: move the index: %w", err)
			}
			b = l.idx.NewBatch()
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("statementlog: move the index: %w", err)
	}
	var metas [][]byte
	for _, key := range [][]byte{metaCount, metaStored} {
		v, closer, err := l.db.Get(key)
		if err != nil {
			if errors.Is(err, pebble.ErrNotFound) {
				continue
			}
			return fmt.Errorf("statementlog: move the index: %w", err)
		}
		_ = b.Set(key, v, nil)
		closer.Close()
		metas = append(metas, key)
	}
	if moved == 0 && len(metas) == 0 {
		return b.Close() // nothing to move: a new log, or moved already
	}
	_ = b.Set(metaIndexed, binary.BigEndian.AppendUint64(nil, l.next-1), nil)
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("statementlog: move the index: %w", err)
	}
	if err := l.idx.Flush(); err != nil {
		return fmt.Errorf("statementlog: move the index: %w", err)
	}
	d := l.db.NewBatch()
	_ = d.DeleteRange([]byte{prefixIndex}, []byte{prefixIndex + 1}, nil)
	for _, key := range metas {
		_ = d.Delete(key, nil)
	}
	if err := d.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("statementlog: move the index: %w", err)
	}
	l.log.Info("statementlog: moved the id index to its own instance", "statements", moved)
	return nil
}

// catchUp brings the index instance up to the log's end: it indexes the
// statement entries after the last one the index reflects (which a crash
// may have left unindexed: the index has no WAL and is committed after the
// log) and recounts the counters over them. An index ahead of the log (a
// log directory restored from an older copy) is rebuilt from the whole
// log. Voided marks and pending voids are in the log itself.
func (l *Log) catchUp() error {
	last := l.next - 1
	indexed, err := l.metaInt(metaIndexed)
	if err != nil {
		return err
	}
	if uint64(indexed) > last {
		l.log.Warn("statementlog: the id index is ahead of the log; rebuilding it", "indexed", indexed, "last", last)
		if err := l.idx.DeleteRange([]byte{0}, []byte{0xff}, pebble.NoSync); err != nil {
			return fmt.Errorf("statementlog: rebuild the index: %w", err)
		}
		indexed, l.count, l.lastStored = 0, 0, 0
	}
	if uint64(indexed) == last {
		return nil
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(uint64(indexed) + 1), UpperBound: entryKey(last + 1)})
	if err != nil {
		return fmt.Errorf("statementlog: catch up the index: %w", err)
	}
	b := l.idx.NewBatch()
	commit := func(seq uint64) error {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(l.count))
		_ = b.Set(metaCount, buf[:], nil)
		binary.BigEndian.PutUint64(buf[:], uint64(l.lastStored))
		_ = b.Set(metaStored, buf[:], nil)
		binary.BigEndian.PutUint64(buf[:], seq)
		_ = b.Set(metaIndexed, buf[:], nil)
		if err := b.Commit(pebble.NoSync); err != nil {
			return fmt.Errorf("statementlog: catch up the index: %w", err)
		}
		b = l.idx.NewBatch()
		return nil
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(it.Key(), it.Value())
		if err != nil {
			it.Close()
			return err
		}
		if e.kind != kindStatement {
			continue
		}
		key, val, err := l.reindex(e)
		if err != nil {
			it.Close()
			return err
		}
		if val != nil {
			_ = b.Set(key, val, nil)
		}
		l.count++
		l.lastStored = lastStoredAfter(e)
		n++
		if b.Len() >= indexBatchBytes {
			if err := commit(e.seq); err != nil {
				it.Close()
				return err
			}
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("statementlog: catch up the index: %w", err)
	}
	if err := commit(last); err != nil {
		return err
	}
	l.log.Info("statementlog: the id index caught up with the log", "statements", n, "after", indexed, "last", last)
	return nil
}

// reindex returns the id index key and value of statement entry e. An
// entry written without its digest (before the index had its own
// instance) keeps the index value it has (a nil val); one that has none
// (an index rebuilt from scratch) gets the digest of its stored statement.
func (l *Log) reindex(e entry) (key, val []byte, err error) {
	doc := bson.Raw(e.payload)
	store, ok1 := doc.Lookup("lrs_id").ObjectIDOK()
	id, ok2 := doc.Lookup("statement", "id").StringValueOK()
	stmt, ok3 := doc.Lookup("statement").DocumentOK()
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, fmt.Errorf("statementlog: entry %d lacks lrs_id or statement.id", e.seq)
	}
	key = indexKey(store, id)
	_, voiding := voidedTarget(doc)
	if e.digest != nil {
		var digest [32]byte
		copy(digest[:], e.digest)
		return key, indexValue(e.seq, digest, voiding), nil
	}
	v, closer, err := l.idx.Get(key)
	if err == nil {
		same := len(v) >= 8 && binary.BigEndian.Uint64(v) == e.seq
		closer.Close()
		if same {
			return key, nil, nil
		}
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return nil, nil, fmt.Errorf("statementlog: catch up the index: %w", err)
	}
	return key, indexValue(e.seq, lrs.ContentDigest(stmt), voiding), nil
}

// lastStoredAfter returns the writer's lastStored after statement entry e:
// its stored time, one more for an imported statement (its _id is not the
// one the log stamps), as Import and storeStatements set it.
func lastStoredAfter(e entry) int64 {
	id, _ := bson.Raw(e.payload).Lookup("_id").ObjectIDOK()
	if want := statementID(e.ms, e.seq); bytes.Equal(id[:], want[:]) {
		return e.ms
	}
	return e.ms + 1
}
