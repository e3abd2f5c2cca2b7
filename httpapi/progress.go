package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
	"github.com/journeys/journeys/state"
)

// Progress is listed in the state store's order: by journey id, then by
// owner key (shortlex, as state orders owners). Positions in that order
// are the cursors of the progress connection.

// progressQuery selects progress documents.
type progressQuery struct {
	// journeys are the journeys to list, in id order.
	journeys []*journey.Compiled
	// owner is the one owner to list, nil for every owner; ownerBy is the
	// tracking kind its key belongs to.
	owner   []byte
	ownerBy journey.TrackBy
	// filter, when not nil, selects among the progress of those owners.
	filter *progressFilter
	// proj, when not nil, projects the documents served.
	proj *projection
}

// progressPos is a position in the listing order.
type progressPos struct {
	journey primitive.ObjectID
	owner   []byte
}

// compare orders positions as the listing does.
func (a progressPos) compare(b progressPos) int {
	if c := bytes.Compare(a.journey[:], b.journey[:]); c != 0 {
		return c
	}
	if len(a.owner) != len(b.owner) {
		return len(a.owner) - len(b.owner)
	}
	return bytes.Compare(a.owner, b.owner)
}

// progressItem is one owner's stored progress in one journey. Its slices
// are owned by the item.
type progressItem struct {
	c     *journey.Compiled
	owner []byte
	value []byte
}

func (it progressItem) pos() progressPos { return progressPos{journey: it.c.ID, owner: it.owner} }

// identParams maps the owner parameters to ident members; account.homePage
// and account.name together form an account.
var identParams = []string{"mbox", "mbox_sha1sum", "openid", "account.homePage", "account.name", "persona"}

// ownerParam returns the owner key the ident parameters select, or nil.
func ownerParam(q url.Values) ([]byte, journey.TrackBy, error) {
	ident := map[string]any{}
	var given []string // the parameters, for errors
	for _, name := range identParams {
		v := q.Get(name)
		if v == "" {
			continue
		}
		given = append(given, name)
		switch name {
		case "account.homePage", "account.name":
			acc, _ := ident["account"].(map[string]any)
			if acc == nil {
				acc = map[string]any{}
				ident["account"] = acc
			}
			acc[name[len("account."):]] = v
		default:
			ident[name] = v
		}
	}
	if len(ident) == 0 {
		return nil, "", nil
	}
	by := journey.TrackByActor
	if _, ok := ident["persona"]; ok {
		if len(ident) > 1 {
			return nil, "", errBadRequest("persona", "cannot be combined with an actor identifier")
		}
		by = journey.TrackByPersona
	}
	field := strings.Join(given, ", ")
	key, err := journey.OwnerKeyFromIdent(by, ident)
	if err != nil {
		return nil, "", errBadRequest(field, err.Error())
	}
	if len(key) > state.MaxOwnerLen {
		return nil, "", errBadRequest(field, "identifier too long")
	}
	return key, by, nil
}

// progressQueryOf parses the selection parameters: journey (an id; without
// it every journey p may see) and an owner identifier.
func (s *server) progressQueryOf(r *http.Request, p *Principal) (*progressQuery, error) {
	ctx, q := r.Context(), r.URL.Query()
	owner, by, err := ownerParam(q)
	if err != nil {
		return nil, err
	}
	filter, err := progressFilterParam(q)
	if err != nil {
		return nil, err
	}
	proj, err := projectParam(q)
	if err != nil {
		return nil, err
	}
	pq := &progressQuery{owner: owner, ownerBy: by, filter: filter, proj: proj}
	if v := q.Get("journey"); v != "" {
		id, err := primitive.ObjectIDFromHex(v)
		if err != nil {
			return nil, errBadRequest("journey", fmt.Sprintf("must be a journey id (24 hex digits), got %q", v))
		}
		c, err := s.compiledJourney(ctx, p, id)
		var ae *apiError
		if errors.As(err, &ae) {
			return pq, nil // an unknown or invalid journey has no progress
		}
		if err != nil {
			return nil, err
		}
		pq.journeys = []*journey.Compiled{c}
		return pq, nil
	}
	docs, err := s.loadJourneys(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	for _, raw := range docs {
		j, err := decodeJourney(raw)
		if err != nil {
			continue // the pipeline cannot run it either: no progress
		}
		c, err := journey.Compile(j)
		if err != nil {
			continue // the pipeline skips invalid journeys: no progress
		}
		pq.journeys = append(pq.journeys, c)
	}
	slices.SortFunc(pq.journeys, func(a, b *journey.Compiled) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return pq, nil
}

// errStop ends a walk early.
var errStop = errors.New("stop")

// walkStore calls fn with every item of pq's journeys and owner strictly
// after from (nil: from the start), in listing order, until fn returns
// false. It does not apply pq's filter (see walk).
func (s *server) walkStore(ctx context.Context, pq *progressQuery, from *progressPos, fn func(progressItem) bool) error {
	st := s.cfg.Store
	for _, c := range pq.journeys {
		if from != nil && bytes.Compare(c.ID[:], from.journey[:]) < 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if pq.owner != nil {
			if c.TrackBy != pq.ownerBy || from != nil && (progressPos{c.ID, pq.owner}).compare(*from) <= 0 {
				continue
			}
			v, ok, err := st.Progress(c.ID, pq.owner)
			if err != nil {
				return err
			}
			if ok && !fn(progressItem{c: c, owner: pq.owner, value: v}) {
				return nil
			}
			continue
		}
		visit := func(owner, value []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !fn(progressItem{c: c, owner: bytes.Clone(owner), value: bytes.Clone(value)}) {
				return errStop
			}
			return nil
		}
		var err error
		if from != nil && c.ID == from.journey {
			err = st.ScanProgressFrom(c.ID, from.owner, visit)
		} else {
			err = st.ScanProgress(c.ID, visit)
		}
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// eachArchivedAttempt calls fn with every archived attempt of an item, in
// ascending number, one decoded at a time into the same Attempt (fn must
// not keep the pointer past its call): the progress filter on completions
// matches any attempt, not only those a document lists (see render).
func (s *server) eachArchivedAttempt(it progressItem, fn func(*progress.Attempt)) error {
	var a progress.Attempt // one for the walk: fn must not keep it
	err := s.cfg.Store.Attempts(it.c.ID, it.owner, func(_ uint32, value []byte) error {
		var err error
		if a, err = progress.DecodeAttempt(value); err != nil {
			return err
		}
		fn(&a)
		return nil
	})
	if err != nil {
		return fmt.Errorf("attempts of journey %s: %w", it.c.ID.Hex(), err)
	}
	return nil
}

// listProgress serves GET /api/v2/journeyprogress: a JSON array of
// progress documents.
func (s *server) listProgress(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	skip, err := intParam(q, "skip", 0, 0, maxSkip)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	pq, err := s.progressQueryOf(r, rq.p)
	if err != nil {
		return err
	}
	var items []progressItem
	err = s.walk(r.Context(), pq, nil, func(it progressItem) bool {
		if skip > 0 {
			skip--
			return true
		}
		items = append(items, it)
		return len(items) < limit
	})
	if err != nil {
		return err
	}
	out := make([]any, len(items))
	for i, it := range items {
		if out[i], err = s.renderProjected(it, pq.proj); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// progressCursorParam decodes a progress cursor parameter.
func progressCursorParam(name, v string) (*progressPos, error) {
	if v == "" {
		return nil, nil
	}
	var c progressCursor
	if err := decodeCursor(name, v, cursorProgress, &c); err != nil {
		return nil, err
	}
	if len(c.Owner) > state.MaxOwnerLen {
		return nil, errBadRequest(name, "not a cursor of this list")
	}
	return &progressPos{journey: c.Journey, owner: c.Owner}, nil
}

// progressConnection serves GET /api/connection/journeyProgress.
func (s *server) progressConnection(w http.ResponseWriter, r *http.Request, rq *request) error {
	args, err := pageParams(r.URL.Query())
	if err != nil {
		return err
	}
	after, err := progressCursorParam("after", args.after)
	if err != nil {
		return err
	}
	before, err := progressCursorParam("before", args.before)
	if err != nil {
		return err
	}
	pq, err := s.progressQueryOf(r, rq.p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// page collects the window's edges: all of them for last (keeping the
	// last ones), the first ones for first. more reports an item past the
	// page, dropped one before it.
	var page []progressItem
	more, dropped := false, false
	err = s.walk(ctx, pq, after, func(it progressItem) bool {
		if before != nil && it.pos().compare(*before) >= 0 || args.last == 0 && len(page) == args.first {
			more = true
			return false
		}
		page = append(page, it)
		if args.last > 0 && len(page) > args.last {
			page, dropped = page[1:], true
		}
		return true
	})
	if err != nil {
		return err
	}
	hasPrev := dropped
	if !hasPrev && after != nil {
		// Is there anything at or before the after cursor?
		err = s.walk(ctx, pq, nil, func(it progressItem) bool {
			hasPrev = it.pos().compare(*after) <= 0
			return false
		})
		if err != nil {
			return err
		}
	}
	edges := make([]edge, len(page))
	for i, it := range page {
		doc, err := s.renderProjected(it, pq.proj)
		if err != nil {
			return err
		}
		c, err := encodeCursor(progressCursor{Kind: cursorProgress, Journey: it.c.ID, Owner: it.owner})
		if err != nil {
			return err
		}
		edges[i] = edge{Cursor: c, Node: doc}
	}
	writeJSON(w, http.StatusOK, newConnection(edges, hasPrev, more))
	return nil
}
