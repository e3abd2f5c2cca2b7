package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
)

// DefaultProgressAttempts is the number of completed attempts a progress
// document lists when Config.ProgressAttempts is zero (docs/design.md §11).
const DefaultProgressAttempts = 100

// progressAttempts returns how many completed attempts a progress document
// lists.
func (s *server) progressAttempts() int {
	if s.cfg.ProgressAttempts > 0 {
		return s.cfg.ProgressAttempts
	}
	return DefaultProgressAttempts
}

// recentAttempts reads, in ascending number, the newest limit archived
// attempts of it's owner numbered below before (0: the newest of all), and
// reports whether older ones exist.
func (s *server) recentAttempts(it progressItem, before uint32, limit int) ([]progress.Attempt, bool, error) {
	var out []progress.Attempt
	err := s.cfg.Store.AttemptsBefore(it.c.ID, it.owner, before, limit+1, func(_ uint32, value []byte) error {
		a, err := progress.DecodeAttempt(value)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("attempts of journey %s: %w", it.c.ID.Hex(), err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	slices.Reverse(out)
	return out, more, nil
}

// olderAttempts is the pointer to the attempts of it numbered below first.
func olderAttempts(it progressItem, first uint32) *processor.OlderAttempts {
	q := url.Values{}
	q.Set("journey", it.c.ID.Hex())
	q.Set("before", strconv.FormatUint(uint64(first), 10))
	return &processor.OlderAttempts{
		Before: first,
		Href:   "/api/v2/journeyprogress/" + processor.ProgressID(it.c.ID, it.owner).Hex() + "/attempts?" + q.Encode(),
	}
}

// attemptsPage is the answer of GET /api/v2/journeyprogress/:id/attempts.
type attemptsPage struct {
	ID      primitive.ObjectID `json:"_id"`
	Journey primitive.ObjectID `json:"journey"`
	// Attempts are completed attempts in ascending number: the newest ones
	// numbered below the request's before.
	Attempts      []processor.AttemptView  `json:"attempts"`
	OlderAttempts *processor.OlderAttempts `json:"olderAttempts,omitempty"`
}

// progressAttemptsPage serves GET /api/v2/journeyprogress/:id/attempts: a
// page of the completed attempts of one progress document, for owners
// with more attempts than a progress document lists. Parameters: before
// (an attempt number: the page holds attempts numbered below it; absent:
// the newest), limit (default 100, at most 1000) and journey (the
// document's journey id, which spares searching every journey; the
// olderAttempts links carry it).
func (s *server) progressAttemptsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	var before uint32
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return errBadRequest("before", fmt.Sprintf("must be an attempt number (1 to %d), got %q", uint32(1<<32-1), v))
		}
		before = uint32(n)
	}
	found, _, err := s.progressOfRequest(r, rq)
	if err != nil {
		return err
	}
	attempts, more, err := s.recentAttempts(*found, before, limit)
	if err != nil {
		return err
	}
	page := attemptsPage{ID: processor.ProgressID(found.c.ID, found.owner), Journey: found.c.ID, Attempts: processor.AttemptViews(found.c, attempts)}
	if more && len(attempts) > 0 {
		page.OlderAttempts = olderAttempts(*found, attempts[0].Number)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// render builds the progress document of an item: the current
// attempt and the newest completed ones, up to progressAttempts, with a
// pointer to the older ones.
func (s *server) render(it progressItem) (processor.ProgressDoc, error) {
	var rec progress.Record
	if err := rec.Decode(it.value); err != nil {
		return processor.ProgressDoc{}, fmt.Errorf("progress of journey %s: %w", it.c.ID.Hex(), err)
	}
	archived, more, err := s.recentAttempts(it, 0, s.progressAttempts())
	if err != nil {
		return processor.ProgressDoc{}, err
	}
	doc, err := processor.ProgressDocument(it.c, it.owner, &rec, archived)
	if err != nil {
		return doc, err
	}
	if more {
		doc.OlderAttempts = olderAttempts(it, doc.FirstAttempt())
		s.cfg.LimitStats.Record([]string{journey.LimitProgressAttempts})
	}
	return doc, nil
}

// findProgress returns the item of the progress document id among those
// pq selects, or a 404. A document's _id is derived from its (journey,
// owner) pair (processor.ProgressID), which the state store is keyed by;
// there is no index from the id back to the pair, so the lookup walks the
// selected progress (narrowed by the journey parameter when given) until
// the id is found.
func (s *server) findProgress(ctx context.Context, pq *progressQuery, id primitive.ObjectID) (*progressItem, error) {
	var found *progressItem
	err := s.walk(ctx, pq, nil, func(it progressItem) bool {
		if processor.ProgressID(it.c.ID, it.owner) == id {
			found = &it
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, errNotFound("no progress " + id.Hex())
	}
	return found, nil
}
