package processor

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// recalcCommitEvery bounds the statements a recalculation applies per
// (checkpoint-less) commit, and so the memory it holds.
const recalcCommitEvery = 1000

// recalculate rebuilds journey c's progress from every stored eligible
// statement, in (stored, _id) order, then hands over to live processing.
//
// It runs in the pipeline's goroutine at the position of the change that
// asked for it, so the stream waits: every later event applies to the
// rebuilt progress. The scan reads the collection as it is now, which may
// include statements inserted after that position, which the stream will
// still deliver. Those must not count twice. Every statement the stream
// delivers from here on was inserted after the latest statement it has
// delivered so far (or, just after the stream was opened, after the latest
// stored one), and an LRS stamps stored at insertion, so such a statement
// is stored no earlier than that point less SkewMargin (the tolerated clock
// skew between the LRS's writers). The scan remembers the statements it
// applied from that cutoff on, and the engine skips them when the stream
// delivers them; once the stream delivers a statement stored more than
// SkewMargin after the last remembered one, none can follow and the set is
// dropped.
//
// The scan's intermediate commits do not advance the checkpoint, and the
// journey is marked recalculating until the final state is committed with
// the position's checkpoint; a crash in between replays the change and
// starts the recalculation over (see journeyMeta.Recalculating).
func (p *Pipeline) recalculate(ctx context.Context, c *journey.Compiled, m *journeyMeta) error {
	p.stats.Recalculations.Add(1)
	start := p.cfg.Now()
	log := p.log.With("journey", c.ID.Hex())
	log.Info("recalculating journey", "version", c.Version, "quietBefore", m.QuietBefore)

	// Commit what came before the event with its checkpoint, so that the
	// intermediate commits below never carry a checkpoint past the event.
	if err := p.commit(ctx); err != nil {
		return err
	}
	m.Recalculating = true
	m.Skip, m.SkipUntil = nil, 0
	p.engine.SetJourney(c, m.QuietBefore)
	p.engine.SetSkip(c.ID, nil) // a previous recalculation's set: the scan applies everything
	p.engine.ResetJourney(c.ID)
	if err := p.putMeta(c.ID, m); err != nil {
		return err
	}
	if err := p.engine.Commit(nil); err != nil {
		return err
	}

	margin := p.cfg.SkewMargin.Milliseconds()
	cutoff := max(p.cp.LastStored, p.floorStored) - margin
	var scanMax int64
	q := lrs.ScanQuery{Organisation: c.Organisation, Sources: c.Sources}
	total, err := p.cfg.Scanner.Count(ctx, q)
	if err != nil {
		return p.recalcFailed(ctx, c, fmt.Errorf("count statements: %w", err))
	}
	status := journey.RecalculateStatus{InProgress: true, TotalCount: total, RemainingCount: total, StartedAt: &start}
	p.writeStatus(ctx, c.ID, status)
	p.stats.RecalcRemaining.Store(total)

	var skip []primitive.ObjectID
	lastStatus := p.cfg.Now()
	var done int64
	var applyErr error // a failure of the engine, not of the scan
	err = p.cfg.Scanner.Scan(ctx, q, func(doc bson.Raw) error {
		res, err := p.engine.StatementFor(c.ID, doc)
		if err != nil {
			applyErr = err
			return err
		}
		// Only statements that match a waypoint need skipping: one that
		// matches none has no effect whenever it is applied. (Whether it
		// counted is no guide: applied again later, against later
		// progress, it might.)
		if s := res.Header.Stored; s >= cutoff && res.Matched {
			skip = append(skip, res.Header.ID)
			scanMax = max(scanMax, s)
		}
		done++
		if p.engine.Pending() >= recalcCommitEvery {
			if err := p.engine.Commit(nil); err != nil {
				applyErr = err
				return err
			}
		}
		if now := p.cfg.Now(); now.Sub(lastStatus) >= 500*time.Millisecond {
			lastStatus = now
			status.RemainingCount = max(total-done, 0)
			p.stats.RecalcRemaining.Store(status.RemainingCount)
			p.writeStatus(ctx, c.ID, status)
		}
		return nil
	})
	if applyErr != nil {
		return applyErr
	}
	if err != nil {
		return p.recalcFailed(ctx, c, fmt.Errorf("scan statements: %w", err))
	}

	// The final state goes into the pending batch, to be committed with
	// the checkpoint of the event that started the recalculation.
	end := p.cfg.Now()
	m.Recalculating = false
	m.Skip = skip
	if len(skip) > 0 {
		m.SkipUntil = scanMax + margin
		p.noteSkipUntil(m.SkipUntil)
	}
	p.engine.SetSkip(c.ID, m.skipSet())
	if err := p.putMeta(c.ID, m); err != nil {
		return err
	}
	status.InProgress, status.RemainingCount, status.TotalCount = false, 0, done
	status.FinishedAt = &end
	p.writeStatus(ctx, c.ID, status)
	p.stats.RecalcRemaining.Store(0)
	log.Info("recalculated journey", "statements", done, "took", end.Sub(start).Round(time.Millisecond))
	return nil
}

// recalcFailed reports a recalculation that could not read the statements.
// The journey stays marked recalculating (suspended) and the error is
// returned: the pipeline starts over from its checkpoint, which replays the
// change, and so the recalculation.
func (p *Pipeline) recalcFailed(ctx context.Context, c *journey.Compiled, err error) error {
	p.engine.Suspend(c.ID)
	now := p.cfg.Now()
	p.writeStatus(ctx, c.ID, journey.RecalculateStatus{InProgress: false, FinishedAt: &now, Error: err.Error()})
	return fmt.Errorf("recalculate journey %s: %w", c.ID.Hex(), err)
}

// writeStatus records a recalculation's status on the journey document, for
// the API. It is best effort: the status is informational, and the change
// event it causes is recognised as not changing the journey's version.
func (p *Pipeline) writeStatus(ctx context.Context, id primitive.ObjectID, s journey.RecalculateStatus) {
	if err := p.cfg.JourneyStore.SetRecalculateStatus(ctx, id, s); err != nil {
		p.log.Warn("cannot write recalculation status", "journey", id.Hex(), "err", err)
	}
}

// recalculateAll rebuilds every active journey of the journeys collection
// (a fresh start or a lost stream history). Completions by statements
// stored before quietBefore do not notify.
func (p *Pipeline) recalculateAll(ctx context.Context, quietBefore int64) error {
	p.quietBefore = quietBefore
	defer func() { p.quietBefore = 0 }()
	return p.reloadJourneys(ctx, true)
}

// reloadJourneys brings the engine's journeys in line with the journeys
// collection as it is now: when the collection was replaced wholesale
// (dropped, renamed), or, with all set, to recalculate every active one.
func (p *Pipeline) reloadJourneys(ctx context.Context, all bool) error {
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
		if m := p.metas[id]; m != nil && all {
			m.Version = "" // differs from any digest: recalculate
		}
		if err := p.journeyChanged(ctx, doc, 0); err != nil {
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
