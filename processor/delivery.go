package processor

import (
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/processor/progress"
)

// callbackBody is the JSON body of docs/design.md §8, shaped like Learning Locker's
// journey callback. Owner and waypoints render as in progress documents
// (view.go); the callback lists the waypoints as an array.
type callbackBody struct {
	Owner       ProgressOwner    `json:"owner"`
	Attempt     callbackAttempt  `json:"attempt"`
	Journey     *journey.Journey `json:"journey"`
	CompletedAt string           `json:"completedAt"`
}

type callbackAttempt struct {
	Waypoints   []WaypointView `json:"waypoints"`
	CompletedAt *string        `json:"completedAt"`
	IsCompleted bool           `json:"isCompleted"`
}

// StatementRef is a statement that counted toward a waypoint, as served by
// the API and sent in callbacks.
type StatementRef struct {
	Statement string `json:"statement"`
	Timestamp string `json:"timestamp"`
}

// FormatTime formats Unix milliseconds as the API does: RFC 3339 in UTC with
// milliseconds.
func FormatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// StatementRefs converts progress references to their API form.
func StatementRefs(refs []progress.Ref) []StatementRef {
	out := make([]StatementRef, len(refs))
	for i, r := range refs {
		out[i] = StatementRef{Statement: primitive.ObjectID(r.Statement).Hex(), Timestamp: FormatTime(r.Timestamp)}
	}
	return out
}

// OwnerIdent returns the API identity of an owner key, with the display
// name for personas.
func OwnerIdent(by journey.TrackBy, owner []byte, display string) (map[string]any, error) {
	ident, err := journey.Ident(owner)
	if err != nil {
		return nil, err
	}
	if by == journey.TrackByPersona {
		ident["display"] = display
	}
	return ident, nil
}

// newDeliveries builds the deliveries of a completed attempt, one per active
// callback outcome. status is the journey's current recalculateStatus: the
// body carries it rather than whatever the document held when it was
// compiled.
func newDeliveries(c *journey.Compiled, status journey.RecalculateStatus, owner []byte, rec *progress.Record, now time.Time) ([]outbox.Delivery, error) {
	ident, err := OwnerIdent(c.TrackBy, owner, rec.Display)
	if err != nil {
		return nil, fmt.Errorf("owner identity: %w", err)
	}
	a := &rec.Attempt
	av := renderAttempt(c, a)
	doc := *c.Doc
	doc.RecalculateStatus = status
	body := callbackBody{
		Owner:       ProgressOwner{TrackBy: c.TrackBy, Ident: ident},
		Journey:     &doc,
		CompletedAt: FormatTime(a.CompletedAt),
		Attempt: callbackAttempt{
			Waypoints:   av.Waypoints,
			CompletedAt: av.CompletedAt,
			IsCompleted: av.IsCompleted,
		},
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode callback body: %w", err)
	}
	out := make([]outbox.Delivery, 0, len(c.Outcomes))
	for _, o := range c.Outcomes {
		out = append(out, outbox.Delivery{
			ID:            outbox.ID(c.ID, owner, a.Number, o.ID),
			Journey:       c.ID,
			Organisation:  c.Organisation,
			Owner:         append([]byte(nil), owner...),
			Attempt:       a.Number,
			Outcome:       o.ID,
			URL:           o.Callback,
			Body:          raw,
			CreatedAt:     now,
			NextAttemptAt: now,
		})
	}
	return out, nil
}
