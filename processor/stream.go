package processor

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/source"
)

// Stream is the ordered stream of LRS changes the pipeline applies: a
// MongoDB change stream (*source.Source) or the embedded statement log's
// reader. Every event carries the position just after it (Event.Token),
// which the pipeline commits with the event's effects and hands back to
// OpenStream after a restart. Next, TryNext and Close are called from the
// pipeline's goroutine; Ready and Stats from any.
type Stream interface {
	// Next returns the next event, waiting as long as ctx allows. An error
	// wrapping source.ErrHistoryLost means the position can no longer be
	// resumed from.
	Next(ctx context.Context) (source.Event, error)
	// TryNext returns the next event if one is available without waiting.
	TryNext(ctx context.Context) (source.Event, bool, error)
	// Ready reports whether the stream is connected.
	Ready() bool
	// Stats returns the stream's counters.
	Stats() source.Stats
	// Close releases the stream.
	Close(ctx context.Context) error
}

// OpenStream opens the stream just after the position resumeAfter (an
// Event.Token), or at its current end when resumeAfter is nil; later
// changes are never missed. An error wrapping source.ErrHistoryLost means
// resumeAfter can no longer be resumed from.
type OpenStream func(ctx context.Context, resumeAfter bson.Raw) (Stream, error)

// JourneyStore is what the pipeline reads and writes of the journey
// documents; lrs.JourneyStore implementations satisfy it.
type JourneyStore interface {
	// Journeys calls fn with every journey (zero org: all organisations).
	Journeys(ctx context.Context, org primitive.ObjectID, fn func(doc bson.Raw) error) error
	// SetRecalculateStatus records a recalculation's status on journey id.
	SetRecalculateStatus(ctx context.Context, id primitive.ObjectID, s journey.RecalculateStatus) error
}

// StatusesSetter is implemented by journey stores that record many
// journeys' statuses in one write (lrs.CollectionJourneys: a bulk write);
// the pipeline uses it for the journeys that recalculate together.
type StatusesSetter interface {
	// SetRecalculateStatuses records each journey's status in statuses; a
	// missing journey is no error.
	SetRecalculateStatuses(ctx context.Context, statuses map[primitive.ObjectID]journey.RecalculateStatus) error
}

// SourceStream returns the OpenStream of a MongoDB change stream with cfg.
func SourceStream(cfg source.Config) OpenStream {
	return func(ctx context.Context, resumeAfter bson.Raw) (Stream, error) {
		src, err := source.Open(ctx, cfg, resumeAfter)
		if err != nil {
			return nil, err
		}
		return src, nil
	}
}

// fillFromDB sets the stream, scanner and journey store of a MongoDB
// database (or lungo in tests) where cfg leaves them nil.
func (cfg *PipelineConfig) fillFromDB() {
	if cfg.DB == nil {
		return
	}
	if cfg.OpenStream == nil {
		cfg.OpenStream = SourceStream(source.Config{
			DB:               cfg.DB,
			Statements:       cfg.Statements,
			Journeys:         cfg.Journeys,
			ServerSideFilter: cfg.ServerSideFilter,
			FullDocument:     cfg.FullDocument,
			SplitLargeEvents: cfg.SplitLargeEvents,
			Logger:           cfg.Logger,
		})
	}
	if cfg.Scanner == nil {
		cfg.Scanner = lrs.NewMongoScanner(cfg.DB, cfg.Statements)
	}
	if cfg.JourneyStore == nil {
		cfg.JourneyStore = lrs.CollectionJourneys{Coll: cfg.DB.Collection(cfg.Journeys)}
	}
}
