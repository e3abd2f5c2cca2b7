package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// maxSkip bounds the skip parameter; larger values cannot address a
// document of any realistic organisation.
const maxSkip = 1 << 30

// visible reports whether p may read the stored journey doc.
func visible(p *Principal, doc bson.Raw) bool {
	if p.readsAll() {
		return true
	}
	pub, _ := doc.Lookup("isPublic").BooleanOK()
	owner, _ := doc.Lookup("owner").ObjectIDOK()
	return p.sees(pub, owner)
}

// storedJourney is a journey document as read: its bytes, which filters
// and sort keys read, and its decoded form.
type storedJourney struct {
	raw bson.Raw
	j   *journey.Journey
}

// findJourney reads journey id of p's organisation. Journeys of other
// organisations, and those p may not see, answer 404 like missing ones.
func (s *server) findJourney(ctx context.Context, p *Principal, id primitive.ObjectID) (storedJourney, error) {
	raw, err := s.journeys.Journey(ctx, p.Organisation, id)
	if errors.Is(err, lrs.ErrNotFound) || err == nil && !visible(p, raw) {
		return storedJourney{}, errNotFound("no journey " + id.Hex())
	}
	if err != nil {
		return storedJourney{}, fmt.Errorf("%w: read journey %s: %w", errUnavailable, id.Hex(), err)
	}
	j, err := decodeJourney(raw)
	if err != nil {
		return storedJourney{}, err
	}
	return storedJourney{raw: raw, j: j}, nil
}

// loadJourneys reads every journey document of p's organisation that p may
// see and m matches (m nil matches all), in the database's order. The
// documents are not decoded: a list decodes only the page it returns.
func (s *server) loadJourneys(ctx context.Context, p *Principal, m *cond.Matcher) ([]bson.Raw, error) {
	var out []bson.Raw
	err := s.journeys.Journeys(ctx, p.Organisation, func(raw bson.Raw) error {
		if visible(p, raw) && (m == nil || m.Match(raw)) {
			out = append(out, raw)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: list journeys: %w", errUnavailable, err)
	}
	return out, nil
}

// decodeJourney decodes a stored journey document.
func decodeJourney(raw bson.Raw) (*journey.Journey, error) {
	j, err := journey.DecodeBSON(raw)
	if err != nil {
		// Written by another writer with wrong types: the client's request
		// is fine, the stored document is not.
		id, _ := raw.Lookup("_id").ObjectIDOK()
		return nil, &apiError{status: http.StatusConflict, msg: fmt.Sprintf("the stored journey %s cannot be read: %v", id.Hex(), err)}
	}
	return j, nil
}

// renderListed returns the API form of a listed journey document, projected.
// ok is false for a document that does not decode as a journey (written by
// another writer with wrong types): lists leave it out, with a warning,
// rather than failing for every client.
func (s *server) renderListed(raw bson.Raw, proj *projection) (b json.RawMessage, ok bool) {
	j, err := decodeJourney(raw)
	if err == nil {
		b, err = renderJourney(j, proj)
	}
	if err != nil {
		s.log.Warn("leaving an undecodable journey out of a list", "err", err)
		return nil, false
	}
	return b, true
}

// renderJourney returns the API form of a journey, projected.
func renderJourney(j *journey.Journey, proj *projection) (json.RawMessage, error) {
	b, err := j.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if proj != nil {
		return proj.apply(b)
	}
	return b, nil
}

// sortedJourneys is a filtered, sorted list query's result.
type sortedJourneys struct {
	spec  sortSpec
	items []keyedJourney
}

// keyedJourney is a stored journey document with its sort key.
type keyedJourney struct {
	raw bson.Raw
	key sortKey
}

// querySorted runs the filter and sort parameters of r for p.
func (s *server) querySorted(r *http.Request, p *Principal) (*sortedJourneys, error) {
	q := r.URL.Query()
	m, err := filterParam(q)
	if err != nil {
		return nil, err
	}
	spec, err := sortParam(q)
	if err != nil {
		return nil, err
	}
	docs, err := s.loadJourneys(r.Context(), p, m)
	if err != nil {
		return nil, err
	}
	res := &sortedJourneys{spec: spec, items: make([]keyedJourney, len(docs))}
	for i, d := range docs {
		key, err := spec.keyOf(d)
		if err != nil {
			return nil, err
		}
		res.items[i] = keyedJourney{raw: d, key: key}
	}
	slices.SortFunc(res.items, func(a, b keyedJourney) int { return spec.compare(a.key, b.key) })
	return res, nil
}

// listJourneys serves GET /api/v2/journey: a JSON array of journeys.
func (s *server) listJourneys(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	skip, err := intParam(q, "skip", 0, 0, maxSkip)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	proj, err := projectParam(q)
	if err != nil {
		return err
	}
	res, err := s.querySorted(r, rq.p)
	if err != nil {
		return err
	}
	start := min(skip, len(res.items))
	end := min(start+limit, len(res.items))
	out := make([]json.RawMessage, 0, end-start)
	for _, it := range res.items[start:end] {
		if b, ok := s.renderListed(it.raw, proj); ok {
			out = append(out, b)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// countJourneys serves GET /api/v2/journey/count.
func (s *server) countJourneys(w http.ResponseWriter, r *http.Request, rq *request) error {
	m, err := filterParam(r.URL.Query())
	if err != nil {
		return err
	}
	docs, err := s.loadJourneys(r.Context(), rq.p, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": len(docs)})
	return nil
}

// getJourneyOrCount serves GET /api/v2/journey/:id, and the count route
// that shares its pattern.
func (s *server) getJourneyOrCount(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.params.ByName("id") == "count" {
		return s.countJourneys(w, r, rq)
	}
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	proj, err := projectParam(r.URL.Query())
	if err != nil {
		return err
	}
	sj, err := s.findJourney(r.Context(), rq.p, id)
	if err != nil {
		return err
	}
	b, err := renderJourney(sj.j, proj)
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

// journeyConnection serves GET /api/connection/journey.
func (s *server) journeyConnection(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	args, err := pageParams(q)
	if err != nil {
		return err
	}
	proj, err := projectParam(q)
	if err != nil {
		return err
	}
	res, err := s.querySorted(r, rq.p)
	if err != nil {
		return err
	}
	n := len(res.items)
	afterIdx, beforeIdx := 0, n
	if args.after != "" {
		k, err := res.spec.decodeKey("after", args.after)
		if err != nil {
			return err
		}
		afterIdx = searchAfter(n, false, func(i int) int { return res.spec.compare(res.items[i].key, k) })
	}
	if args.before != "" {
		k, err := res.spec.decodeKey("before", args.before)
		if err != nil {
			return err
		}
		beforeIdx = searchAfter(n, true, func(i int) int { return res.spec.compare(res.items[i].key, k) })
	}
	start, end, hasPrev, hasNext := args.window(n, afterIdx, beforeIdx)
	edges := make([]edge, 0, end-start)
	for i := start; i < end; i++ {
		node, ok := s.renderListed(res.items[i].raw, proj)
		if !ok {
			continue
		}
		c, err := res.spec.cursor(res.items[i].key)
		if err != nil {
			return err
		}
		edges = append(edges, edge{Cursor: c, Node: node})
	}
	writeJSON(w, http.StatusOK, newConnection(edges, hasPrev, hasNext))
	return nil
}
