package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// renderProjected renders an item's progress document, projected by proj
// when it is not nil.
func (s *server) renderProjected(it progressItem, proj *projection) (any, error) {
	doc, err := s.render(it)
	if err != nil || proj == nil {
		return doc, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode progress of journey %s: %w", it.c.ID.Hex(), err)
	}
	out, err := proj.apply(b)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(out), nil
}

// countProgress serves GET /api/v2/journeyprogress/count: the number of
// progress documents the selection (journey, owner, filter) matches.
func (s *server) countProgress(w http.ResponseWriter, r *http.Request, rq *request) error {
	pq, err := s.progressQueryOf(r, rq.p)
	if err != nil {
		return err
	}
	n := 0
	err = s.walk(r.Context(), pq, nil, func(progressItem) bool {
		n++
		return true
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
	return nil
}

// getProgressOrCount serves GET /api/v2/journeyprogress/:id, and the count
// route that shares its pattern.
//
// A progress document's _id is derived from its (journey, owner) pair
// (processor.ProgressID), which the state store is keyed by; there is no
// index from the id back to the pair, so the lookup walks the progress of
// the principal's journeys (narrowed by the journey parameter when given)
// until the id is found.
func (s *server) getProgressOrCount(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.params.ByName("id") == "count" {
		return s.countProgress(w, r, rq)
	}
	found, pq, err := s.progressOfRequest(r, rq)
	if err != nil {
		return err
	}
	doc, err := s.renderProjected(*found, pq.proj)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

// progressOfRequest finds the progress document the request's :id names
// among those its query (journey, filter, …) selects, and returns it with
// that query: a 404 when the id is malformed or selects nothing.
func (s *server) progressOfRequest(r *http.Request, rq *request) (*progressItem, *progressQuery, error) {
	v := rq.params.ByName("id")
	id, err := primitive.ObjectIDFromHex(v)
	if err != nil {
		return nil, nil, errNotFound(fmt.Sprintf("no progress %q", v))
	}
	pq, err := s.progressQueryOf(r, rq.p)
	if err != nil {
		return nil, nil, err
	}
	found, err := s.findProgress(r.Context(), pq, id)
	if err != nil {
		return nil, nil, err
	}
	return found, pq, nil
}
