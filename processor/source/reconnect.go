package source

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// connect opens the stream at s.token, waiting the backoff first after a
// failure and retrying transient failures until ctx ends.
func (s *Source) connect(ctx context.Context) error {
	for {
		if s.failures > 0 {
			if err := sleep(ctx, s.backoff()); err != nil {
				return err
			}
		}
		err := s.watch(ctx)
		if err == nil {
			if s.opened {
				s.reconnects.Add(1)
				s.log.Info("source: change stream reopened", "resumed", s.token != nil)
			}
			s.opened = true
			s.ready.Store(true)
			return nil
		}
		if err := s.fail(ctx, err, false); err != nil {
			return err
		}
	}
}

// watch opens the change stream at s.token (just after it; at the current
// end when nil).
func (s *Source) watch(ctx context.Context) error {
	// A journey update event carries the whole journey: its post-image, or
	// the journey as it is now (see Config.FullDocument). The embedded
	// engine ignores the option and always sends it.
	opts := options.ChangeStream().SetFullDocument(s.cfg.FullDocument)
	switch {
	case s.token != nil:
		// startAfter rather than resumeAfter: it also accepts the token of
		// an invalidate event, which is where a stream reopens after one.
		opts.SetStartAfter(s.token)
	case s.startAt != nil:
		opts.SetStartAtOperationTime(s.startAt)
	}
	pipeline := mongo.Pipeline{}
	if s.cfg.ServerSideFilter {
		pipeline = Pipeline(s.cfg.Statements, s.cfg.Journeys)
	}
	if !s.embedded {
		pipeline = append(pipeline, shapeStages(s.cfg.Journeys, s.cfg.SplitLargeEvents)...)
	}
	s.fragments = s.fragments[:0] // a reopened stream resends a split event whole
	cs, err := s.cfg.DB.Watch(ctx, pipeline, opts)
	if err != nil {
		return fmt.Errorf("open change stream: %w", err)
	}
	s.stream = cs
	if s.token == nil {
		// MongoDB (4.0.7+) returns a post-batch resume token with the
		// opening aggregate: the position is known before any event. The
		// embedded engine has none; startAt stands in for it.
		s.token = bytes.Clone(cs.ResumeToken())
	}
	return nil
}

// fail closes the failed stream and decides what err means: nil for a
// transient failure (the caller reopens), otherwise the error to return.
// reading says the error ended an open stream (see classify).
func (s *Source) fail(ctx context.Context, err error, reading bool) error {
	s.closeStream(ctx)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	switch classify(err, s.embedded, reading) {
	case historyLost:
		s.lost.Add(1)
		s.log.Error("source: change stream cannot resume: history lost", "error", err)
		return fmt.Errorf("%w: %w", ErrHistoryLost, err)
	case permanent:
		return fmt.Errorf("source: %w", tooLarge(err, s.cfg.SplitLargeEvents))
	}
	s.failures++
	s.failed.Add(1)
	s.log.Warn("source: change stream failed; reopening", "error", err, "attempt", s.failures)
	return nil
}

// closeStream drops the current stream, if any. Its cursor is killed on
// the server even when ctx has ended, within a bound.
func (s *Source) closeStream(ctx context.Context) {
	s.ready.Store(false)
	if s.stream == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.stream.Close(ctx); err != nil {
		s.log.Debug("source: close failed change stream", "error", err)
	}
	s.stream = nil
}

// backoff returns the wait before the next reopen attempt: MinBackoff
// doubled per consecutive failure, capped at MaxBackoff, with the upper
// half drawn at random.
func (s *Source) backoff() time.Duration {
	d := s.cfg.MinBackoff
	for i := 1; i < s.failures && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
