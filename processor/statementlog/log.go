package statementlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"github.com/journeys/journeys/internal/pebblelog"
)

// Dir is the log's directory inside the daemon's data directory.
const Dir = "log"

// DefaultCacheSize is the block cache capacity used when Options.CacheSize
// is zero. The log is mostly written and read in order; the cache serves
// the id index.
const DefaultCacheSize = 32 << 20

// ErrClosed is returned by operations on a closed Log.
var ErrClosed = errors.New("statementlog: closed")

// Options configures Open.
type Options struct {
	// NoSync disables the fsync of each group commit: batches stay atomic
	// but the latest may be lost on a crash. Tests and benchmarks only.
	NoSync bool
	// CacheSize is the Pebble block cache capacity in bytes; zero selects
	// DefaultCacheSize.
	CacheSize int64
	// Logger receives the log's messages; nil discards them.
	Logger *slog.Logger
	// Now is the wall clock that stamps stored; nil is time.Now.
	Now func() time.Time
}

// Log is an open statement log. It is safe for concurrent use.
type Log struct {
	db *pebble.DB
	// idx is the id index and the counters, in their own Pebble instance
	// (see index.go).
	idx  *pebble.DB
	opts Options
	wo   *pebble.WriteOptions
	log  *slog.Logger

	// The writer (see write.go): queue holds the requests waiting for the
	// writer lock; the fields after writeMu are guarded by it.
	queueMu    sync.Mutex
	queue      []*request
	writeMu    sync.Mutex
	next       uint64 // the seq of the next entry
	lastStored int64  // the stored time (Unix ms) of the latest statement
	count      int64  // statements stored
	voided     uint64 // voided marks written (for tests and metrics)
	// failed, when set, refuses every later write: a group was committed
	// to the log but not to the index, which only the catch-up of the
	// next Open repairs.
	failed error
	// pendingVoids is at least the number of pending voids ('w' keys):
	// while it is zero, a new statement needs no look-up for one.
	pendingVoids int64

	// scratch holds the memory of the bodies being ingested
	// (*lrs.Scratch, see Ingest): their documents are copied into the
	// write batch, so it serves the next body.
	scratch sync.Pool

	// Published after each durable commit, for readers.
	last    atomic.Uint64 // the seq of the last durable entry
	stored  atomic.Int64  // lastStored
	nstored atomic.Int64  // count
	closed  atomic.Bool

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after each commit
}

// Key prefixes; see the package documentation.
const (
	prefixEntry  = 'e'
	prefixIndex  = 'i'
	prefixVoided = 'v'
	// prefixPendingVoid keys a voiding statement's target not stored yet.
	prefixPendingVoid = 'w'
	prefixJourney     = 'j'
	prefixMeta        = 'm'
)

// Entry kinds.
const (
	kindStatement = 'S'
	// kindStatementDigest is a statement entry whose header carries the
	// statement's content digest as the client sent it (lrs.Prepared.Content,
	// 32 bytes) after the time, so that the id index can be rebuilt from
	// the log; every statement is written so since the index has its own
	// Pebble instance. Reads decode it as kindStatement.
	kindStatementDigest = 'T'
	kindJourneyUpsert   = 'J'
	kindJourneyDelete   = 'D'
	// kindStatementVoided follows a voiding statement whose target was
	// already stored: the target was voided (payload: the target's seq).
	kindStatementVoided = 'V'
)

// entryHeader is the length of an entry value's header: kind, time.
const entryHeader = 1 + 8

var (
	metaCount  = []byte{prefixMeta, 'c'}
	metaStored = []byte{prefixMeta, 's'}
	// metaIndexed (in the index instance) is the seq of the last log entry
	// the index reflects.
	metaIndexed = []byte{prefixMeta, 'i'}
)

// entryKey returns the key of entry seq.
func entryKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixEntry
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

// voidedKey returns the key of the voided mark of entry seq.
func voidedKey(seq uint64) []byte {
	k := entryKey(seq)
	k[0] = prefixVoided
	return k
}

// Open opens the log in dir, creating it if needed.
func Open(dir string, opts Options) (*Log, error) {
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("statementlog: open: %w", err)
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref()
	// The default comparer with the whole key as its prefix: the writer's
	// id look-ups use SeekPrefixGE (see group.get), which needs a Split.
	// Filters are built over whole keys with or without it, and the name is
	// unchanged, so logs written before open as they did.
	comparer := *pebble.DefaultComparer
	comparer.Split = func(key []byte) int { return len(key) }
	plog := opts.Logger.With("component", "statementlog")
	db, err := pebble.Open(dir, &pebble.Options{
		Comparer:           &comparer,
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		// Id lookups of new statements miss: bloom filters answer them.
		Levels:       []pebble.LevelOptions{{FilterPolicy: bloom.FilterPolicy(10)}},
		MemTableSize: 32 << 20,
		// Bounded memory: at most two memtables.
		MemTableStopWritesThreshold: 2,
		Logger:                      pebblelog.Logger(plog),
		EventListener:               pebblelog.EventListener(plog),
	})
	if err != nil {
		return nil, fmt.Errorf("statementlog: open %s: %w", dir, err)
	}
	idx, err := openIndex(filepath.Join(dir, indexDir), &comparer, cache, plog)
	if err != nil {
		db.Close()
		return nil, err
	}
	l := &Log{db: db, idx: idx, opts: opts, log: opts.Logger, wo: pebble.Sync, notify: make(chan struct{})}
	if opts.NoSync {
		l.wo = pebble.NoSync
	}
	if err := l.load(); err != nil {
		idx.Close()
		db.Close()
		return nil, err
	}
	return l, nil
}

// load reads the log's end and its counters.
func (l *Log) load() error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixEntry}, UpperBound: []byte{prefixEntry + 1}})
	if err != nil {
		return fmt.Errorf("statementlog: open: %w", err)
	}
	if it.Last() {
		l.next = binary.BigEndian.Uint64(it.Key()[1:]) + 1
	} else {
		l.next = 1
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("statementlog: open: %w", err)
	}
	if l.pendingVoids, err = l.countPrefix(prefixPendingVoid); err != nil {
		return err
	}
	if err := l.moveIndex(); err != nil {
		return err
	}
	if l.count, err = l.metaInt(metaCount); err != nil {
		return err
	}
	if l.lastStored, err = l.metaInt(metaStored); err != nil {
		return err
	}
	if err := l.catchUp(); err != nil {
		return err
	}
	l.last.Store(l.next - 1)
	l.stored.Store(l.lastStored)
	l.nstored.Store(l.count)
	return nil
}

// countPrefix returns the number of keys with prefix p.
func (l *Log) countPrefix(p byte) (int64, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{p}, UpperBound: []byte{p + 1}})
	if err != nil {
		return 0, fmt.Errorf("statementlog: open: %w", err)
	}
	n := int64(0)
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("statementlog: open: %w", err)
	}
	return n, nil
}

// metaInt reads a counter of the index instance.
func (l *Log) metaInt(key []byte) (int64, error) {
	v, closer, err := l.idx.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("statementlog: read %q: %w", key, err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("statementlog: corrupt counter %q", key)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// Last returns the seq of the last durable entry (0 when empty).
func (l *Log) Last() uint64 { return l.last.Load() }

// Ping reports whether the log is open, for readiness probes.
func (l *Log) Ping() error {
	if l.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close closes the log. Requests still queued fail with ErrClosed.
func (l *Log) Close() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Swap(true) {
		return nil
	}
	l.publish() // wakes readers, which then see the log closed
	// The index has no WAL: a flush makes it whole on disk, so that the
	// next Open has no tail to catch up.
	ierr := l.idx.Flush()
	if err := l.idx.Close(); err != nil && ierr == nil {
		ierr = err
	}
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("statementlog: close: %w", err)
	}
	if ierr != nil {
		return fmt.Errorf("statementlog: close the index: %w", ierr)
	}
	return nil
}

// changed returns a channel closed at the next commit.
func (l *Log) changed() <-chan struct{} {
	l.notifyMu.Lock()
	defer l.notifyMu.Unlock()
	return l.notify
}

// publish makes the writer's state visible to readers and wakes them.
func (l *Log) publish() {
	l.last.Store(l.next - 1)
	l.stored.Store(l.lastStored)
	l.nstored.Store(l.count)
	l.notifyMu.Lock()
	close(l.notify)
	l.notify = make(chan struct{})
	l.notifyMu.Unlock()
}
