package processor

import (
	"context"
	"log/slog"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// statusWriter records recalculations' statuses on their journey documents
// (recalculateStatus), for the API, from a goroutine of its own so that the
// pipeline never waits on the LRS for them. Only the latest status of each
// journey is written; the writes are best effort (the status is
// informational, and the change event each causes is recognised as not
// changing the journey, see actDocOnly). All queued statuses are written
// together when the store can (StatusesSetter: one bulk write, one update
// per distinct status), so that 1,000 journeys recalculating together cost
// one write a second, not 1,000, also when their startedAt differ.
type statusWriter struct {
	store JourneyStore
	log   *slog.Logger

	mu     sync.Mutex
	latest map[primitive.ObjectID]journey.RecalculateStatus
	wake   chan struct{}
}

func newStatusWriter(store JourneyStore, log *slog.Logger) *statusWriter {
	return &statusWriter{store: store, log: log, latest: map[primitive.ObjectID]journey.RecalculateStatus{}, wake: make(chan struct{}, 1)}
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
	if many, ok := w.store.(StatusesSetter); ok {
		w.report(many.SetRecalculateStatuses(ctx, batch), ctx, len(batch))
		return
	}
	for id, st := range batch {
		w.report(w.store.SetRecalculateStatus(ctx, id, st), ctx, 1)
	}
}

func (w *statusWriter) report(err error, ctx context.Context, n int) {
	if err != nil && ctx.Err() == nil {
		w.log.Warn("cannot write recalculation status", "journeys", n, "err", err)
	}
}

// publishStatus makes s journey id's recalculateStatus: on its document
// (asynchronously) and in the callback bodies built from now on.
func (p *Pipeline) publishStatus(id primitive.ObjectID, s journey.RecalculateStatus) {
	p.engine.SetStatus(id, s)
	p.status.set(id, s)
}

// settleStatuses corrects, at start, the status of the journeys whose
// document says a recalculation is in progress when none runs and none is
// asked for: the daemon stopped after a recalculation finished but before
// its last status was written (status writes are not part of the
// commits). It reads the documents as they are now; a failure only leaves
// the statuses as they are.
func (p *Pipeline) settleStatuses(ctx context.Context) {
	err := p.cfg.JourneyStore.Journeys(ctx, primitive.NilObjectID, func(doc bson.Raw) error {
		id, _ := doc.Lookup("_id").ObjectIDOK()
		m := p.metas[id]
		if m == nil || m.Suspended || p.jobs[id] != nil {
			return nil
		}
		if req, _ := recalculateRequest(doc); !req.IsZero() && req != m.Request {
			return nil // the stream will deliver the request
		}
		var j struct {
			IsActive *bool                     `bson:"isActive"`
			Status   journey.RecalculateStatus `bson:"recalculateStatus"`
		}
		if bson.Unmarshal(doc, &j) != nil || !j.Status.InProgress || j.IsActive != nil && !*j.IsActive {
			return nil
		}
		s := j.Status
		now := p.cfg.Now()
		s.InProgress, s.RemainingCount, s.ScanRate = false, 0, 0
		if s.FinishedAt == nil {
			s.FinishedAt = &now
		}
		p.publishStatus(id, s)
		return nil
	})
	if err != nil {
		p.log.Warn("cannot check recalculation statuses", "err", err)
	}
}
