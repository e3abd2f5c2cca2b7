package processor

import (
	"sort"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
)

// This file holds the engine's set of journeys and their candidate
// indexes.

// Journey returns the compiled journey with id, if the engine knows it.
func (e *Engine) Journey(id primitive.ObjectID) (*journey.Compiled, bool) {
	l, ok := e.journeys[id]
	if !ok {
		return nil, false
	}
	return l.c, true
}

// Journeys returns the compiled journeys the engine knows, by id.
func (e *Engine) Journeys() []*journey.Compiled {
	out := make([]*journey.Compiled, 0, len(e.journeys))
	for _, l := range e.journeys {
		out = append(out, l.c)
	}
	sort.Slice(out, func(a, b int) bool { return string(out[a].ID[:]) < string(out[b].ID[:]) })
	return out
}

// SetJourney adds or replaces a journey. Statements applied afterwards are
// evaluated against c. Callbacks for completions by statements stored before
// quietBefore (Unix ms) are suppressed; pass 0 to notify for all.
//
// SetJourney does not touch existing progress: when the version changed the
// caller resets it (ResetJourney) and recalculates.
func (e *Engine) SetJourney(c *journey.Compiled, quietBefore int64) {
	l := &live{
		c:           c,
		quietBefore: quietBefore,
		rules:       progress.Rules{Sequential: c.Sequential, Repeatable: c.Repeatable},
	}
	for _, w := range c.Waypoints {
		l.rules.Counts = append(l.rules.Counts, w.Count)
		l.required = append(l.required, w.Matcher.Required())
	}
	if prev, ok := e.journeys[c.ID]; ok {
		// A running recalculation and the recompute skip set belong to the
		// progress, not the definition.
		l.deferred, l.nextSeq, l.status = prev.deferred, prev.nextSeq, prev.status
		l.rskip = prev.rskip
		if prev.c.Organisation != c.Organisation {
			e.reindex(prev.c.Organisation)
		}
	}
	// Cached records stay valid: a definition change that alters their
	// slot layout resets them (ResetJourney) before any statement applies.
	for _, en := range e.order {
		if en.l.c.ID == c.ID {
			en.l = l
		}
	}
	if _, ok := e.journeys[c.ID]; !ok {
		l.status = c.Doc.RecalculateStatus
		l.status.InProgress = false
	}
	e.journeys[c.ID] = l
	e.reindex(c.Organisation)
}

// SetStatus records journey id's current recalculateStatus, which callback
// bodies carry.
func (e *Engine) SetStatus(id primitive.ObjectID, s journey.RecalculateStatus) {
	if l, ok := e.journeys[id]; ok {
		l.status = s
	}
}

// SetDeferred marks journey id recalculating (its live statements are
// appended to its pending log from sequence number next on) or, with
// deferred false, live again.
func (e *Engine) SetDeferred(id primitive.ObjectID, deferred bool, next uint64) {
	if l, ok := e.journeys[id]; ok {
		l.deferred, l.nextSeq = deferred, next
	}
}

// RemoveJourney forgets a journey and deletes its progress in the pending
// batch. Deliveries already queued stay queued (docs/design.md §7).
func (e *Engine) RemoveJourney(id primitive.ObjectID) {
	e.dropCached(id)
	e.pendingBatch().DeleteJourney(id)
	if l, ok := e.journeys[id]; ok {
		delete(e.journeys, id)
		e.reindex(l.c.Organisation)
	}
}

// Suspend forgets a journey without touching its stored progress: it stops
// advancing until SetJourney brings it back.
func (e *Engine) Suspend(id primitive.ObjectID) {
	l, ok := e.journeys[id]
	if !ok {
		return
	}
	delete(e.journeys, id)
	e.reindex(l.c.Organisation)
}

// ResetJourney deletes a journey's progress and archived attempts in the
// pending batch, keeping its fired markers, before a recalculation rebuilds
// them.
func (e *Engine) ResetJourney(id primitive.ObjectID) {
	e.dropCached(id)
	e.pendingBatch().ResetJourneyProgress(id)
}

func (e *Engine) dropCached(id primitive.ObjectID) {
	e.cache.dropJourney(id)
	kept := e.order[:0]
	for _, en := range e.order {
		if en.l.c.ID == id {
			delete(e.dirty, en.key)
			continue
		}
		kept = append(kept, en)
	}
	for i := len(kept); i < len(e.order); i++ {
		e.order[i] = nil
	}
	e.order = kept
}

func (e *Engine) reindex(org primitive.ObjectID) { e.stale[org] = true }

// refreshIndexes rebuilds the candidate indexes of stale organisations.
func (e *Engine) refreshIndexes() {
	for org := range e.stale {
		e.buildIndex(org)
	}
	clear(e.stale)
}

func (e *Engine) buildIndex(org primitive.ObjectID) {
	var js []*live
	for _, l := range e.journeys {
		if l.c.Organisation == org && l.c.Active && len(l.c.Waypoints) > 0 {
			js = append(js, l)
		}
	}
	if len(js) == 0 {
		delete(e.orgs, org)
		return
	}
	sort.Slice(js, func(a, b int) bool { return string(js[a].c.ID[:]) < string(js[b].c.ID[:]) })
	e.orgs[org] = buildOrgIndex(js)
}

// forgetJourneys drops every journey (the pipeline restarts from the
// store).
func (e *Engine) forgetJourneys() {
	e.cache.reset()
	clear(e.journeys)
	clear(e.orgs)
	clear(e.stale)
}
