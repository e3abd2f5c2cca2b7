package processor

import (
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/progress"
)

// Owner recomputes: the engine's part of following Learning Locker's
// statement updates (see Pipeline.statementUpdated).

// eligibleJourneys returns, in id order, the live active journeys the
// stored statement with header h is eligible for (docs/design.md §4: organisation
// and sources; whether it is voided is for the caller).
func (e *Engine) eligibleJourneys(h *Header) []*live {
	var out []*live
	for _, l := range e.eligibleIn(h.Organisation) {
		c := l.c
		if h.HasLRS && !c.HasSource(h.LRS) || !h.HasLRS && len(c.Sources) > 0 {
			continue
		}
		out = append(out, l)
	}
	return out
}

// eligibleIn returns, in id order, the live active journeys of
// organisation org that have waypoints: its candidate index's journeys
// (buildIndex keeps that list), brought up to date first. The slice is the
// index's: callers only read it.
func (e *Engine) eligibleIn(org primitive.ObjectID) []*live {
	if len(e.stale) > 0 {
		e.refreshIndexes()
	}
	if oi := e.orgs[org]; oi != nil {
		return oi.journeys
	}
	return nil
}

// resetOwner empties owner's progress in journey l, in the pending batch:
// its record and archived attempts are deleted (fired markers stay), and
// an empty record takes its place in the write-back cache, so that the
// statements applied next rebuild it from nothing.
func (e *Engine) resetOwner(l *live, owner []byte) {
	key := e.appendEntryKey(l.c.ID, owner)
	if en, ok := e.dirty[string(key)]; ok {
		en.rec, en.changed = progress.Record{}, true
	} else {
		e.cache.drop(key) // drop the committed copy
		en := &entry{l: l, key: string(key), changed: true}
		en.owner = []byte(en.key[12:])
		e.dirty[en.key] = en
		e.order = append(e.order, en)
	}
	e.pendingBatch().ResetOwnerProgress(l.c.ID, owner)
}

// applyOwner applies one stored statement to journey l during an owner
// recompute: as StatementFor, but the journey's skip set does not apply
// (the recompute rebuilds from every stored statement, including those a
// recalculation applied that the stream has yet to deliver).
func (e *Engine) applyOwner(l *live, doc bson.Raw) (Result, error) {
	e.sc.recomputing = true
	defer func() { e.sc.recomputing = false }()
	return e.StatementFor(l.c.ID, doc)
}

// ownerKeys returns the statement document's owner key for each tracking
// kind; nil where it has none.
func ownerKeys(doc bson.Raw) (actor, persona []byte) {
	if k, ok := journey.AppendOwnerKey(nil, doc, journey.TrackByActor); ok {
		actor = k
	}
	if k, ok := journey.AppendOwnerKey(nil, doc, journey.TrackByPersona); ok {
		persona = k
	}
	return actor, persona
}

// notePersona records in the pending batch that statement counted for
// persona in a persona-tracked journey: if the statement later moves to
// another persona (a merge), this one loses it and is recomputed.
func (e *Engine) notePersona(statement, persona [12]byte) {
	if p, ok := e.personas[statement]; ok && p == persona {
		return
	}
	e.personas[statement] = persona
	e.pendingBatch().SetStatementPersona(statement, persona)
}

// statementPersona returns the persona statement last counted for, the
// pending batch included.
func (e *Engine) statementPersona(statement [12]byte) ([12]byte, bool, error) {
	if p, ok := e.personas[statement]; ok {
		return p, true, nil
	}
	p, ok, err := e.store.StatementPersona(statement)
	if err != nil {
		return p, false, fmt.Errorf("read the persona of statement %x: %w", statement, err)
	}
	return p, ok, nil
}
