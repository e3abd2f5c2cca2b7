package source

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// read returns the next event of the open stream, waiting for one if block
// is set. ok is false when there is none (only if !block) or when the
// stream failed transiently (err nil, s.stream nil).
func (s *Source) read(ctx context.Context, block bool) (Event, bool, error) {
	for {
		if !s.poll(ctx, block) {
			err := s.stream.Err()
			// A stream that stops without an error has ended: the embedded
			// engine was closed, or the server closed the cursor.
			if err == nil && ((s.embedded && block) || (!s.embedded && s.stream.ID() == 0)) {
				err = errStreamEnded
			}
			if err != nil {
				return Event{}, false, s.fail(ctx, err, true)
			}
			s.failures = 0
			// An empty getMore still moves MongoDB's post-batch resume
			// token past the changes the server filtered out. Not while a
			// split event is incomplete: a reopen must start before its
			// first fragment.
			if t := s.stream.ResumeToken(); t != nil && len(s.fragments) == 0 && !bytes.Equal(t, s.token) {
				s.token = bytes.Clone(t)
				s.advanced = true
			}
			if ev, ok := s.checkpoint(); ok || !block {
				return ev, ok, nil
			}
			continue
		}
		s.failures = 0
		var raw bson.Raw
		if err := s.stream.Decode(&raw); err != nil {
			return Event{}, false, s.fail(ctx, fmt.Errorf("decode change event: %w", err), true)
		}
		raw, whole, err := s.assemble(raw)
		if err != nil {
			return Event{}, false, s.fail(ctx, err, true)
		}
		if !whole {
			continue // more fragments of a split event follow
		}
		if raw, err = s.postImage(ctx, raw); err != nil {
			return Event{}, false, s.fail(ctx, err, true)
		}
		p := scan(raw)
		kind := p.classify(s.db, s.cfg.Statements, s.cfg.Journeys)
		ev := p.event(kind)
		switch kind {
		case KindIgnore:
			s.ignored.Add(1)
			s.token, s.advanced = ev.Token, true
			if ev, ok := s.checkpoint(); ok {
				return ev, true, nil
			}
			continue
		case KindInvalidate:
			s.invalidate(ctx, &ev)
		default:
			s.token = ev.Token
		}
		s.advanced = false
		s.events.Add(1)
		return ev, true, nil
	}
}

// poll advances the stream. On MongoDB even a blocking read is one getMore
// (which the server holds for up to its await time, 1s by default), so
// that read regains control to note the post-batch resume token.
func (s *Source) poll(ctx context.Context, block bool) bool {
	switch {
	case s.embedded && block:
		return s.stream.Next(ctx)
	case !s.embedded && !block && s.stream.RemainingBatchLength() == 0:
		return false
	}
	return s.stream.TryNext(ctx)
}

// checkpoint returns a KindCheckpoint event when the position moved past
// ignored changes and CheckpointInterval has passed since the last one.
func (s *Source) checkpoint() (Event, bool) {
	if !s.advanced || s.token == nil || time.Since(s.lastCkpt) < s.cfg.CheckpointInterval {
		return Event{}, false
	}
	s.advanced = false
	s.lastCkpt = time.Now()
	return Event{Kind: KindCheckpoint, Token: s.token}, true
}

// invalidate handles an invalidate event: the stream is over, and the next
// read reopens it just after the event.
func (s *Source) invalidate(ctx context.Context, ev *Event) {
	s.inv.Add(1)
	if s.embedded {
		// lungo's invalidate token ({ts: "drop"}) names no oplog entry and
		// cannot be resumed from. Reopening after the change before it (the
		// dropDatabase) is equivalent there: lungo invalidates only when it
		// reads that entry, so a stream started after it does not repeat
		// the invalidation.
		ev.Token = s.token
	} else {
		s.token = ev.Token
	}
	s.log.Warn("source: change stream invalidated (the LRS database was dropped); reopening after the invalidation",
		"database", s.db)
	s.closeStream(ctx)
}
