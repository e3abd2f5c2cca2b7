package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// patchRetries bounds the read-merge-write cycles of a PATCH that loses
// races with concurrent writes before it gives up with 409.
const patchRetries = 5

// clientFields are the top-level fields a client sets; every other field
// is server-set and survives PUT and PATCH.
var clientFields = []string{
	"description", "isActive", "sources", "waypoints", "outcomes",
	"isSequential", "isRepeatable", "trackBy", "isPublic",
}

// fieldValue returns the stored value of client field name of j.
func fieldValue(j *journey.Journey, name string) any {
	switch name {
	case "description":
		return j.Description
	case "isActive":
		return j.IsActive
	case "sources":
		return j.Sources
	case "waypoints":
		return j.Waypoints
	case "outcomes":
		return j.Outcomes
	case "isSequential":
		return j.IsSequential
	case "isRepeatable":
		return j.IsRepeatable
	case "trackBy":
		return j.TrackBy
	case "isPublic":
		return j.IsPublic
	}
	panic("httpapi: unknown client field " + name) // fields come from clientFields or Patch.Fields
}

// setFields is the fields to set (a $set) of the named client fields of j, stamped
// with updatedAt.
func setFields(j *journey.Journey, names []string, updatedAt time.Time) bson.D {
	set := make(bson.D, 0, len(names)+1)
	for _, n := range names {
		set = append(set, bson.E{Key: n, Value: fieldValue(j, n)})
	}
	set = append(set, bson.E{Key: "updatedAt", Value: updatedAt})
	return set
}

// stamp sets the server fields of a new journey of p.
func stamp(j *journey.Journey, id primitive.ObjectID, p *Principal, now time.Time) {
	j.ID = id
	j.Organisation = p.Organisation
	j.Owner = p.ID
	j.CreatedAt, j.UpdatedAt = now, now
	// The pipeline recalculates every new active journey; until it reports,
	// the journey is shown as being calculated.
	j.RecalculateStatus = journey.RecalculateStatus{InProgress: j.IsActive}
}

// nowMillis returns the current time at BSON date precision, so that what
// is returned equals what is stored.
func (s *server) nowMillis() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// decodeBody reads and decodes a journey body.
func (s *server) decodeBody(w http.ResponseWriter, r *http.Request) (*journey.Journey, error) {
	body, err := s.readJSONBody(w, r)
	if err != nil {
		return nil, err
	}
	j, err := journey.DecodeJSON(body)
	if err != nil {
		return nil, fromDecodeError(err)
	}
	if err := s.checkSave(r.Context(), j); err != nil {
		return nil, err
	}
	return j, nil
}

// respondJourney re-reads journey id after a write and writes it with
// status: the answer is what is stored, not what was sent.
func (s *server) respondJourney(ctx context.Context, w http.ResponseWriter, p *Principal, id primitive.ObjectID, status int) error {
	sj, err := s.findJourney(ctx, p, id)
	if err != nil {
		return err
	}
	return writeJourney(w, sj.j, status)
}

// writeJourney writes j with status and its Location.
func writeJourney(w http.ResponseWriter, j *journey.Journey, status int) error {
	b, err := renderJourney(j, nil)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v2/journey/"+j.ID.Hex())
	writeRawJSON(w, status, b)
	return nil
}

// createJourney serves POST /api/v2/journey.
func (s *server) createJourney(w http.ResponseWriter, r *http.Request, rq *request) error {
	j, err := s.decodeBody(w, r)
	if err != nil {
		return err
	}
	stamp(j, primitive.NewObjectID(), rq.p, s.nowMillis())
	if err := s.journeys.InsertJourney(r.Context(), j); err != nil {
		return fmt.Errorf("%w: insert journey: %w", errUnavailable, err)
	}
	return s.respondJourney(r.Context(), w, rq.p, j.ID, http.StatusCreated)
}

// putJourney serves PUT and POST /api/v2/journey/:id: it overwrites the
// client fields of an existing journey (server fields, and fields the API
// does not know such as a pending recalculateRequest, are kept), or
// creates the journey with that id.
func (s *server) putJourney(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	j, err := s.decodeBody(w, r)
	if err != nil {
		return err
	}
	ctx, p, now := r.Context(), rq.p, s.nowMillis()
	// The second round covers losing an insert race to another PUT of the
	// same id, which the update then overwrites.
	for range 2 {
		matched, err := s.journeys.UpdateJourney(ctx, p.Organisation, id, nil, setFields(j, clientFields, now))
		if err != nil {
			return fmt.Errorf("%w: update journey %s: %w", errUnavailable, id.Hex(), err)
		}
		if matched {
			return s.respondJourney(ctx, w, p, id, http.StatusOK)
		}
		stamp(j, id, p, now)
		err = s.journeys.InsertJourney(ctx, j)
		if err == nil {
			return s.respondJourney(ctx, w, p, id, http.StatusCreated)
		}
		if !errors.Is(err, lrs.ErrDuplicate) {
			return fmt.Errorf("%w: insert journey %s: %w", errUnavailable, id.Hex(), err)
		}
	}
	// The id exists, but not in this organisation.
	return errNotFound("no journey " + id.Hex())
}

// patchJourney serves PATCH /api/v2/journey/:id: the top-level fields sent
// replace the stored ones (arrays whole), and the merged journey must be
// valid. The write is conditional on updatedAt being unchanged since the
// read, so that two concurrent patches cannot combine into a journey that
// neither validated.
func (s *server) patchJourney(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	body, err := s.readJSONBody(w, r)
	if err != nil {
		return err
	}
	patch, err := journey.DecodePatch(body)
	if err != nil {
		return fromDecodeError(err)
	}
	ctx, p := r.Context(), rq.p
	fields := patch.Fields()
	for range patchRetries {
		sj, err := s.findJourney(ctx, p, id)
		if err != nil {
			return err
		}
		if len(fields) == 0 {
			return writeJourney(w, sj.j, http.StatusOK)
		}
		j := sj.j
		patch.Apply(j)
		if err := j.Validate(); err != nil {
			return fromDecodeError(err)
		}
		if err := s.checkSave(ctx, j); err != nil {
			return err
		}
		// A missing updatedAt reads as null, which matches a missing field.
		var prev any
		if v, err := sj.raw.LookupErr("updatedAt"); err == nil {
			prev = v
		}
		// updatedAt strictly increases, so the next conditional write of a
		// concurrent patch sees a change even within one millisecond.
		now := s.nowMillis()
		if !now.After(j.UpdatedAt) {
			now = j.UpdatedAt.Add(time.Millisecond)
		}
		cond := bson.D{{Key: "updatedAt", Value: prev}}
		matched, err := s.journeys.UpdateJourney(ctx, p.Organisation, id, cond, setFields(j, fields, now))
		if err != nil {
			return fmt.Errorf("%w: update journey %s: %w", errUnavailable, id.Hex(), err)
		}
		if matched {
			return s.respondJourney(ctx, w, p, id, http.StatusOK)
		}
	}
	return &apiError{status: http.StatusConflict, msg: "the journey is being modified concurrently; retry"}
}

// deleteJourney serves DELETE /api/v2/journey/:id.
func (s *server) deleteJourney(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	deleted, err := s.journeys.DeleteJourney(r.Context(), rq.p.Organisation, id)
	if err != nil {
		return fmt.Errorf("%w: delete journey %s: %w", errUnavailable, id.Hex(), err)
	}
	if !deleted {
		return errNotFound("no journey " + id.Hex())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
