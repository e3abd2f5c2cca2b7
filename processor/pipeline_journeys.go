package processor

import (
	"bytes"
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// This file holds how the pipeline follows the journeys collection:
// definition changes, deletions, and the per-journey state kept with the
// checkpoint.

func (p *Pipeline) journeyDeleted(id primitive.ObjectID) {
	p.dropRecalculation(id)
	p.engine.RemoveJourney(id) // progress, attempts, recalculation and the stored meta
	delete(p.metas, id)
	p.log.Info("journey deleted", "journey", id.Hex())
}

// journeyChanged handles an inserted, updated or replaced journey document:
// it asks decide what the change requires and executes that. at is when the
// change was made (Unix ms, from the event's cluster time), or 0 when it
// was not seen in the stream; rebuild, when not 0, recalculates every
// active journey (see recalcRequest.Rebuild).
func (p *Pipeline) journeyChanged(doc bson.Raw, at, rebuild int64) error {
	id, _ := doc.Lookup("_id").ObjectIDOK()
	old := p.metas[id]
	if old != nil && !old.Suspended && rebuild == 0 && !changedForEngine(old.Doc, doc) {
		// Only what the daemon itself rewrites changed (the status of a
		// recalculation, updatedAt), which decide maps to actDocOnly
		// whatever else holds: spare decoding and compiling the document
		// (1,000 journeys recalculating write their status every second).
		m := *old
		m.Doc = append(bson.Raw(nil), doc...)
		return p.putMeta(id, &m)
	}
	j, err := journey.DecodeBSON(doc)
	var c *journey.Compiled
	if err == nil {
		c, err = journey.Compile(j)
	}
	var known *storedJourney
	if old != nil {
		_, recalculating := p.jobs[id]
		known = &storedJourney{Version: old.Version, Suspended: old.Suspended, Recalculating: recalculating, Request: old.Request}
	}
	ch := journeyChange{Compiles: err == nil, At: at}
	if c != nil {
		ch.Active, ch.Version = c.Active, c.Version
		ch.ShapeChanged = old == nil || shapeChanged(old.Doc, j)
		ch.EngineChanged = old == nil || changedForEngine(old.Doc, doc)
	}
	reqID, notify := recalculateRequest(doc)
	a := decide(known, ch, recalcRequest{ID: reqID, Notify: notify, Rebuild: rebuild, Now: p.cfg.Now().UnixMilli()})

	m := &journeyMeta{Doc: append(bson.Raw(nil), doc...), Request: a.Request}
	if c != nil {
		m.Version = c.Version
	}
	if old != nil {
		m.QuietBefore = old.QuietBefore
		m.RecomputeSkip, m.DeferredRecomputes = old.RecomputeSkip, old.DeferredRecomputes
	}
	switch a.Kind {
	case actSuspend:
		// Written by a writer that bypassed validation: the journey cannot
		// run until it is fixed. Its progress is kept; the fixed version
		// recalculates.
		p.log.Error("journey does not compile: not tracking it", "journey", id.Hex(), "err", err)
		p.dropRecalculation(id)
		p.engine.Suspend(id)
		m.Suspended = true
		m.Version = ""
	case actDeactivate:
		p.dropRecalculation(id)
		if a.ReportInactive {
			now := p.cfg.Now()
			p.publishStatus(id, journey.RecalculateStatus{FinishedAt: &now, Error: "the journey is inactive: nothing to recalculate"})
		}
		if a.ResetProgress {
			p.engine.ResetJourney(id)
		}
		p.engine.SetJourney(c, m.QuietBefore)
	case actRecalculate:
		// The recalculation reads the statements anew, as every update
		// read so far left them: the recompute skip entries and the owner
		// recomputes deferred by an earlier run are moot (see
		// recompute_skip.go, recompute.go).
		m.RecomputeSkip, m.DeferredRecomputes = nil, nil
		p.restoreRecomputeSkips(id, m)
		return p.startRecalculation(c, m, a.QuietBefore)
	case actMetadata:
		p.engine.SetJourney(c, m.QuietBefore)
		if j := p.jobs[id]; j != nil {
			j.c = c
		}
	case actDocOnly:
		// Only what the daemon itself rewrites changed (the status a
		// recalculation writes, updatedAt): keep the live journey and its
		// index.
	}
	p.restoreRecomputeSkips(id, m)
	return p.putMeta(id, m)
}

// shapeChanged reports whether j's waypoints differ from those of the
// stored document old in anything but the journey's isActive.
func shapeChanged(old bson.Raw, j *journey.Journey) bool {
	prev, err := journey.DecodeBSON(old)
	if err != nil {
		return true
	}
	a, b := *prev, *j
	a.IsActive, b.IsActive = true, true
	return a.Version() != b.Version()
}

// changedForEngine reports whether two versions of a journey document
// differ in anything but the fields the daemon itself keeps rewriting
// (recalculateStatus, updatedAt): the rest is served in callback bodies.
func changedForEngine(old, doc bson.Raw) bool {
	return !bytes.Equal(withoutVolatile(old), withoutVolatile(doc))
}

func withoutVolatile(doc bson.Raw) []byte {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	var out []byte
	for _, e := range elems {
		switch e.Key() {
		case "recalculateStatus", "updatedAt":
			continue
		}
		out = append(out, e...)
	}
	return out
}

func (p *Pipeline) putMeta(id primitive.ObjectID, m *journeyMeta) error {
	v, err := m.encode()
	if err != nil {
		return err
	}
	p.engine.SetJourneyMeta(id, v)
	p.metas[id] = m
	return nil
}

// recalculateRequest reads the recalculateRequest field the API sets.
func recalculateRequest(doc bson.Raw) (id primitive.ObjectID, notify bool) {
	v, err := doc.LookupErr("recalculateRequest", "_id")
	if err != nil {
		return id, false
	}
	id, _ = v.ObjectIDOK()
	if n, err := doc.LookupErr("recalculateRequest", "notify"); err == nil {
		notify, _ = n.BooleanOK()
	}
	return id, notify
}

func compileDoc(doc bson.Raw) (*journey.Compiled, error) {
	j, err := journey.DecodeBSON(doc)
	if err != nil {
		return nil, err
	}
	return journey.Compile(j)
}

// reloadJourneys brings the engine's journeys in line with the journeys
// collection as it is now: when the collection was replaced wholesale
// (dropped, renamed), or, with rebuild not 0, to recalculate every active
// one (see recalcRequest.Rebuild).
func (p *Pipeline) reloadJourneys(ctx context.Context, rebuild int64) error {
	var docs []bson.Raw
	err := p.cfg.JourneyStore.Journeys(ctx, primitive.NilObjectID, func(doc bson.Raw) error {
		docs = append(docs, doc)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list journeys: %w", err)
	}
	seen := map[primitive.ObjectID]bool{}
	for _, doc := range docs {
		id, _ := doc.Lookup("_id").ObjectIDOK()
		seen[id] = true
		if err := p.journeyChanged(doc, 0, rebuild); err != nil {
			return err
		}
	}
	for id := range p.metas {
		if !seen[id] {
			p.journeyDeleted(id)
		}
	}
	return nil
}
