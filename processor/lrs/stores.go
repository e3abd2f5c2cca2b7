package lrs

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// ErrNotFound is returned by JourneyStore.Journey and ClientStore.Client
// when there is no such document.
var ErrNotFound = errors.New("lrs: not found")

// ErrDuplicate is returned by JourneyStore.InsertJourney when the id is
// taken (in any organisation).
var ErrDuplicate = errors.New("lrs: duplicate id")

// JourneyStore holds the journey documents (docs/design.md §3): a MongoDB collection
// (CollectionJourneys), or the journeys of the embedded statement log. It
// is the seam between the HTTP API and pipeline above and whichever LRS
// holds the journeys. Every write shows up in the change stream the
// pipeline reads, at its position among the statements.
type JourneyStore interface {
	// Journey returns journey id of organisation org, or ErrNotFound.
	Journey(ctx context.Context, org, id primitive.ObjectID) (bson.Raw, error)
	// Journeys calls fn with every journey of org, or of every
	// organisation when org is zero, in the store's order, until fn
	// returns an error (returned as is). doc belongs to fn.
	Journeys(ctx context.Context, org primitive.ObjectID, fn func(doc bson.Raw) error) error
	// InsertJourney stores a new journey document (a struct or bson.D
	// with an ObjectId _id); ErrDuplicate when the id is taken.
	InsertJourney(ctx context.Context, doc any) error
	// UpdateJourney sets fields (top-level names or dotted paths) on
	// journey id of org when the journey also matches cond, a MongoDB
	// query (nil: no condition). It reports whether a journey matched.
	UpdateJourney(ctx context.Context, org, id primitive.ObjectID, cond, set bson.D) (bool, error)
	// DeleteJourney deletes journey id of org and reports whether it
	// existed.
	DeleteJourney(ctx context.Context, org, id primitive.ObjectID) (bool, error)
	// SetRecalculateStatus records the daemon's recalculation status on
	// journey id (of any organisation); a missing journey is no error.
	SetRecalculateStatus(ctx context.Context, id primitive.ObjectID, s journey.RecalculateStatus) error
}

// ClientStore reads Learning Locker API clients (the client collection)
// for HTTP Basic authentication.
type ClientStore interface {
	// Client returns the client whose api.basic_key is key, or
	// ErrNotFound.
	Client(ctx context.Context, key string) (bson.Raw, error)
}
