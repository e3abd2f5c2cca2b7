package processor

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"
)

// completed records the completion of en's current attempt in the pending
// batch: the attempt is archived and, unless the completion is quiet or the
// outcome already fired for this attempt number, its deliveries are queued
// with a fired marker, all in the same batch as the progress itself.
func (e *Engine) completed(en *entry) error {
	e.stats.Completions.Add(1)
	l, a := en.l, &en.rec.Attempt
	b := e.pendingBatch()
	e.sc.encodeBuf = a.AppendBinary(e.sc.encodeBuf[:0])
	b.PutAttempt(l.c.ID, en.owner, a.Number, e.sc.encodeBuf)
	quiet := a.CompletedAt < l.quietBefore
	e.logCompletion(en, quiet)

	if len(l.c.Outcomes) == 0 || quiet {
		return nil
	}
	// The fired marker makes an outcome fire at most once per (journey,
	// owner, attempt number), also when a recalculation completes the same
	// attempt again.
	fk := string(binary.BigEndian.AppendUint32(e.appendEntryKey(l.c.ID, en.owner), a.Number))
	if e.fired[fk] {
		return nil
	}
	fired, err := e.store.Fired(l.c.ID, en.owner, a.Number)
	if err != nil {
		return fmt.Errorf("read fired marker of journey %s: %w", l.c.ID.Hex(), err)
	}
	if fired {
		return nil
	}
	ds, err := newDeliveries(l.c, l.status, en.owner, &en.rec, time.Now())
	if err != nil {
		e.log.Error("cannot build callback", "journey", l.c.ID.Hex(), "err", err)
		return nil
	}
	for _, d := range ds {
		v, err := d.Encode()
		if err != nil {
			return err
		}
		b.PutOutbox([]byte(d.ID), v)
		e.stats.Deliveries.Add(1)
		if e.onDurable != nil {
			e.queued = append(e.queued, d)
		}
	}
	b.MarkFired(l.c.ID, en.owner, a.Number)
	e.fired[fk] = true
	return nil
}

// logCompletion logs the completion of en's current attempt at debug, with
// history=true when a recalculation found it in history (a recalculation
// may find millions). It is at debug because live completions come at tens
// of thousands a second under load: the daemon summarises them at info once
// a minute (cmd/journeysd, "activity") and counts them in
// journeys_completions_total. The owner is named by the id of its progress
// document, which identifies it in the API without putting a learner's
// e-mail address in the logs, and by its display name where the tracking
// kind has one.
func (e *Engine) logCompletion(en *entry, quiet bool) {
	ctx := context.Background()
	if !e.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	a := &en.rec.Attempt
	attrs := []slog.Attr{
		slog.String("journey", en.l.c.ID.Hex()),
		slog.String("progress", ProgressID(en.l.c.ID, en.owner).Hex()),
		slog.Any("attempt", a.Number),
		slog.Time("completedAt", time.UnixMilli(a.CompletedAt).UTC()),
	}
	if en.rec.Display != "" {
		attrs = append(attrs, slog.String("display", en.rec.Display))
	}
	if quiet {
		attrs = append(attrs, slog.Bool("history", true))
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "journey completed", attrs...)
}
