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
// changing the journey, see actDocOnly). The progress of the journeys that
// share a scan pass is written with one updateMany per distinct value, so
// that 1,000 journeys recalculating together cost one write a second, not
// 1,000.
type statusWriter struct {
	coll lungo.ICollection
	log  *slog.Logger

	mu       sync.Mutex
	latest   map[primitive.ObjectID]journey.RecalculateStatus
	progress []progressGroup
	wake     chan struct{}
}

// progressGroup is the running-scan progress of journeys whose counts are
// equal.
type progressGroup struct {
	ids              []primitive.ObjectID
	total, remaining int64
	rate             float64
}

func newStatusWriter(coll lungo.ICollection, log *slog.Logger) *statusWriter {
	return &statusWriter{coll: coll, log: log, latest: map[primitive.ObjectID]journey.RecalculateStatus{}, wake: make(chan struct{}, 1)}
}

// set queues s as journey id's status, replacing one not written yet.
func (w *statusWriter) set(id primitive.ObjectID, s journey.RecalculateStatus) {
	w.mu.Lock()
	w.latest[id] = s
	// A progress update queued before must not overwrite s.
	for i := range w.progress {
		g := &w.progress[i]
		for k, gid := range g.ids {
			if gid == id {
				g.ids = append(g.ids[:k:k], g.ids[k+1:]...)
				break
			}
		}
	}
	w.mu.Unlock()
	w.poke()
}

// setProgress queues the progress of the running scans, replacing the
// progress queued before.
func (w *statusWriter) setProgress(groups []progressGroup) {
	w.mu.Lock()
	w.progress = groups
	w.mu.Unlock()
	w.poke()
}

func (w *statusWriter) poke() {
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
	batch, groups := w.latest, w.progress
	w.latest, w.progress = map[primitive.ObjectID]journey.RecalculateStatus{}, nil
	w.mu.Unlock()
	for _, g := range groups {
		if len(g.ids) == 0 {
			continue
		}
		_, err := w.coll.UpdateMany(ctx,
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: g.ids}}}},
			bson.D{{Key: "$set", Value: bson.D{
				{Key: "recalculateStatus.inProgress", Value: true},
				{Key: "recalculateStatus.totalCount", Value: g.total},
				{Key: "recalculateStatus.remainingCount", Value: g.remaining},
				{Key: "recalculateStatus.scanRate", Value: g.rate},
			}}})
		if err != nil && ctx.Err() == nil {
			w.log.Warn("cannot write recalculation progress", "journeys", len(g.ids), "err", err)
		}
	}
	// Journeys started or finished together share their status: one
	// updateMany per distinct status.
	same := map[string][]primitive.ObjectID{}
	values := map[string]journey.RecalculateStatus{}
	var keys []string
	for id, st := range batch {
		b, err := bson.Marshal(st)
		if err != nil {
			continue
		}
		k := string(b)
		if _, ok := same[k]; !ok {
			keys = append(keys, k)
			values[k] = st
		}
		same[k] = append(same[k], id)
	}
	for _, k := range keys {
		_, err := w.coll.UpdateMany(ctx,
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: same[k]}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "recalculateStatus", Value: values[k]}}}})
		if err != nil && ctx.Err() == nil {
			w.log.Warn("cannot write recalculation status", "journeys", len(same[k]), "err", err)
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
