package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// recalculate serves POST /api/v2/journey/:id/recalculate[?notify=true].
//
// It sets recalculateRequest {_id, notify, requestedAt} on the journey
// document and replaces recalculateStatus with the new run's (in progress,
// started now); the pipeline sees the new request id in the change stream
// and rebuilds the journey's progress beside the live stream, sending
// callbacks for the completions it finds only when notify is true, and
// updates the status as it goes. The answer is 202 with the new run's
// status, not the previous run's.
func (s *server) recalculate(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	notify := false
	if v := r.URL.Query().Get("notify"); v != "" {
		if notify, err = strconv.ParseBool(v); err != nil {
			return errBadRequest("notify", fmt.Sprintf("must be true or false, got %q", v))
		}
	}
	ctx, p := r.Context(), rq.p
	// Only an active journey is ever recalculated; marking an inactive one
	// in progress would leave it so forever.
	// $ne false: a document without isActive is active (docs/design.md §3 default).
	cond := bson.D{{Key: "isActive", Value: bson.D{{Key: "$ne", Value: false}}}}
	now := s.nowMillis()
	status := journey.RecalculateStatus{InProgress: true, StartedAt: &now}
	set := bson.D{
		{Key: "recalculateRequest", Value: bson.D{
			{Key: "_id", Value: primitive.NewObjectID()},
			{Key: "notify", Value: notify},
			{Key: "requestedAt", Value: now},
		}},
		{Key: "recalculateStatus", Value: status},
	}
	matched, err := s.journeys.UpdateJourney(ctx, p.Organisation, id, cond, set)
	if err != nil {
		return fmt.Errorf("%w: request recalculation of journey %s: %w", errUnavailable, id.Hex(), err)
	}
	if !matched {
		// Not active, or not there (404 for another organisation's id).
		if _, err := s.findJourney(ctx, p, id); err != nil {
			return err
		}
		return &apiError{status: http.StatusConflict, msg: "journey " + id.Hex() + " is not active: only active journeys are recalculated"}
	}
	w.Header().Set("Location", "/api/v2/journey/"+id.Hex())
	writeJSON(w, http.StatusAccepted, status)
	return nil
}
