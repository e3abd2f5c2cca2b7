package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/journeys/journeys/internal/redact"
	"github.com/journeys/journeys/processor/outbox"
)

// attempt runs one delivery attempt for it, then updates the schedule.
func (d *Dispatcher) attempt(ctx context.Context, it *item) {
	defer d.attempts.Done()
	next := d.try(ctx, it.id)
	d.mu.Lock()
	d.finish(it, next)
	d.mu.Unlock()
	d.poke()
}

// try reads the pending delivery id, attempts it and durably records the
// outcome. It returns when the delivery is due again, or the zero time when
// it is no longer pending or the attempt was abandoned at shutdown.
func (d *Dispatcher) try(ctx context.Context, id string) time.Time {
	v, ok, err := d.readPending(id)
	if err != nil {
		d.cfg.Logger.Error("cannot read outbox record", "id", id, "err", err)
		return d.cfg.Now().Add(d.cfg.MinBackoff)
	}
	if !ok {
		// Delivered or dead-lettered already, by an attempt that raced a
		// Replay (see item.requeue).
		return time.Time{}
	}
	del, err := outbox.Decode(v)
	if err != nil {
		// Left in the store for an operator, as load does.
		d.cfg.Logger.Error("skipping unreadable outbox record", "id", id, "err", err)
		return time.Time{}
	}
	now := d.cfg.Now()
	began := time.Now()
	ans := d.post(ctx, del, now)
	if ans.err != nil && ctx.Err() != nil {
		// Abandoned by the drain: nothing is recorded, so the delivery is
		// pending exactly as before and the next Run attempts it again.
		return time.Time{}
	}
	d.stats.observe(time.Since(began))
	return d.record(id, del, classify(ans.status, ans.err), ans, now)
}

// record commits the outcome of an attempt made at now and returns when
// the delivery is due again (zero when it left the outbox). If the commit
// fails, the store still holds the record as it was before the attempt, so
// the attempt is made again after a backoff.
func (d *Dispatcher) record(id string, del *outbox.Delivery, v verdict, ans answer, now time.Time) time.Time {
	del.Tries++
	del.LastStatus = ans.status
	del.LastError = ""
	if ans.err != nil {
		// Transport errors quote the URL, credentials included; the
		// error is kept, listed by the API and logged, so it is redacted.
		del.LastError = redact.Text(ans.err.Error())
	}
	var next time.Time
	if v == retry {
		deadline := del.CreatedAt.Add(d.cfg.RetryWindow)
		if now.Before(deadline) {
			next = now.Add(backoff(d.cfg.MinBackoff, d.cfg.MaxBackoff, del.Tries, ans.retryAfter))
			// The last retry happens at the end of the window rather
			// than never.
			if next.After(deadline) {
				next = deadline
			}
			del.NextAttemptAt = next
		} else {
			v = dead
			del.LastError += fmt.Sprintf(" (retry window of %s expired)", d.cfg.RetryWindow)
		}
	}
	if err := d.commit(id, del, v, now); err != nil {
		d.cfg.Logger.Error("cannot record callback attempt; will attempt it again", "id", id, "err", err)
		return now.Add(backoff(d.cfg.MinBackoff, d.cfg.MaxBackoff, del.Tries, 0))
	}
	d.stats.count(v)
	if v != delivered && v != retry {
		d.deadLetters.Add(1)
	}
	d.logOutcome(id, del, v, ans, now, next)
	return next
}

// commit writes the outcome v of an attempt on del, the pending delivery
// stored under id: removed when delivered, updated when retried, moved to
// the dead letters (dated now) otherwise.
func (d *Dispatcher) commit(id string, del *outbox.Delivery, v verdict, now time.Time) error {
	b := d.store.NewBatch()
	defer b.Close()
	key := []byte(id)
	b.DeleteOutbox(key)
	if v != delivered {
		if v != retry {
			del.DeadAt = &now
		}
		enc, err := del.Encode()
		if err != nil {
			return err
		}
		if v == retry {
			b.PutOutbox(key, enc)
		} else {
			b.PutDead(key, enc)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("commit %s outcome: %w", v, err)
	}
	return nil
}

// readPending returns a copy of the pending delivery stored under id.
func (d *Dispatcher) readPending(id string) ([]byte, bool, error) {
	v, ok, err := d.store.Outbox([]byte(id))
	if err != nil {
		return nil, false, fmt.Errorf("read outbox record: %w", err)
	}
	return v, ok, nil
}

// logOutcome logs the committed outcome v of an attempt made at now:
// deliveries at debug; a failed attempt that will be retried at warn with
// its status, reason and next attempt time, at most once per target per
// warnInterval (the lines left out are counted in "suppressed"); a dead
// letter at error, always. URLs are redacted.
func (d *Dispatcher) logOutcome(id string, del *outbox.Delivery, v verdict, ans answer, now, next time.Time) {
	log := d.cfg.Logger.With("id", id, "journey", del.Journey.Hex(), "attempt", del.Attempt,
		"url", redact.URL(del.URL), "tries", del.Tries, "status", ans.status)
	switch v {
	case delivered:
		log.Debug("callback delivered")
	case retry:
		ok, suppressed := d.warns.allow(hostOf(del.URL), now)
		if !ok {
			log.Debug("callback attempt failed; will retry", "reason", del.LastError, "next_attempt", next)
			return
		}
		log.Warn("callback attempt failed; will retry", "reason", del.LastError,
			"next_attempt", next, "retry_in", next.Sub(now), "suppressed", suppressed)
	default:
		log.Error("callback dead-lettered", "result", v.String(), "reason", del.LastError)
	}
}
