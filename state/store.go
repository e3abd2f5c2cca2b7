package state

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"github.com/journeys/journeys/internal/pebblelog"
)

// DefaultCacheSize is the block cache capacity used when Options.CacheSize
// is zero.
const DefaultCacheSize = 64 << 20

var (
	// ErrClosed is returned by operations on a Store that is closed or
	// closing.
	ErrClosed = errors.New("state: store closed")
	// ErrLocked is returned (wrapped) by Open when another process has the
	// store open.
	ErrLocked = errors.New("state: store in use")
	// ErrOwnerTooLong is returned for an owner key longer than MaxOwnerLen.
	ErrOwnerTooLong = errors.New("state: owner key too long")

	// errCorruptKey reports a stored key that does not follow the layout.
	errCorruptKey = errors.New("state: corrupt key")
)

// Options configures Open. The zero value is a durable store with default
// sizing that discards Pebble's logs.
type Options struct {
	// NoSync disables the fsync in Batch.Commit. Batches stay atomic but the
	// most recent ones may be lost on a crash. Tests and benchmarks only.
	NoSync bool
	// Logger receives Pebble's log messages and events: background errors,
	// slow disks and write stalls at warning level or above, flushes and
	// compactions at debug level. Nil discards them.
	Logger *slog.Logger
	// CacheSize is the block cache capacity in bytes; zero selects
	// DefaultCacheSize.
	CacheSize int64
}

// Store is the daemon's durable state. It is safe for concurrent use.
type Store struct {
	db        *pebble.DB
	writeOpts *pebble.WriteOptions
	gate      gate
}

// Open opens the store in dir, creating the directory and an empty store if
// needed. It refuses a directory holding a Pebble database that is not a
// journeys store or has an unknown layout version.
func Open(dir string, opts Options) (*Store, error) {
	if opts.CacheSize < 0 {
		return nil, fmt.Errorf("state: open %s: negative cache size %d", dir, opts.CacheSize)
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("state: open: %w", err)
	}
	cache := pebble.NewCache(opts.CacheSize)
	// The DB takes its own reference; ours is only needed until Open returns.
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache: cache,
		// A new store starts on the newest on-disk format: there is no
		// older journeysd whose binaries must still read it.
		FormatMajorVersion: pebble.FormatNewest,
		// Many point reads miss: the first statement of an owner finds no
		// progress and most attempts have no fired marker yet. Bloom filters
		// answer those misses without reading data blocks. Pebble extends
		// the settings of the last listed level to the levels below it.
		Levels:        []pebble.LevelOptions{{FilterPolicy: bloom.FilterPolicy(10)}},
		Logger:        pebblelog.Logger(logger),
		EventListener: pebblelog.EventListener(logger),
	})
	if err != nil {
		if lockHeld(err) {
			return nil, fmt.Errorf("%w: another process holds %s: %w", ErrLocked, filepath.Join(dir, "LOCK"), err)
		}
		return nil, fmt.Errorf("state: open pebble in %s: %w", dir, err)
	}
	s := &Store{db: db, writeOpts: pebble.Sync}
	if opts.NoSync {
		s.writeOpts = pebble.NoSync
	}
	s.gate.init()
	if err := s.checkLayout(); err != nil {
		// The layout error is the one worth reporting; a close failure on
		// top of it adds nothing the caller can act on.
		_ = db.Close()
		return nil, fmt.Errorf("state: open %s: %w", dir, err)
	}
	return s, nil
}

// checkLayout verifies the layout version of an existing store, or stamps
// an empty one with the current version.
func (s *Store) checkLayout() error {
	v, ok, err := s.get(versionKey)
	if err != nil {
		return fmt.Errorf("read layout version: %w", err)
	}
	if ok {
		if len(v) != 1 || v[0] != layoutVersion {
			return fmt.Errorf("unsupported layout version %x (want %d)", v, layoutVersion)
		}
		return nil
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("probe for existing data: %w", err)
	}
	empty := !it.First()
	if err := it.Close(); err != nil {
		return fmt.Errorf("probe for existing data: %w", err)
	}
	if !empty {
		return errors.New("directory holds a Pebble database that is not a journeys state store")
	}
	if err := s.db.Set(versionKey, []byte{layoutVersion}, s.writeOpts); err != nil {
		return fmt.Errorf("write layout version: %w", err)
	}
	return nil
}

// Close waits for in-flight operations, then closes the store. Operations
// started after Close began fail with ErrClosed; a second Close returns
// ErrClosed. Close must not be called from a scan callback, which it would
// wait for.
func (s *Store) Close() error {
	if !s.gate.close() {
		return ErrClosed
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("state: close: %w", err)
	}
	return nil
}

// Healthy returns nil when the store is open and serves reads, for
// readiness probes. It is safe to call concurrently with Close.
func (s *Store) Healthy() error {
	// The version key is always present, so reading it exercises the read
	// path and checks an invariant at once.
	_, ok, err := s.get(versionKey)
	if err != nil {
		return fmt.Errorf("state: health check: %w", err)
	}
	if !ok {
		return errors.New("state: health check: layout version key missing")
	}
	return nil
}

// Metrics returns Pebble's metrics (disk usage, compactions, read
// amplification, cache hit rates), or nil once the store is closed.
func (s *Store) Metrics() *pebble.Metrics {
	if !s.gate.enter() {
		return nil
	}
	defer s.gate.exit()
	return s.db.Metrics()
}

// lockHeld reports whether err is Pebble's failure to take the directory
// lock because another process holds it.
func lockHeld(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
}
