package processor

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/source"
)

// Learning Locker changes statements after inserting them (docs/design.md §2, §4): a
// worker sets person and personaIdentifier on a statement inserted without
// them, or moves every statement of an identifier to another persona (a
// merge); a voiding statement sets voided on its target. Each such update
// arrives from the stream as a KindStatementUpdate, and the progress it
// affects is recomputed:
//
//   - Only the affected (journey, owner) pairs: the owners the update can
//     add the statement to or remove it from (affectedOwners), in the live
//     active journeys the statement is eligible for.
//   - From the owner's stored eligible statements, in (stored, _id) order,
//     read with a pushdown filter on the owner (person._id or the actor's
//     IFI), the organisation and the sources: a late persona is placed as
//     if it had been known at insert.
//   - Once per owner per commit: the update queues the recompute, and the
//     queue runs just before the next commit (recomputeQueue), however
//     many updates of the batch asked for the same owner.
//   - Exactly once: the owner's reset, its rebuilt records and archived
//     attempts, fired markers and deliveries go into the pending batch
//     (group commit: no commit of its own) and are committed with a
//     checkpoint past the update. A crash before that commit replays the
//     update, which recomputes again from the same statements. Within the
//     batch the reset comes after the owner's earlier writes, and its
//     rebuilt records after the reset, so later writes win.
//   - Statements the recompute reads that the stream has yet to deliver
//     (inserted after the update's position) would count twice: those
//     stored from the skew cutoff on join the journey's recompute skip set
//     (recompute_skip.go).
//   - A journey that is recalculating is not recomputed beside its scan
//     (which may have read the statement before the update) and its
//     pending log (which holds live statements as inserted): the owner is
//     recorded in its meta (deferRecompute) and recomputed when the
//     recalculation hands over (runDeferredRecomputes), in the batch that
//     makes the journey live again. A new run of its recalculation (the
//     journey changed again) drops them: its scan reads the statements as
//     the updates left them.
//   - Fired outcomes are never recalled; fired markers outlive the reset,
//     so an attempt number that fired never fires again, and an attempt
//     that completes with a new number fires.
//
// The old persona of a merge is not in the event (MongoDB sends the
// document after the update); the state store's persona index names the
// persona each statement last counted for.

// ownerTarget is one owner whose progress an update affects, in the
// journeys of one tracking kind.
type ownerTarget struct {
	by    journey.TrackBy
	owner []byte
}

// affectedOwners decides whose progress a statement update affects.
// changed is what the update changed; actor and persona are the
// statement's owner keys after it (nil when it has none), and prev is the
// persona the statement last counted for (nil when none).
//
// voided affects the statement's owner in both tracking kinds (it stops
// or resumes counting). person affects persona tracking only: the new
// persona gains the statement, and a previous, different persona loses it.
func affectedOwners(changed source.Fields, actor, persona, prev []byte) []ownerTarget {
	var out []ownerTarget
	if changed&source.FieldVoided != 0 && actor != nil {
		out = append(out, ownerTarget{journey.TrackByActor, actor})
	}
	if changed&(source.FieldVoided|source.FieldPerson) != 0 && persona != nil {
		out = append(out, ownerTarget{journey.TrackByPersona, persona})
	}
	if changed&source.FieldPerson != 0 && prev != nil && !slices.Equal(prev, persona) {
		out = append(out, ownerTarget{journey.TrackByPersona, prev})
	}
	return out
}

// statementUpdated handles a KindStatementUpdate event (see above): it
// queues a recompute of each affected owner in the journeys of its
// tracking kind the statement is eligible for.
func (p *Pipeline) statementUpdated(ev source.Event) error {
	if ev.Doc == nil {
		return nil // deleted before the server looked it up
	}
	var h Header
	if !readHeader(ev.Doc, &h) {
		p.engine.stats.Malformed.Add(1)
		return nil
	}
	js := p.engine.eligibleJourneys(&h)
	if len(js) == 0 {
		return nil
	}
	actor, persona := ownerKeys(ev.Doc)
	var prev []byte
	if ev.Changed&source.FieldPerson != 0 {
		id, ok, err := p.engine.statementPersona(h.ID)
		if err != nil {
			return err
		}
		if ok {
			prev = journey.PersonaKey(id)
		}
	}
	for _, t := range affectedOwners(ev.Changed, actor, persona, prev) {
		for _, l := range js {
			if l.c.TrackBy != t.by {
				continue
			}
			if p.jobs[l.c.ID] != nil {
				if err := p.deferRecompute(l.c.ID, t); err != nil {
					return err
				}
				continue
			}
			p.recomputes.add(h.Organisation, t, l.c.ID)
		}
	}
	return nil
}

// deferredRecompute is an owner recompute put off until the journey's
// recalculation hands over: its scan may have read the statement before
// the update, and its pending log holds live statements as inserted.
type deferredRecompute struct {
	By    journey.TrackBy `bson:"by"`
	Owner []byte          `bson:"owner"`
}

// deferRecompute records, in journey id's meta (committed with the
// update's position), that owner t is to be recomputed once its
// recalculation hands over.
func (p *Pipeline) deferRecompute(id primitive.ObjectID, t ownerTarget) error {
	m := p.metas[id]
	if m == nil {
		return nil
	}
	for _, d := range m.DeferredRecomputes {
		if d.By == t.by && slices.Equal(d.Owner, t.owner) {
			return nil
		}
	}
	m.DeferredRecomputes = append(m.DeferredRecomputes, deferredRecompute{By: t.by, Owner: slices.Clone(t.owner)})
	return p.putMeta(id, m)
}

// runDeferredRecomputes queues journey id's deferred owner recomputes, as
// its recalculation hands over; they run before the commit that makes the
// journey live again.
func (p *Pipeline) runDeferredRecomputes(id primitive.ObjectID) {
	m := p.metas[id]
	if m == nil || len(m.DeferredRecomputes) == 0 {
		return
	}
	if org, ok := m.Doc.Lookup("organisation").ObjectIDOK(); ok {
		for _, d := range m.DeferredRecomputes {
			p.recomputes.add(org, ownerTarget{by: d.By, owner: d.Owner}, id)
		}
	}
	m.DeferredRecomputes = nil
	if err := p.putMeta(id, m); err != nil {
		p.log.Error("cannot store journey state", "journey", id.Hex(), "err", err)
	}
}

// recomputeQueue holds the owner recomputes queued since the last commit,
// each once however many updates asked for it: an updateMany that moves a
// thousand statements to a persona costs one recompute per owner, not a
// thousand. They run just before the commit (flushRecomputes), which makes
// them durable with a checkpoint past every update that queued them; a
// recompute reads the statements as they are then, which includes every
// update and insert applied before it, so running it later in the batch
// gives the state it would have given at the update's position, followed
// by the batch's later events.
type recomputeQueue struct {
	byKey map[string]*queuedRecompute
	order []*queuedRecompute // in queueing order, for deterministic commits
}

// queuedRecompute is one owner to recompute in some journeys of one
// organisation.
type queuedRecompute struct {
	org      primitive.ObjectID
	target   ownerTarget
	journeys map[primitive.ObjectID]bool
}

// add queues owner t of organisation org for a recompute in journey j.
func (q *recomputeQueue) add(org primitive.ObjectID, t ownerTarget, j primitive.ObjectID) {
	key := string(org[:]) + string(t.by) + "\x00" + string(t.owner)
	r := q.byKey[key]
	if r == nil {
		if q.byKey == nil {
			q.byKey = map[string]*queuedRecompute{}
		}
		r = &queuedRecompute{org: org, target: t, journeys: map[primitive.ObjectID]bool{}}
		q.byKey[key] = r
		q.order = append(q.order, r)
	}
	r.journeys[j] = true
}

// clear drops every queued recompute.
func (q *recomputeQueue) clear() {
	clear(q.byKey)
	clear(q.order)
	q.order = q.order[:0]
}

// flushRecomputes runs the queued recomputes into the pending batch, in
// the journeys that are still live and active.
func (p *Pipeline) flushRecomputes(ctx context.Context) error {
	defer p.recomputes.clear()
	for _, r := range p.recomputes.order {
		var js []*live
		for _, l := range p.engine.eligibleIn(r.org) {
			// A journey that began recalculating since reads the
			// statements as they are now: nothing to recompute.
			if r.journeys[l.c.ID] && l.c.TrackBy == r.target.by && p.jobs[l.c.ID] == nil {
				js = append(js, l)
			}
		}
		if len(js) == 0 {
			continue
		}
		if err := p.recomputeOwner(ctx, r.org, r.target, js); err != nil {
			return err
		}
	}
	return nil
}

// recomputeOwner rebuilds t's progress in the journeys js (all of t's
// tracking kind and organisation org) from t's stored eligible statements,
// into the pending batch.
func (p *Pipeline) recomputeOwner(ctx context.Context, org primitive.ObjectID, t ownerTarget, js []*live) error {
	p.stats.OwnerRecomputes.Add(1)
	filter, err := journey.OwnerFilter(t.owner)
	if err != nil {
		return fmt.Errorf("recompute owner: %w", err)
	}
	// The pushdown: the owner's statements that are not voided.
	filter = append(filter, bson.E{Key: "voided", Value: bson.D{{Key: "$ne", Value: true}}})
	q := lrs.ScanQuery{Organisation: org, Filter: filter}
	for _, l := range js {
		if len(l.c.Sources) == 0 {
			q.Sources = nil
			break
		}
		q.Sources = append(q.Sources, l.c.Sources...)
	}
	for _, l := range js {
		p.engine.resetOwner(l, t.owner)
	}
	margin := p.cfg.SkewMargin.Milliseconds()
	cutoff := max(p.cp.LastStored, p.floorStored) - margin
	skip := make([][]skipEntry, len(js))
	err = p.cfg.Scanner.Scan(ctx, q, func(doc bson.Raw) error {
		key, ok := journey.AppendOwnerKey(nil, doc, t.by)
		if !ok || !slices.Equal(key, t.owner) {
			return nil // the pushdown is a superset
		}
		for i, l := range js {
			res, err := p.engine.applyOwner(l, doc)
			if err != nil {
				return err
			}
			if s := res.Header.Stored; res.Matched && s >= cutoff {
				skip[i] = append(skip[i], skipEntry{ID: res.Header.ID, Stored: s})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recompute owner of journeys in organisation %s: %w", org.Hex(), err)
	}
	for i, l := range js {
		if len(skip[i]) > 0 {
			if err := p.addRecomputeSkips(l, skip[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
