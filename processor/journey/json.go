package journey

import (
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// jsonTimeLayout is the API's date form: RFC 3339, UTC, milliseconds — the
// precision of a BSON date, so a served date round-trips through MongoDB.
const jsonTimeLayout = "2006-01-02T15:04:05.000Z"

// jsonTime formats a time in jsonTimeLayout.
type jsonTime time.Time

// MarshalJSON implements json.Marshaler.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(jsonTimeLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, jsonTimeLayout)
	return append(b, '"'), nil
}

// optionalTime converts a nullable time; nil stays nil and encodes as null.
func optionalTime(t *time.Time) *jsonTime {
	if t == nil {
		return nil
	}
	jt := jsonTime(*t)
	return &jt
}

// journeyJSON is the API form of a Journey: every field present, ObjectIds
// as 24-hex strings, arrays never null.
type journeyJSON struct {
	ID                primitive.ObjectID   `json:"_id"`
	Organisation      primitive.ObjectID   `json:"organisation"`
	Owner             primitive.ObjectID   `json:"owner"`
	CreatedAt         jsonTime             `json:"createdAt"`
	UpdatedAt         jsonTime             `json:"updatedAt"`
	Description       string               `json:"description"`
	IsActive          bool                 `json:"isActive"`
	Sources           []primitive.ObjectID `json:"sources"`
	Waypoints         []Waypoint           `json:"waypoints"`
	Outcomes          []Outcome            `json:"outcomes"`
	IsSequential      bool                 `json:"isSequential"`
	IsRepeatable      bool                 `json:"isRepeatable"`
	TrackBy           TrackBy              `json:"trackBy"`
	RecalculateStatus RecalculateStatus    `json:"recalculateStatus"`
	IsPublic          bool                 `json:"isPublic"`
}

// MarshalJSON returns the API form of the journey: ObjectIds as 24-hex
// strings, dates as RFC 3339 UTC with milliseconds, conditions as strings,
// every field present and arrays as [] rather than null.
func (j Journey) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(journeyJSON{
		ID:                j.ID,
		Organisation:      j.Organisation,
		Owner:             j.Owner,
		CreatedAt:         jsonTime(j.CreatedAt),
		UpdatedAt:         jsonTime(j.UpdatedAt),
		Description:       j.Description,
		IsActive:          j.IsActive,
		Sources:           nonNil(j.Sources),
		Waypoints:         nonNil(j.Waypoints),
		Outcomes:          nonNil(j.Outcomes),
		IsSequential:      j.IsSequential,
		IsRepeatable:      j.IsRepeatable,
		TrackBy:           j.TrackBy,
		RecalculateStatus: j.RecalculateStatus,
		IsPublic:          j.IsPublic,
	})
	if err != nil {
		return nil, fmt.Errorf("journey %s: encoding JSON: %w", j.ID.Hex(), err)
	}
	return b, nil
}

// MarshalJSON returns the API form of the status; unset times are null.
func (s RecalculateStatus) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		InProgress     bool      `json:"inProgress"`
		TotalCount     int64     `json:"totalCount"`
		RemainingCount int64     `json:"remainingCount"`
		StartedAt      *jsonTime `json:"startedAt"`
		FinishedAt     *jsonTime `json:"finishedAt"`
		Error          string    `json:"error"`
		ScanRate       float64   `json:"scanRate"`
	}{s.InProgress, s.TotalCount, s.RemainingCount, optionalTime(s.StartedAt), optionalTime(s.FinishedAt), s.Error, s.ScanRate})
}

// nonNil returns s, or an empty slice when s is nil, so it encodes as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
