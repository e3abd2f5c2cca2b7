package processor

import (
	"encoding/binary"
	"fmt"
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

	if len(l.c.Outcomes) == 0 || a.CompletedAt < l.quietBefore {
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
	ds, err := newDeliveries(l.c, en.owner, &en.rec, time.Now())
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
