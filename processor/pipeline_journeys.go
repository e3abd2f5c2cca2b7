package processor

import (
	"bytes"
	"context"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// This file holds how the pipeline follows the journeys collection:
// definition changes, deletions, and the per-journey state kept with the
// checkpoint.

func (p *Pipeline) journeyDeleted(id primitive.ObjectID) {
	p.engine.RemoveJourney(id) // progress, attempts and the stored meta
	delete(p.metas, id)
	p.log.Info("journey deleted", "journey", id.Hex())
}

// journeyChanged handles an inserted, updated or replaced journey document.
// at is when the change was made (Unix ms, from the event's cluster time),
// or 0 when it was not seen in the stream (a fresh start, a lost history).
func (p *Pipeline) journeyChanged(ctx context.Context, doc bson.Raw, at int64) error {
	id, _ := doc.Lookup("_id").ObjectIDOK()
	j, err := journey.DecodeBSON(doc)
	var c *journey.Compiled
	if err == nil {
		c, err = journey.Compile(j)
	}
	if err != nil {
		// Written by a writer that bypassed validation: the journey cannot
		// run until it is fixed. Its progress is kept; the fixed version
		// recalculates (the empty version below differs from any digest).
		p.log.Error("journey does not compile: not tracking it", "journey", id.Hex(), "err", err)
		p.engine.Suspend(id)
		m := &journeyMeta{Doc: append(bson.Raw(nil), doc...), Suspended: true}
		if old := p.metas[id]; old != nil {
			m.Request = old.Request
		}
		return p.putMeta(id, m)
	}
	req, notify := recalculateRequest(doc)
	old := p.metas[j.ID]
	m := &journeyMeta{Doc: append(bson.Raw(nil), doc...), Version: c.Version}
	if old != nil {
		m.Request, m.QuietBefore = old.Request, old.QuietBefore
		m.Skip, m.SkipUntil = old.Skip, old.SkipUntil
		m.RecomputeSkip = old.RecomputeSkip
	}
	requested := !req.IsZero() && req != m.Request
	if requested {
		m.Request = req
	}
	switch {
	case !c.Active:
		if requested {
			now := p.cfg.Now()
			p.writeStatus(ctx, c.ID, journey.RecalculateStatus{FinishedAt: &now, Error: "the journey is inactive: nothing to recalculate"})
		}
		if old != nil && (old.Recalculating || old.Version != c.Version && shapeChanged(old.Doc, j)) {
			// Progress half rebuilt, or built for other waypoints (it
			// would be shown against the new ones): drop it; reactivation
			// rebuilds it.
			p.engine.ResetJourney(c.ID)
		}
	case old != nil && old.Recalculating && old.Version == c.Version && !requested:
		// The stream redelivered the change whose recalculation a crash
		// interrupted: start it over with the same notification point.
		return p.recalculate(ctx, c, m)
	case old == nil || old.Suspended || old.Recalculating || old.Version != c.Version || requested:
		m.QuietBefore = at
		if at == 0 {
			m.QuietBefore = p.cfg.Now().UnixMilli()
		}
		if p.quietBefore != 0 {
			m.QuietBefore = p.quietBefore
		}
		if requested && notify {
			m.QuietBefore = 0
		}
		return p.recalculate(ctx, c, m)
	case old.QuietBefore == m.QuietBefore && old.Version == c.Version && !changedForEngine(old.Doc, doc):
		// Only what the daemon itself rewrites changed (the status a
		// recalculation writes, updatedAt): keep the live journey, its
		// index and its skip set.
		p.metas[c.ID].Doc = m.Doc
		return p.putMeta(c.ID, p.metas[c.ID])
	}
	p.engine.SetJourney(c, m.QuietBefore)
	p.engine.SetSkip(c.ID, m.skipSet())
	p.restoreRecomputeSkips(c.ID, m)
	return p.putMeta(c.ID, m)
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

func (p *Pipeline) noteSkipUntil(t int64) {
	if t != 0 && (p.skipUntil == 0 || t < p.skipUntil) {
		p.skipUntil = t
	}
}

// expireSkips drops the skip sets that the stream has moved past: it just
// delivered a statement stored at stored.
func (p *Pipeline) expireSkips(stored int64) {
	p.skipUntil = 0
	for id, m := range p.metas {
		if m.SkipUntil == 0 {
			continue
		}
		if stored > m.SkipUntil {
			m.Skip, m.SkipUntil = nil, 0
			p.engine.SetSkip(id, nil)
			if err := p.putMeta(id, m); err != nil {
				p.log.Error("cannot store journey state", "journey", id.Hex(), "err", err)
			}
			continue
		}
		p.noteSkipUntil(m.SkipUntil)
	}
}
