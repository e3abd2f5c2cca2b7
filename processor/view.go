package processor

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
)

// ProgressDoc is one owner's progress through one journey in the shape of
// Learning Locker's journeyProgress document (docs/design.md §9), as the API serves it.
type ProgressDoc struct {
	// ID is stable for a (journey, owner) pair: see ProgressID.
	ID           primitive.ObjectID `json:"_id"`
	Journey      primitive.ObjectID `json:"journey"`
	Organisation primitive.ObjectID `json:"organisation"`
	Owner        ProgressOwner      `json:"owner"`
	// Completions lists the attempts in order: the most recent completed
	// ones (at most the configured number; see OlderAttempts), then the
	// current one while it is incomplete.
	Completions []AttemptView `json:"completions"`
	// OlderAttempts is set when attempts older than those in Completions
	// exist: how many, and where to page through them.
	OlderAttempts *OlderAttempts `json:"olderAttempts,omitempty"`
	// CreatedAt and UpdatedAt are the stored times of the first and the
	// latest statement that counted, formatted like FormatTime.
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// OlderAttempts points at the attempts a page (a progress document or a
// page of attempts) leaves out: the archived attempts numbered below the
// page's first.
type OlderAttempts struct {
	// Before is the number of the page's first attempt: the older ones
	// number less.
	Before uint32 `json:"before"`
	// Href is the API path of the page of attempts that precedes this one.
	Href string `json:"href"`
}

// ProgressOwner identifies whose progress a ProgressDoc is.
type ProgressOwner struct {
	TrackBy journey.TrackBy `json:"trackBy"`
	// Ident is the owner's identity as OwnerIdent returns it.
	Ident map[string]any `json:"ident"`
}

// AttemptView is one attempt of a ProgressDoc.
type AttemptView struct {
	// Attempt numbers attempts from 1; callbacks and deliveries name the
	// same number.
	Attempt   uint32        `json:"attempt"`
	Waypoints WaypointViews `json:"waypoints"`
	// CompletedAt is nil until the attempt completes.
	CompletedAt *string `json:"completedAt"`
	IsCompleted bool    `json:"isCompleted"`
}

// WaypointView is the progress of one waypoint in one attempt.
type WaypointView struct {
	Waypoint primitive.ObjectID `json:"waypoint"`
	Order    float64            `json:"order"`
	// Statements are the statements that counted, at most the waypoint's
	// count.
	Statements []StatementRef `json:"statements"`
	// CompletedAt is nil until the waypoint completes.
	CompletedAt *string `json:"completedAt"`
	IsCompleted bool    `json:"isCompleted"`
}

// WaypointViews are an attempt's waypoints in evaluation order. They encode
// as a JSON object keyed by waypoint id, as Learning Locker's attempts do,
// with the members in evaluation order.
type WaypointViews []WaypointView

// MarshalJSON implements json.Marshaler.
func (ws WaypointViews) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range ws {
		if i > 0 {
			b.WriteByte(',')
		}
		// A hex ObjectId needs no escaping.
		b.WriteByte('"')
		b.WriteString(ws[i].Waypoint.Hex())
		b.WriteString(`":`)
		v, err := json.Marshal(&ws[i])
		if err != nil {
			return nil, fmt.Errorf("encode waypoint %s: %w", ws[i].Waypoint.Hex(), err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ProgressID returns the _id of the progress document of owner in journey
// j: the first 12 bytes of SHA-256 over the journey id and the owner key.
// Progress is keyed by (journey, owner) in the state store, not by an id,
// so the id is derived to stay the same across reads, restarts and
// recalculations.
func ProgressID(j primitive.ObjectID, owner []byte) primitive.ObjectID {
	h := sha256.New()
	h.Write(j[:])
	h.Write(owner)
	var id primitive.ObjectID
	copy(id[:], h.Sum(nil))
	return id
}

// ProgressDocument renders the progress of owner in journey c: archived
// holds the owner's most recent archived (completed) attempts in ascending
// number (all of them, or the newest ones of a bounded page) and rec the
// progress record, whose attempt is listed after them unless it is
// complete (a completed attempt is archived when it completes, so it is
// already among archived). Waypoint slot i of an attempt is c.Waypoints[i];
// slots an attempt lacks (progress recorded under an older definition) are
// shown as not started and extra slots are left out. The error reports an
// owner key that does not decode.
func ProgressDocument(c *journey.Compiled, owner []byte, rec *progress.Record, archived []progress.Attempt) (ProgressDoc, error) {
	ident, err := OwnerIdent(c.TrackBy, owner, rec.Display)
	if err != nil {
		return ProgressDoc{}, fmt.Errorf("progress of journey %s: %w", c.ID.Hex(), err)
	}
	doc := ProgressDoc{
		ID:           ProgressID(c.ID, owner),
		Journey:      c.ID,
		Organisation: c.Organisation,
		Owner:        ProgressOwner{TrackBy: c.TrackBy, Ident: ident},
		Completions:  make([]AttemptView, 0, len(archived)+1),
		CreatedAt:    FormatTime(rec.CreatedAt),
		UpdatedAt:    FormatTime(rec.UpdatedAt),
	}
	for i := range archived {
		doc.Completions = append(doc.Completions, renderAttempt(c, &archived[i]))
	}
	if rec.Attempt.Number > 0 && !rec.Done() {
		doc.Completions = append(doc.Completions, renderAttempt(c, &rec.Attempt))
	}
	return doc, nil
}

// renderAttempt renders one attempt against c's active waypoints.
func renderAttempt(c *journey.Compiled, a *progress.Attempt) AttemptView {
	v := AttemptView{
		Attempt:     a.Number,
		Waypoints:   make(WaypointViews, len(c.Waypoints)),
		CompletedAt: optionalMillis(a.CompletedAt),
		IsCompleted: a.CompletedAt != 0,
	}
	for i, w := range c.Waypoints {
		wv := WaypointView{Waypoint: w.ID, Order: w.Order, Statements: []StatementRef{}}
		if i < len(a.Waypoints) {
			p := &a.Waypoints[i]
			wv.Statements = StatementRefs(p.Refs)
			wv.CompletedAt = optionalMillis(p.CompletedAt)
			// The count is checked too: a statement without a stored time
			// completes a waypoint with completedAt 0.
			wv.IsCompleted = p.CompletedAt != 0 || int(p.Count) >= w.Count
		}
		v.Waypoints[i] = wv
	}
	return v
}

// optionalMillis formats a Unix-ms time that is 0 when unset.
func optionalMillis(ms int64) *string {
	if ms == 0 {
		return nil
	}
	s := FormatTime(ms)
	return &s
}

// FirstAttempt returns the number of the first attempt listed in doc's
// Completions, or 0 when it lists none.
func (doc *ProgressDoc) FirstAttempt() uint32 {
	if len(doc.Completions) == 0 {
		return 0
	}
	return doc.Completions[0].Attempt
}

// AttemptViews renders archived attempts of journey c, in the order given,
// as ProgressDocument renders its completions.
func AttemptViews(c *journey.Compiled, attempts []progress.Attempt) []AttemptView {
	out := make([]AttemptView, len(attempts))
	for i := range attempts {
		out[i] = renderAttempt(c, &attempts[i])
	}
	return out
}
