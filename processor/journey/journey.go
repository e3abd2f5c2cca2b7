// Package journey is the journey model: the document stored in the MongoDB
// `journeys` collection and served by the HTTP API, its decoding and
// validation, the version digest that decides when progress must be
// recalculated, the compiled form the engine evaluates, and the owner
// identity a statement advances.
package journey

import (
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TrackBy selects whose progress a statement advances.
type TrackBy string

const (
	// TrackByActor tracks the statement actor's inverse functional identifier.
	TrackByActor TrackBy = "actor"
	// TrackByPersona tracks the Learning Locker persona at person._id.
	TrackByPersona TrackBy = "persona"
)

// OutcomeCallback is the only supported Outcome.Type: POST the completion to
// Outcome.Callback.
const OutcomeCallback = "callback"

// Journey is a journey document as stored in MongoDB (bson tags). The API
// form is produced by MarshalJSON; API input is read by DecodeJSON and
// DecodePatch, never by encoding/json directly, so that every field is
// type-checked.
type Journey struct {
	// ID, Organisation, Owner, CreatedAt, UpdatedAt and RecalculateStatus
	// are server-set: the decoders ignore client-sent values for them.
	ID           primitive.ObjectID `bson:"_id"`
	Organisation primitive.ObjectID `bson:"organisation"`
	Owner        primitive.ObjectID `bson:"owner"`
	CreatedAt    time.Time          `bson:"createdAt"`
	UpdatedAt    time.Time          `bson:"updatedAt"`
	Description  string             `bson:"description"`
	IsActive     bool               `bson:"isActive"`
	// Sources are the LRS stores (lrs_id) the journey reads; empty means
	// every store of the organisation.
	Sources           []primitive.ObjectID `bson:"sources"`
	Waypoints         []Waypoint           `bson:"waypoints"`
	Outcomes          []Outcome            `bson:"outcomes"`
	IsSequential      bool                 `bson:"isSequential"`
	IsRepeatable      bool                 `bson:"isRepeatable"`
	TrackBy           TrackBy              `bson:"trackBy"`
	RecalculateStatus RecalculateStatus    `bson:"recalculateStatus"`
	IsPublic          bool                 `bson:"isPublic"`
}

// Waypoint is one step of a journey: it completes once Count statements
// matching Conditions have counted toward it.
type Waypoint struct {
	ID          primitive.ObjectID `bson:"_id" json:"_id"`
	Description string             `bson:"description" json:"description"`
	IsActive    bool               `bson:"isActive" json:"isActive"`
	// Conditions is a MongoDB query in Extended JSON string form, evaluated
	// against the whole stored statement document.
	Conditions string `bson:"conditions" json:"conditions"`
	// Count is how many matching statements complete the waypoint (≥ 1).
	Count int `bson:"count" json:"count"`
	// Order sorts the waypoints of a sequential journey; ties keep array order.
	Order float64 `bson:"order" json:"order"`
}

// Outcome is what happens when an attempt completes.
type Outcome struct {
	ID          primitive.ObjectID `bson:"_id" json:"_id"`
	Description string             `bson:"description" json:"description"`
	IsActive    bool               `bson:"isActive" json:"isActive"`
	// Type is always OutcomeCallback for a valid outcome.
	Type string `bson:"type" json:"type"`
	// Callback is the absolute http(s) URL the completion is POSTed to.
	Callback string `bson:"callback" json:"callback"`
}

// RecalculateStatus reports the daemon's rebuild of a journey's progress.
type RecalculateStatus struct {
	InProgress bool `bson:"inProgress"`
	// TotalCount is the number of statements the recalculation reads.
	TotalCount int64 `bson:"totalCount"`
	// RemainingCount is the number of those not yet applied.
	RemainingCount int64      `bson:"remainingCount"`
	StartedAt      *time.Time `bson:"startedAt,omitempty"`
	FinishedAt     *time.Time `bson:"finishedAt,omitempty"`
	// Error is why the last recalculation failed; empty when it did not.
	Error string `bson:"error,omitempty"`
	// ScanRate is the running recalculation's scan rate (statements/s).
	ScanRate float64 `bson:"scanRate,omitempty"`
}
