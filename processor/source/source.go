package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Config configures a Source. Zero durations and empty names take the
// documented defaults.
type Config struct {
	// DB is the LRS database: the embedded lungo engine's, or a MongoDB
	// database reached through lungo.Connect.
	DB lungo.IDatabase
	// Statements and Journeys name the collections that matter.
	// Defaults: "statements", "journeys".
	Statements, Journeys string
	// ServerSideFilter sends Pipeline with the stream so that MongoDB drops
	// unrelated changes before they cross the network. It must be false
	// for the embedded engine, which cannot filter streams; Open rejects
	// it there.
	ServerSideFilter bool
	// Logger receives failures, reconnects and invalidations; nil discards
	// them.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reopening a failed
	// stream: MinBackoff doubles with every consecutive failure up to
	// MaxBackoff, and each wait is drawn uniformly from its upper half so
	// that several daemons do not reconnect in lockstep. Defaults: 100ms,
	// 30s.
	MinBackoff, MaxBackoff time.Duration
	// CheckpointInterval is the least time between two KindCheckpoint
	// events. Default: 1 minute.
	CheckpointInterval time.Duration
	// FullDocument is what MongoDB sends as the document of an update
	// event. options.UpdateLookup (the default) looks the document up when
	// the event is read: several edits of a journey read late (a backlog,
	// a restart) all carry the last version, and a deactivate/reactivate
	// pair arrives as two reactivations. options.WhenAvailable sends the
	// post-image MongoDB stored with each change, where the collection has
	// changeStreamPreAndPostImages enabled (MongoDB 6.0+): every edit
	// arrives as it was made. An update of statements or journeys that
	// arrives without its post-image (not enabled on that collection, or
	// expired) is looked up by the Source, as updateLookup would have.
	// The embedded engine always sends the document as it was written.
	FullDocument options.FullDocument
	// SplitLargeEvents appends $changeStreamSplitLargeEvent to the stream
	// (MongoDB 7.0, 6.0.9+): an event over 16 MB arrives in fragments that
	// the Source reassembles, instead of failing the stream with
	// BSONObjectTooLarge. Not supported by the embedded engine.
	SplitLargeEvents bool
}

// Stats counts what a Source did since Open.
type Stats struct {
	// Events counts events returned by Next and TryNext, checkpoints
	// excluded.
	Events uint64
	// Ignored counts change events read and classified KindIgnore.
	Ignored uint64
	// Failures counts transient failures of the stream (each one is
	// followed by a reopen attempt).
	Failures uint64
	// Reconnects counts streams successfully reopened after a failure, an
	// invalidation or a read cut short by its context.
	Reconnects uint64
	// HistoryLost counts errors wrapping ErrHistoryLost.
	HistoryLost uint64
	// Invalidates counts invalidate events.
	Invalidates uint64
	// Lookups counts update events whose post-image the server did not
	// send, looked up by the Source (Config.FullDocument WhenAvailable).
	Lookups uint64
	// Fragments counts fragments of split events reassembled
	// (Config.SplitLargeEvents).
	Fragments uint64
}

// Source is one change stream over the LRS database that survives
// transient failures. Next, TryNext and Close must be called from one
// goroutine; Ready and Stats are safe for concurrent use.
type Source struct {
	cfg      Config
	log      *slog.Logger
	db       string // cfg.DB.Name(), for Classify
	embedded bool

	stream lungo.IChangeStream // nil after a failure until reopened
	// token is the position after the last change read, ignored ones
	// included: where a reopened stream starts. nil until known.
	token bson.Raw
	// startAt is where an embedded stream opened without a token starts:
	// the engine's clock at Open. A stream reopened before any change was
	// read starts there again, so nothing made after Open is missed.
	startAt  *primitive.Timestamp
	advanced bool      // token moved past ignored changes since the last event returned
	lastCkpt time.Time // when the last KindCheckpoint was returned
	failures int       // consecutive failures, for the backoff
	opened   bool      // a stream was open before: later opens are reconnects
	closed   bool
	// fragments are the fragments read so far of a split event, in order
	// (see assemble).
	fragments []bson.Raw

	ready                                          atomic.Bool
	events, ignored, failed, reconnects, lost, inv atomic.Uint64
	lookups, frags                                 atomic.Uint64
}

// errClosed is returned by Next and TryNext after Close.
var errClosed = errors.New("source: closed")

// errStreamEnded stands for a stream that stopped without an error: the
// server closed the cursor, or the embedded engine was closed.
var errStreamEnded = errors.New("change stream ended")

// Open opens a change stream over cfg.DB that starts just after the change
// resumeAfter names (a token from Event.Token), or at the current end of
// the stream when resumeAfter is nil. In both cases the position is fixed
// when Open returns: no later change is missed.
//
// Transient failures are retried with backoff until ctx is done. Open
// returns an error wrapping ErrHistoryLost when resumeAfter can no longer
// be resumed from, ctx's error, or any other failure wrapped with context.
func Open(ctx context.Context, cfg Config, resumeAfter bson.Raw) (*Source, error) {
	if cfg.DB == nil {
		return nil, errors.New("source: Config.DB is nil")
	}
	_, embedded := cfg.DB.(*lungo.Database)
	if embedded && (cfg.ServerSideFilter || cfg.SplitLargeEvents) {
		return nil, errors.New("source: ServerSideFilter and SplitLargeEvents are not supported by the embedded engine")
	}
	cfg = cfg.withDefaults()
	s := &Source{
		cfg:      cfg,
		log:      cfg.Logger,
		db:       cfg.DB.Name(),
		embedded: embedded,
		token:    bytes.Clone(resumeAfter),
		lastCkpt: time.Now(),
	}
	if embedded && resumeAfter == nil {
		// lungo stamps its events with this same in-process clock.
		now := bsonkit.Now()
		s.startAt = &now
	}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Statements == "" {
		c.Statements = "statements"
	}
	if c.Journeys == "" {
		c.Journeys = "journeys"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = time.Minute
	}
	if c.FullDocument == "" {
		c.FullDocument = options.UpdateLookup
	}
	return c
}

// Next returns the next event, waiting for one as long as ctx allows.
// Transient failures are retried inside (see the package documentation).
// The error wraps ErrHistoryLost when the stream cannot continue, is ctx's
// error when ctx ends, or is a permanent failure wrapped with context.
// After an error other than ErrHistoryLost, Next may be called again: it
// reopens the stream after the last change read.
func (s *Source) Next(ctx context.Context) (Event, error) {
	if s.closed {
		return Event{}, errClosed
	}
	for {
		if s.stream == nil {
			if err := s.connect(ctx); err != nil {
				return Event{}, err
			}
		}
		ev, ok, err := s.read(ctx, true)
		if err != nil || ok {
			return ev, err
		}
	}
}

// TryNext returns the next event if one is available without waiting: on
// the embedded engine, any change already made; on MongoDB, any event left
// in the batch the last read received (TryNext never waits on the
// network). ok is false when there is none, or while the stream is down
// after a transient failure (the next Next reopens it). Errors are those of
// Next.
func (s *Source) TryNext(ctx context.Context) (ev Event, ok bool, err error) {
	if s.closed {
		return Event{}, false, errClosed
	}
	if s.stream == nil {
		return Event{}, false, nil
	}
	return s.read(ctx, false)
}

// Ready reports whether the stream is open: false before Open returns,
// while reopening after a failure, and after Close. For readiness probes.
func (s *Source) Ready() bool { return s.ready.Load() }

// Stats returns the counters.
func (s *Source) Stats() Stats {
	return Stats{
		Events:      s.events.Load(),
		Ignored:     s.ignored.Load(),
		Failures:    s.failed.Load(),
		Reconnects:  s.reconnects.Load(),
		HistoryLost: s.lost.Load(),
		Invalidates: s.inv.Load(),
		Lookups:     s.lookups.Load(),
		Fragments:   s.frags.Load(),
	}
}

// Close closes the stream. Further calls to Next and TryNext fail; Close
// itself may be called again.
func (s *Source) Close(ctx context.Context) error {
	s.closed = true
	s.ready.Store(false)
	if s.stream == nil {
		return nil
	}
	err := s.stream.Close(ctx)
	s.stream = nil
	if err != nil {
		return fmt.Errorf("source: close change stream: %w", err)
	}
	return nil
}
