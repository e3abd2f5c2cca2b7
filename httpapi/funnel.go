package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
)

// funnelDoc is the response of GET /api/v2/journey/:id/funnel.
type funnelDoc struct {
	Journey primitive.ObjectID `json:"journey"`
	// Owners counts the owners with progress.
	Owners int `json:"owners"`
	// InProgress counts owners whose latest attempt is incomplete, and
	// Completed those whose latest attempt is complete.
	InProgress int `json:"inProgress"`
	Completed  int `json:"completed"`
	// CompletedAttempts counts completed attempts of all owners.
	CompletedAttempts int64 `json:"completedAttempts"`
	// Waypoints lists the active waypoints in evaluation order.
	Waypoints []funnelStep `json:"waypoints"`
}

// funnelStep is one waypoint of a funnel.
type funnelStep struct {
	Waypoint    primitive.ObjectID `json:"waypoint"`
	Description string             `json:"description"`
	Order       float64            `json:"order"`
	// Completed counts owners who completed the waypoint in their latest
	// attempt.
	Completed int `json:"completed"`
}

// compiledJourney reads journey id and compiles it. A stored journey that
// does not compile has no progress (the pipeline skips it): 409.
func (s *server) compiledJourney(ctx context.Context, p *Principal, id primitive.ObjectID) (*journey.Compiled, error) {
	sj, err := s.findJourney(ctx, p, id)
	if err != nil {
		return nil, err
	}
	c, err := journey.Compile(sj.j)
	if err != nil {
		return nil, &apiError{status: http.StatusConflict, msg: "the stored journey is invalid, so it has no progress: " + err.Error()}
	}
	return c, nil
}

// funnel serves GET /api/v2/journey/:id/funnel by scanning the journey's
// progress records.
func (s *server) funnel(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	c, err := s.compiledJourney(r.Context(), rq.p, id)
	if err != nil {
		return err
	}
	f := funnelDoc{Journey: c.ID, Waypoints: make([]funnelStep, len(c.Waypoints))}
	for i, w := range c.Waypoints {
		f.Waypoints[i] = funnelStep{Waypoint: w.ID, Description: c.Doc.Waypoints[w.Position].Description, Order: w.Order}
	}
	var rec progress.Record
	ctx := r.Context()
	err = s.cfg.Store.ScanProgress(c.ID, func(_, value []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rec.Decode(value); err != nil {
			// The engine rebuilds such a record on its next statement;
			// the funnel leaves it out rather than failing.
			s.log.Warn("skipping undecodable progress record", "journey", c.ID.Hex(), "err", err)
			return nil
		}
		a := &rec.Attempt
		if a.Number == 0 {
			return nil
		}
		f.Owners++
		// Attempts before the latest are all complete: the next one starts
		// only after a completion.
		f.CompletedAttempts += int64(a.Number) - 1
		if rec.Done() {
			f.Completed++
			f.CompletedAttempts++
		} else {
			f.InProgress++
		}
		for i := range min(len(a.Waypoints), len(c.Waypoints)) {
			if a.Waypoints[i].CompletedAt != 0 || int(a.Waypoints[i].Count) >= c.Waypoints[i].Count {
				f.Waypoints[i].Completed++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("funnel of journey %s: %w", id.Hex(), err)
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
