package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
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
	// owners, when not nil, are the only owner keys the filter can match
	// (an equality on owner.ident.mbox, mbox_sha1sum, openid or persona),
	// so other records are skipped before their view is built.
	owners map[string]bool
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
		switch c.Path {
		case "journey":
			ids := map[primitive.ObjectID]bool{}
			for _, v := range c.Values {
				if id, ok := v.ObjectIDOK(); ok {
					ids[id] = true
				}
			}
			f.journeys = ids // values of other types match no journey
		case "owner.ident.mbox", "owner.ident.mbox_sha1sum", "owner.ident.openid", "owner.ident.persona":
			f.owners = intersect(f.owners, ownerKeys(c))
		}
	}
	return f, nil
}

// ownerKeys returns the owner keys whose ident holds one of the values of
// a required owner.ident constraint.
func ownerKeys(c cond.Constraint) map[string]bool {
	ifi := strings.TrimPrefix(c.Path, "owner.ident.")
	keys := map[string]bool{}
	for _, v := range c.Values {
		var key []byte
		var err error
		if id, ok := v.ObjectIDOK(); ok && ifi == "persona" {
			key, err = journey.OwnerKeyFromIdent(journey.TrackByPersona, map[string]any{"persona": id.Hex()})
		} else if s, ok := v.StringValueOK(); ok && ifi != "persona" {
			key, err = journey.OwnerKeyFromIdent(journey.TrackByActor, map[string]any{ifi: s})
		} else {
			continue // a value no owner's ident holds
		}
		if err == nil {
			keys[string(key)] = true
		}
	}
	return keys
}

// intersect returns the keys in both a and b; a nil set is every key.
func intersect(a, b map[string]bool) map[string]bool {
	if a == nil {
		return b
	}
	out := map[string]bool{}
	for k := range a {
		if b[k] {
			out[k] = true
		}
	}
	return out
}

// progressSchema is the filter view's typed paths.
func progressSchema(path string) fieldKind {
	switch path {
	case "_id", "journey", "organisation", "owner.ident.persona":
		return kindObjectID
	case "createdAt", "updatedAt", "completions.completedAt":
		return kindDate
	case "completions.isCompleted":
		return kindBool
	case "completions.attempt":
		return kindNumber
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
// calls its argument with each of the owner's archived attempts, in
// ascending number, when the filter needs them.
func (f *progressFilter) match(it progressItem, rec *progress.Record, attempts func(func(*progress.Attempt)) error) (bool, error) {
	if f.journeys != nil && !f.journeys[it.c.ID] || f.owners != nil && !f.owners[string(it.owner)] {
		return false, nil
	}
	view, err := filterView(it, rec, f.completions, attempts)
	if err != nil {
		return false, err
	}
	return f.m.Match(view), nil
}

// filterView builds the filter view of a progress item (see above).
// With completions, the view holds each attempt's number and completion
// only (a few dozen bytes), built as the archive is read: an owner with
// 100,000 attempts costs a few MB while it is matched, not its attempts
// decoded all at once.
func filterView(it progressItem, rec *progress.Record, withCompletions bool, attempts func(func(*progress.Attempt)) error) (bson.Raw, error) {
	ident, err := processor.OwnerIdent(it.c.TrackBy, it.owner, rec.Display)
	if err != nil {
		return nil, fmt.Errorf("progress of journey %s: %w", it.c.ID.Hex(), err)
	}
	// Room for a typical view, so that building it does not grow the slice.
	idx, d := bsoncore.AppendDocumentStart(make([]byte, 0, 384))
	d = bsoncore.AppendObjectIDElement(d, "_id", processor.ProgressID(it.c.ID, it.owner))
	d = bsoncore.AppendObjectIDElement(d, "journey", it.c.ID)
	d = bsoncore.AppendObjectIDElement(d, "organisation", it.c.Organisation)
	oidx, d := bsoncore.AppendDocumentElementStart(d, "owner")
	d = bsoncore.AppendStringElement(d, "trackBy", string(it.c.TrackBy))
	iidx, d := bsoncore.AppendDocumentElementStart(d, "ident")
	for _, k := range [...]string{"mbox", "mbox_sha1sum", "openid", "account", "objectType", "persona", "display"} {
		switch v := ident[k].(type) {
		case string:
			if id, err := primitive.ObjectIDFromHex(v); err == nil && k == "persona" {
				d = bsoncore.AppendObjectIDElement(d, k, id)
			} else {
				d = bsoncore.AppendStringElement(d, k, v)
			}
		case map[string]any: // account
			aidx, dd := bsoncore.AppendDocumentElementStart(d, k)
			dd = bsoncore.AppendStringElement(dd, "homePage", fmt.Sprint(v["homePage"]))
			dd = bsoncore.AppendStringElement(dd, "name", fmt.Sprint(v["name"]))
			d, _ = bsoncore.AppendDocumentEnd(dd, aidx)
		}
	}
	d, _ = bsoncore.AppendDocumentEnd(d, iidx)
	d, _ = bsoncore.AppendDocumentEnd(d, oidx)
	d = bsoncore.AppendDateTimeElement(d, "createdAt", rec.CreatedAt)
	d = bsoncore.AppendDateTimeElement(d, "updatedAt", rec.UpdatedAt)
	if withCompletions {
		cidx, dd := bsoncore.AppendArrayElementStart(d, "completions")
		n := 0
		add := func(a *progress.Attempt) {
			aidx, x := bsoncore.AppendDocumentElementStart(dd, strconv.Itoa(n))
			n++
			x = bsoncore.AppendInt64Element(x, "attempt", int64(a.Number))
			x = bsoncore.AppendBooleanElement(x, "isCompleted", a.CompletedAt != 0)
			if a.CompletedAt != 0 {
				x = bsoncore.AppendDateTimeElement(x, "completedAt", a.CompletedAt)
			} else {
				x = bsoncore.AppendNullElement(x, "completedAt")
			}
			dd, _ = bsoncore.AppendDocumentEnd(x, aidx)
		}
		if err := attempts(add); err != nil {
			return nil, err
		}
		if rec.Attempt.Number > 0 && !rec.Done() {
			add(&rec.Attempt)
		}
		d, _ = bsoncore.AppendArrayEnd(dd, cidx)
	}
	d, err = bsoncore.AppendDocumentEnd(d, idx)
	if err != nil {
		return nil, fmt.Errorf("progress filter view: %w", err)
	}
	return bson.Raw(d), nil
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
	return f.match(it, &rec, func(fn func(*progress.Attempt)) error { return s.eachArchivedAttempt(it, fn) })
}
