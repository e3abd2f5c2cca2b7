package processor

import (
	"context"
	"log/slog"
	"sync"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// statusWriter records recalculations' statuses on their journey documents
// (recalculateStatus), for the API, from a goroutine of its own so that the
// pipeline never waits on the LRS database for them. Only the latest status
// of each journey is written; the writes are best effort (the status is
// informational, and the change event each causes is recognised as not
// changing the journey, see actDocOnly).
type statusWriter struct {
	coll lungo.ICollection
	log  *slog.Logger

	mu     sync.Mutex
	latest map[primitive.ObjectID]journey.RecalculateStatus
	wake   chan struct{}
}

func newStatusWriter(coll lungo.ICollection, log *slog.Logger) *statusWriter {
	return &statusWriter{coll: coll, log: log, latest: map[primitive.ObjectID]journey.RecalculateStatus{}, wake: make(chan struct{}, 1)}
}

// set queues s as journey id's status, replacing one not written yet.
func (w *statusWriter) set(id primitive.ObjectID, s journey.RecalculateStatus) {
	w.mu.Lock()
	w.latest[id] = s
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// start runs the writer until the returned stop is called; stop writes
// what is still queued.
func (w *statusWriter) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				w.flush(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		w.flush(context.WithoutCancel(ctx))
	}
}

func (w *statusWriter) flush(ctx context.Context) {
	w.mu.Lock()
	batch := w.latest
	w.latest = map[primitive.ObjectID]journey.RecalculateStatus{}
	w.mu.Unlock()
	for id, s := range batch {
		_, err := w.coll.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "recalculateStatus", Value: s}}}})
		if err != nil && ctx.Err() == nil {
			w.log.Warn("cannot write recalculation status", "journey", id.Hex(), "err", err)
		}
	}
}

// publishStatus makes s journey id's recalculateStatus: on its document
// (asynchronously) and in the callback bodies built from now on.
func (p *Pipeline) publishStatus(id primitive.ObjectID, s journey.RecalculateStatus) {
	p.engine.SetStatus(id, s)
	p.status.set(id, s)
}

// settleStatus corrects, at start, the status of a journey whose document
// says a recalculation is in progress when none runs and none is asked
// for: the daemon stopped after a recalculation finished but before its
// last status was written (status writes are not part of the commits).
func (p *Pipeline) settleStatus(c *journey.Compiled, m *journeyMeta) {
	s := c.Doc.RecalculateStatus
	if !s.InProgress || p.jobs[c.ID] != nil || !c.Active {
		return
	}
	if req, _ := recalculateRequest(m.Doc); !req.IsZero() && req != m.Request {
		return // the stream will deliver the request
	}
	now := p.cfg.Now()
	s.InProgress, s.RemainingCount, s.ScanRate = false, 0, 0
	if s.FinishedAt == nil {
		s.FinishedAt = &now
	}
	p.publishStatus(c.ID, s)
}
