package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/dispatch"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
)

// Delivery statuses, as listed and filtered.
const (
	statusPending = "pending"
	statusDead    = "dead"
)

// deliveryView is the API form of a callback delivery: the stored record
// with the owner shown as an identity rather than a key.
type deliveryView struct {
	ID            string                  `json:"id"`
	Status        string                  `json:"status"`
	Journey       primitive.ObjectID      `json:"journey"`
	Organisation  primitive.ObjectID      `json:"organisation"`
	Owner         processor.ProgressOwner `json:"owner"`
	Attempt       uint32                  `json:"attempt"`
	Outcome       primitive.ObjectID      `json:"outcome"`
	URL           string                  `json:"url"`
	CreatedAt     string                  `json:"createdAt"`
	Tries         int                     `json:"tries"`
	LastStatus    int                     `json:"lastStatus"`
	LastError     string                  `json:"lastError"`
	NextAttemptAt *string                 `json:"nextAttemptAt"`
	DeadAt        *string                 `json:"deadAt"`
	// Body is the exact callback body.
	Body json.RawMessage `json:"body"`
}

// viewDelivery renders a stored delivery.
func viewDelivery(d *outbox.Delivery, status string) (deliveryView, error) {
	ident, err := journey.Ident(d.Owner)
	if err != nil {
		return deliveryView{}, fmt.Errorf("delivery %s: %w", d.ID, err)
	}
	by := journey.TrackByActor
	if _, ok := ident["persona"]; ok {
		by = journey.TrackByPersona
	}
	v := deliveryView{
		ID: d.ID, Status: status, Journey: d.Journey, Organisation: d.Organisation,
		Owner:   processor.ProgressOwner{TrackBy: by, Ident: ident},
		Attempt: d.Attempt, Outcome: d.Outcome, URL: d.URL,
		CreatedAt: formatTime(d.CreatedAt), Tries: d.Tries, LastStatus: d.LastStatus, LastError: d.LastError,
		Body: d.Body,
	}
	if status == statusPending {
		t := formatTime(d.NextAttemptAt)
		v.NextAttemptAt = &t
	}
	if d.DeadAt != nil {
		t := formatTime(*d.DeadAt)
		v.DeadAt = &t
	}
	if len(v.Body) == 0 {
		v.Body = json.RawMessage("null")
	}
	return v, nil
}

// formatTime formats a wall-clock time as the API does.
func formatTime(t time.Time) string { return processor.FormatTime(t.UnixMilli()) }

// deliveryFilter selects deliveries to list.
type deliveryFilter struct {
	statuses []string
	// keep reports whether a delivery of the organisation is listed.
	keep        func(d *outbox.Delivery) bool
	skip, limit int
}

// deliveryParams parses status, skip and limit.
func deliveryParams(q url.Values) (deliveryFilter, error) {
	var f deliveryFilter
	switch v := q.Get("status"); v {
	case "":
		f.statuses = []string{statusPending, statusDead}
	case statusPending, statusDead:
		f.statuses = []string{v}
	default:
		return f, errBadRequest("status", fmt.Sprintf("must be %q or %q, got %q", statusPending, statusDead, v))
	}
	var err error
	if f.skip, err = intParam(q, "skip", 0, 0, maxSkip); err != nil {
		return f, err
	}
	if f.limit, err = intParam(q, "limit", defaultLimit, 1, maxLimit); err != nil {
		return f, err
	}
	return f, nil
}

// deliveries lists p's organisation's deliveries that f keeps: pending
// ones, then dead letters, each in id order.
func (s *server) deliveries(r *http.Request, p *Principal, f deliveryFilter) ([]deliveryView, error) {
	ctx := r.Context()
	out := []deliveryView{}
	skip := f.skip
	for _, status := range f.statuses {
		scan := s.cfg.Store.ScanOutbox
		if status == statusDead {
			scan = s.cfg.Store.ScanDead
		}
		err := scan(func(_, value []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, err := outbox.Decode(value)
			if err != nil {
				// The dispatcher leaves such a record to an operator; one
				// bad record must not fail every organisation's listing.
				s.log.Warn("skipping undecodable delivery record", "err", err)
				return nil
			}
			if d.Organisation != p.Organisation || !f.keep(d) {
				return nil
			}
			if skip > 0 {
				skip--
				return nil
			}
			v, err := viewDelivery(d, status)
			if err != nil {
				s.log.Warn("skipping unrenderable delivery record", "id", d.ID, "err", err)
				return nil
			}
			out = append(out, v)
			if len(out) == f.limit {
				return errStop
			}
			return nil
		})
		if errors.Is(err, errStop) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
	}
	return out, nil
}

// journeyDeliveries serves GET /api/v2/journey/:id/deliveries.
func (s *server) journeyDeliveries(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := objectID(rq.params.ByName("id"))
	if err != nil {
		return err
	}
	f, err := deliveryParams(r.URL.Query())
	if err != nil {
		return err
	}
	if _, err := s.findJourney(r.Context(), rq.p, id); err != nil {
		return err
	}
	f.keep = func(d *outbox.Delivery) bool { return d.Journey == id }
	out, err := s.deliveries(r, rq.p, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listDeliveries serves GET /api/v2/deliveries: the organisation's
// deliveries, also those of deleted journeys, which are still delivered.
// Principals that do not read every journey see only the deliveries of
// journeys they can see.
func (s *server) listDeliveries(w http.ResponseWriter, r *http.Request, rq *request) error {
	f, err := deliveryParams(r.URL.Query())
	if err != nil {
		return err
	}
	f.keep = func(*outbox.Delivery) bool { return true }
	if !rq.p.readsAll() {
		docs, err := s.loadJourneys(r.Context(), rq.p, nil)
		if err != nil {
			return err
		}
		seen := make(map[primitive.ObjectID]bool, len(docs))
		for _, d := range docs {
			id, _ := d.Lookup("_id").ObjectIDOK()
			seen[id] = true
		}
		f.keep = func(d *outbox.Delivery) bool { return seen[d.Journey] }
	}
	out, err := s.deliveries(r, rq.p, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// replay serves POST /api/v2/deliveries/:id/replay: a dead letter of the
// principal's organisation goes back to the outbox.
func (s *server) replay(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := rq.params.ByName("id")
	v, ok, err := s.cfg.Store.Dead([]byte(id))
	if err != nil {
		return fmt.Errorf("%w: read dead letter: %w", errUnavailable, err)
	}
	notFound := errNotFound("no dead-lettered delivery " + id)
	if !ok {
		return notFound
	}
	d, err := outbox.Decode(v)
	if err != nil {
		return &apiError{status: http.StatusConflict, msg: fmt.Sprintf("dead-lettered delivery %s cannot be read: %v", id, err)}
	}
	if d.Organisation != rq.p.Organisation {
		return notFound
	}
	if err := s.cfg.Deliveries.Replay(r.Context(), id); err != nil {
		if errors.Is(err, dispatch.ErrNotFound) {
			return notFound // replayed meanwhile by another request
		}
		return fmt.Errorf("replay delivery %s: %w", id, err)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "status": statusPending})
	return nil
}
