package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/progress"
)

// Progress is not a MongoDB collection: it lives in the state store and is
// rendered on request. A progress filter is therefore evaluated in process
// on a filter view of each progress record: the fields of the served
// document a filter may address, typed as Learning Locker's journeyProgress
// model types them (ObjectIds and dates, so Extended JSON values and
// mongoose-style cast strings compare as they would in LL):
//
//	{_id, journey, organisation: ObjectId,
//	 owner: {trackBy, ident: {mbox | mbox_sha1sum | openid | account{homePage,name},
//	         objectType} | {persona: ObjectId, display}},
//	 createdAt, updatedAt: Date,
//	 completions: [{attempt, isCompleted, completedAt: Date | null}]}
//
// completions (the completion state) is only built when the filter
// addresses it, as it reads the owner's archived attempts. A filter on any
// other field is a 400 naming it, never a filter silently matching nothing.

// progressFilterFields describes the filterable fields, for errors.
const progressFilterFields = "_id, journey, organisation, owner (owner.trackBy, owner.ident.mbox, …), " +
	"createdAt, updatedAt, completions.isCompleted, completions.completedAt, completions.attempt"

// progressFilter is a compiled progress filter.
type progressFilter struct {
	m *cond.Matcher
	// completions is whether the filter addresses completions.
	completions bool
	// journeys, when not nil, are the only journeys the filter can match
	// (an equality on journey).
	journeys map[primitive.ObjectID]bool
}

// progressFilterParam compiles the filter (or query) parameter of a
// progress route; nil when there is none.
func progressFilterParam(q url.Values) (*progressFilter, error) {
	name, doc, err := rawFilterParam(q)
	if doc == nil || err != nil {
		return nil, err
	}
	f := &progressFilter{}
	if err := f.checkQuery(name, doc, ""); err != nil {
		return nil, err
	}
	if f.m, err = compileFilter(name, doc, progressSchema); err != nil {
		return nil, err
	}
	for _, c := range f.m.Required() {
		if c.Path != "journey" {
			continue
		}
		ids := map[primitive.ObjectID]bool{}
		for _, v := range c.Values {
			if id, ok := v.ObjectIDOK(); ok {
				ids[id] = true
			}
		}
		f.journeys = ids // values of other types match no journey
	}
	return f, nil
}

// progressSchema is the filter view's typed paths.
func progressSchema(path string) fieldKind {
	switch path {
	case "_id", "journey", "organisation", "owner.ident.persona":
		return kindObjectID
	case "createdAt", "updatedAt", "completions.completedAt":
		return kindDate
	}
	return kindOther
}

// progressFilterPath reports whether a filter may address path.
func progressFilterPath(path string) bool {
	switch path {
	case "_id", "journey", "organisation", "createdAt", "updatedAt", "owner",
		"completions", "completions.isCompleted", "completions.completedAt", "completions.attempt":
		return true
	}
	return strings.HasPrefix(path, "owner.")
}

// checkQuery checks the fields a query document addresses, below prefix
// (inside an $elemMatch). Operators are left to the compiler.
func (f *progressFilter) checkQuery(name string, doc bson.Raw, prefix string) error {
	elems, err := doc.Elements()
	if err != nil {
		return errBadRequest(name, "invalid document: "+err.Error())
	}
	for _, e := range elems {
		key, v := e.Key(), e.Value()
		switch {
		case key == "$and" || key == "$or" || key == "$nor":
			vals, _ := v.Array().Values()
			for _, sub := range vals {
				if d, ok := sub.DocumentOK(); ok {
					if err := f.checkQuery(name, d, prefix); err != nil {
						return err
					}
				}
			}
		case strings.HasPrefix(key, "$"):
		default:
			if err := f.checkField(name, prefix+key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkField checks one field condition, and the queries of the
// $elemMatch operators in it.
func (f *progressFilter) checkField(name, path string, v bson.RawValue) error {
	if !progressFilterPath(schemaPath(path)) {
		return errBadRequest(name, fmt.Sprintf("cannot filter progress on %q: the filterable fields are %s", path, progressFilterFields))
	}
	f.completions = f.completions || path == "completions" || strings.HasPrefix(path, "completions.")
	d, ok := v.DocumentOK()
	if !ok {
		return nil
	}
	elems, err := d.Elements()
	if err != nil || len(elems) == 0 || !strings.HasPrefix(elems[0].Key(), "$") {
		return nil // a value compared by equality
	}
	for _, e := range elems {
		sub, ok := e.Value().DocumentOK()
		if !ok {
			continue
		}
		switch e.Key() {
		case "$elemMatch":
			if first, err := sub.IndexErr(0); err == nil && !strings.HasPrefix(first.Key(), "$") {
				if err := f.checkQuery(name, sub, path+"."); err != nil {
					return err
				}
			}
		case "$not":
			if err := f.checkField(name, path, e.Value()); err != nil {
				return err
			}
		}
	}
	return nil
}

// match reports whether the progress item satisfies the filter; attempts
// reads the owner's archived attempts when the filter needs them.
func (f *progressFilter) match(it progressItem, rec *progress.Record, attempts func() ([]progress.Attempt, error)) (bool, error) {
	if f.journeys != nil && !f.journeys[it.c.ID] {
		return false, nil
	}
	view, err := filterView(it, rec, f.completions, attempts)
	if err != nil {
		return false, err
	}
	return f.m.Match(view), nil
}

// filterView builds the filter view of a progress item (see above).
func filterView(it progressItem, rec *progress.Record, withCompletions bool, attempts func() ([]progress.Attempt, error)) (bson.Raw, error) {
	ident, err := processor.OwnerIdent(it.c.TrackBy, it.owner, rec.Display)
	if err != nil {
		return nil, fmt.Errorf("progress of journey %s: %w", it.c.ID.Hex(), err)
	}
	identDoc := bson.D{}
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account", "objectType", "persona", "display"} {
		v, ok := ident[k]
		if !ok {
			continue
		}
		if k == "persona" {
			if id, err := primitive.ObjectIDFromHex(fmt.Sprint(v)); err == nil {
				v = id
			}
		}
		if acc, ok := v.(map[string]any); ok {
			v = bson.D{{Key: "homePage", Value: acc["homePage"]}, {Key: "name", Value: acc["name"]}}
		}
		identDoc = append(identDoc, bson.E{Key: k, Value: v})
	}
	doc := bson.D{
		{Key: "_id", Value: processor.ProgressID(it.c.ID, it.owner)},
		{Key: "journey", Value: it.c.ID},
		{Key: "organisation", Value: it.c.Organisation},
		{Key: "owner", Value: bson.D{{Key: "trackBy", Value: string(it.c.TrackBy)}, {Key: "ident", Value: identDoc}}},
		{Key: "createdAt", Value: primitive.DateTime(rec.CreatedAt)},
		{Key: "updatedAt", Value: primitive.DateTime(rec.UpdatedAt)},
	}
	if withCompletions {
		archived, err := attempts()
		if err != nil {
			return nil, err
		}
		comps := bson.A{}
		add := func(a *progress.Attempt) {
			var at any // null until complete
			if a.CompletedAt != 0 {
				at = primitive.DateTime(a.CompletedAt)
			}
			comps = append(comps, bson.D{
				{Key: "attempt", Value: int64(a.Number)},
				{Key: "isCompleted", Value: a.CompletedAt != 0},
				{Key: "completedAt", Value: at},
			})
		}
		for i := range archived {
			add(&archived[i])
		}
		if rec.Attempt.Number > 0 && !rec.Done() {
			add(&rec.Attempt)
		}
		doc = append(doc, bson.E{Key: "completions", Value: comps})
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("progress filter view: %w", err)
	}
	return raw, nil
}

// walk calls fn with every item pq selects strictly after from (nil: from
// the start), in listing order, until fn returns false: walkStore's items
// that pq's filter, if any, matches.
func (s *server) walk(ctx context.Context, pq *progressQuery, from *progressPos, fn func(progressItem) bool) error {
	f := pq.filter
	if f == nil {
		return s.walkStore(ctx, pq, from, fn)
	}
	if f.journeys != nil {
		narrowed := *pq
		narrowed.journeys = nil
		for _, c := range pq.journeys {
			if f.journeys[c.ID] {
				narrowed.journeys = append(narrowed.journeys, c)
			}
		}
		pq = &narrowed
	}
	var ferr error
	err := s.walkStore(ctx, pq, from, func(it progressItem) bool {
		ok, err := s.matchProgress(f, it)
		if err != nil {
			ferr = err
			return false
		}
		return !ok || fn(it)
	})
	if err != nil {
		return err
	}
	return ferr
}

// matchProgress reports whether f matches the progress item.
func (s *server) matchProgress(f *progressFilter, it progressItem) (bool, error) {
	var rec progress.Record
	if err := rec.Decode(it.value); err != nil {
		return false, fmt.Errorf("progress of journey %s: %w", it.c.ID.Hex(), err)
	}
	return f.match(it, &rec, func() ([]progress.Attempt, error) { return s.archivedAttempts(it) })
}
