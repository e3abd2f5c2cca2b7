package processor

import (
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// An owner recompute reads the owner's statements as the LRS holds them
// now, which may include statements inserted after the update's position:
// the stream has yet to deliver them, and applied again then they would
// count twice. Every statement the stream delivers from here on is stored
// no earlier than the latest one it has delivered (p.cp.LastStored, or just
// after the stream was opened the latest one stored) less SkewMargin (the
// tolerated clock skew between the LRS's writers). So the recompute
// records, per journey, the statements it applied that are stored from that
// cutoff on; the engine skips them when the stream delivers them (except
// in a later recompute, which rebuilds from the LRS again). An entry is
// dropped once the stream has delivered a statement stored more than
// SkewMargin after it: it can no longer arrive. The entries travel in the
// journey's meta, committed with the recompute.

// skipEntry is a statement an owner recompute applied that the stream may
// still deliver.
type skipEntry struct {
	ID primitive.ObjectID `bson:"id"`
	// Stored is its stored time (Unix ms).
	Stored int64 `bson:"stored"`
}

// addRecomputeSkips adds entries to journey l's recompute skip set.
func (p *Pipeline) addRecomputeSkips(l *live, entries []skipEntry) error {
	m := p.metas[l.c.ID]
	if m == nil {
		return nil
	}
	for _, en := range entries {
		if _, ok := l.rskip[en.ID]; !ok {
			m.RecomputeSkip = append(m.RecomputeSkip, en)
		}
	}
	p.restoreRecomputeSkips(l.c.ID, m)
	return p.putMeta(l.c.ID, m)
}

// restoreRecomputeSkips hands journey id's recompute skip set in m to the
// engine and notes when it can next expire.
func (p *Pipeline) restoreRecomputeSkips(id primitive.ObjectID, m *journeyMeta) {
	if len(m.RecomputeSkip) == 0 {
		p.engine.setRecomputeSkip(id, nil)
		return
	}
	set := make(map[primitive.ObjectID]struct{}, len(m.RecomputeSkip))
	for _, en := range m.RecomputeSkip {
		set[en.ID] = struct{}{}
		p.noteRecomputeSkip(en.Stored + p.cfg.SkewMargin.Milliseconds())
	}
	p.engine.setRecomputeSkip(id, set)
}

// noteRecomputeSkip lowers rskipUntil to t.
func (p *Pipeline) noteRecomputeSkip(t int64) {
	if p.rskipUntil == 0 || t < p.rskipUntil {
		p.rskipUntil = t
	}
}

// expireRecomputeSkips drops the entries the stream has moved past: it
// just delivered a statement stored at stored.
func (p *Pipeline) expireRecomputeSkips(stored int64) {
	p.rskipUntil = 0
	margin := p.cfg.SkewMargin.Milliseconds()
	for id, m := range p.metas {
		if len(m.RecomputeSkip) == 0 {
			continue
		}
		kept := m.RecomputeSkip[:0]
		for _, en := range m.RecomputeSkip {
			if stored <= en.Stored+margin {
				kept = append(kept, en)
			}
		}
		if len(kept) == len(m.RecomputeSkip) {
			p.restoreRecomputeSkips(id, m)
			continue
		}
		m.RecomputeSkip = kept
		if len(kept) == 0 {
			m.RecomputeSkip = nil
		}
		p.restoreRecomputeSkips(id, m)
		if err := p.putMeta(id, m); err != nil {
			p.log.Error("cannot store journey state", "journey", id.Hex(), "err", err)
		}
	}
}

// setRecomputeSkip makes the engine ignore, for journey id, the statements
// in skip when the stream delivers them; nil clears it.
func (e *Engine) setRecomputeSkip(id primitive.ObjectID, skip map[primitive.ObjectID]struct{}) {
	if l, ok := e.journeys[id]; ok {
		l.rskip = skip
	}
}
