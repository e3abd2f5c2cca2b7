package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/processor/source"
	"github.com/journeys/journeys/state"
)

// PipelineConfig configures a Pipeline.
type PipelineConfig struct {
	// Store is the state store.
	Store *state.Store
	// DB is the LRS database; Statements and Journeys name its collections.
	DB                   lungo.IDatabase
	Statements, Journeys string
	// ServerSideFilter sends the change stream's $match to the server; only
	// for a real MongoDB (lungo refuses pipelines).
	ServerSideFilter bool
	// BatchSize bounds the statements applied per commit (default 1000).
	// Commits also happen whenever the stream has nothing more buffered,
	// so latency stays low when traffic is light (group commit).
	BatchSize int
	// SkewMargin bounds the clock skew between the LRS's writers and
	// MongoDB's cluster time, used to hand a recalculation over to live
	// processing (default 2 minutes).
	SkewMargin time.Duration
	// OnDurable receives the deliveries of each commit once it is durable.
	OnDurable func([]outbox.Delivery)
	// Logger receives the pipeline's logs; nil discards them.
	Logger *slog.Logger
	// Now is the wall clock (tests may replace it).
	Now func() time.Time
}

// Pipeline tails the LRS change stream and applies it to the engine: the
// daemon's main job. Statement inserts advance progress; changes to journey
// documents take effect at their position in the stream, recalculating a
// journey's progress from history when its definition changed.
//
// Everything a run of events changes is committed in one batch with the
// resume token of its last event, so a restart resumes exactly after the
// last committed event: no statement's effect is lost or applied twice.
type Pipeline struct {
	cfg    PipelineConfig
	log    *slog.Logger
	engine *Engine
	src    *source.Source
	// live is src, for readers on other goroutines (readiness, metrics).
	live  atomic.Pointer[source.Source]
	metas map[primitive.ObjectID]*journeyMeta
	cp    checkpoint

	// skipUntil is the earliest SkipUntil of the journeys with a skip set
	// (0 when none), so that expiring skip sets costs one comparison per
	// statement.
	skipUntil int64
	// floorStored is the largest stored time (Unix ms) in the statements
	// collection when the stream was opened: every statement the stream
	// delivers was inserted after it (see recalculate).
	floorStored int64
	// quietBefore, when not 0, replaces the recalculation start time as
	// the point before which completions do not notify (recalculateAll).
	quietBefore int64

	running atomic.Bool
	stats   PipelineStats
}

// PipelineStats are the pipeline's counters and gauges, for metrics.
type PipelineStats struct {
	// Commits counts durable commits; CommitSeconds sums their duration.
	Commits atomic.Uint64
	// LastEventTime is the cluster time (Unix seconds) of the last applied
	// event; LastCommit the wall time (Unix ms) of the last commit.
	LastEventTime atomic.Int64
	LastCommit    atomic.Int64
	// Recalculations counts recalculations started; RecalcRemaining is the
	// number of statements left in the running one.
	Recalculations  atomic.Uint64
	RecalcRemaining atomic.Int64
	// HistoryLost counts restarts of the stream after its history was lost.
	HistoryLost atomic.Uint64
	// CommitDuration, when set, observes each commit's duration in seconds.
	CommitDuration func(seconds float64)
}

// NewPipeline returns a pipeline; Run starts it.
func NewPipeline(cfg PipelineConfig) (*Pipeline, error) {
	if cfg.Store == nil || cfg.DB == nil {
		return nil, errors.New("pipeline: store and database are required")
	}
	if cfg.Statements == "" {
		cfg.Statements = "statements"
	}
	if cfg.Journeys == "" {
		cfg.Journeys = "journeys"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.SkewMargin <= 0 {
		cfg.SkewMargin = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{
		cfg:    cfg,
		log:    log,
		engine: NewEngine(cfg.Store, Options{Logger: log, OnDurable: cfg.OnDurable}),
		metas:  map[primitive.ObjectID]*journeyMeta{},
	}, nil
}

// Engine returns the pipeline's engine (for its statistics).
func (p *Pipeline) Engine() *Engine { return p.engine }

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() *PipelineStats { return &p.stats }

// StreamStats returns the counters of the current change stream (zero
// before it is opened).
func (p *Pipeline) StreamStats() source.Stats {
	if src := p.live.Load(); src != nil {
		return src.Stats()
	}
	return source.Stats{}
}

func (p *Pipeline) setSource(src *source.Source) {
	p.src = src
	p.live.Store(src)
}

// Ready reports nil when the pipeline is running on a live stream.
func (p *Pipeline) Ready() error {
	if !p.running.Load() {
		return errors.New("pipeline not running")
	}
	if src := p.live.Load(); src == nil || !src.Ready() {
		return errors.New("change stream not connected")
	}
	return nil
}

// Run processes the stream until ctx is cancelled, then commits what it
// applied and returns nil. A failure (the LRS database unreachable during a
// recalculation, a state store error) is logged and the pipeline starts
// over from its last checkpoint after a capped, growing pause; meanwhile
// Ready reports it not ready.
func (p *Pipeline) Run(ctx context.Context) error {
	const minPause, maxPause = time.Second, 30 * time.Second
	pause := minPause
	for {
		start := p.cfg.Now()
		err := p.run(ctx)
		if ctx.Err() != nil {
			return err
		}
		p.log.Error("pipeline failed: restarting from the last checkpoint", "err", err, "in", pause)
		p.reset()
		if p.cfg.Now().Sub(start) > maxPause {
			pause = minPause // it ran for a while: not a tight failure loop
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// reset drops everything held in memory, so that run starts over from what
// the state store holds.
func (p *Pipeline) reset() {
	if err := p.engine.Discard(); err != nil {
		p.log.Warn("discard pending work", "err", err)
	}
	p.engine.forgetJourneys()
	clear(p.metas)
	p.cp = checkpoint{}
	p.skipUntil, p.quietBefore = 0, 0
}

func (p *Pipeline) run(ctx context.Context) error {
	fresh, err := p.load()
	if err != nil {
		return err
	}
	defer func() {
		if p.src != nil {
			p.src.Close(context.WithoutCancel(ctx))
			p.setSource(nil)
		}
	}()
	if err := p.open(ctx, fresh); err != nil {
		return err
	}
	p.running.Store(true)
	defer p.running.Store(false)

	for {
		ev, err := p.src.Next(ctx)
		if err == nil {
			err = p.apply(ctx, ev)
		}
		// Drain what is already buffered, then commit: under load batches
		// grow to BatchSize; when idle every event commits at once.
		for err == nil && p.engine.Pending() < p.cfg.BatchSize {
			var ok bool
			ev, ok, err = p.src.TryNext(ctx)
			if err != nil || !ok {
				break
			}
			err = p.apply(ctx, ev)
		}
		switch {
		case err == nil:
			if err := p.commit(); err != nil {
				return err
			}
		case ctx.Err() != nil:
			// Graceful stop: keep everything applied so far.
			return p.commit()
		case errors.Is(err, source.ErrHistoryLost):
			if err := p.historyLost(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// load reads the checkpoint and the journeys in force at it. fresh is true
// when there is no usable stream position.
func (p *Pipeline) load() (fresh bool, err error) {
	v, ok, err := p.cfg.Store.Checkpoint()
	if err != nil {
		return false, fmt.Errorf("read checkpoint: %w", err)
	}
	if ok {
		if p.cp, err = decodeCheckpoint(v); err != nil {
			p.log.Error("unreadable checkpoint: starting afresh", "err", err)
			p.cp = checkpoint{}
		}
	}
	err = p.cfg.Store.ScanJourneyMeta(func(id state.JourneyID, v []byte) error {
		m, err := decodeMeta(v)
		if err != nil {
			p.log.Error("unreadable journey state: it will be recalculated", "journey", primitive.ObjectID(id).Hex(), "err", err)
			return nil
		}
		p.metas[id] = m
		if m.Recalculating || m.Suspended {
			// Suspended until the stream redelivers the change that
			// started the recalculation (see journeyMeta.Recalculating).
			return nil
		}
		c, err := compileDoc(m.Doc)
		if err != nil {
			p.log.Error("stored journey no longer compiles", "journey", primitive.ObjectID(id).Hex(), "err", err)
			return nil
		}
		p.engine.SetJourney(c, m.QuietBefore)
		p.engine.SetSkip(c.ID, m.skipSet())
		p.noteSkipUntil(m.SkipUntil)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read journey state: %w", err)
	}
	return len(p.cp.Token) == 0, nil
}

// open opens the stream at the checkpoint, or, on a fresh start, at the
// current position followed by a recalculation of every active journey.
func (p *Pipeline) open(ctx context.Context, fresh bool) error {
	token := p.cp.Token
	if fresh {
		token = nil
	}
	src, err := source.Open(ctx, p.sourceConfig(), token)
	if errors.Is(err, source.ErrHistoryLost) {
		p.setSource(nil)
		return p.historyLost(ctx)
	}
	if err != nil {
		return fmt.Errorf("open change stream: %w", err)
	}
	p.setSource(src)
	if err := p.noteFloor(ctx); err != nil {
		return err
	}
	if fresh {
		p.log.Info("no checkpoint: recalculating every active journey")
		if err := p.recalculateAll(ctx, p.cfg.Now().UnixMilli()); err != nil {
			return err
		}
		// Everything stored so far was seen quietly: a later loss of
		// history must not call it back.
		p.cp.LastStored = max(p.cp.LastStored, p.floorStored)
	}
	return nil
}

// noteFloor records the largest stored time in the statements collection,
// just after the stream was opened.
func (p *Pipeline) noteFloor(ctx context.Context) error {
	var doc bson.Raw
	err := p.cfg.DB.Collection(p.cfg.Statements).FindOne(ctx, bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "stored", Value: -1}}).SetProjection(bson.D{{Key: "stored", Value: 1}})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read latest stored time: %w", err)
	}
	if t, ok := doc.Lookup("stored").DateTimeOK(); ok && t > p.floorStored {
		p.floorStored = t
	}
	return nil
}

func (p *Pipeline) sourceConfig() source.Config {
	return source.Config{
		DB:               p.cfg.DB,
		Statements:       p.cfg.Statements,
		Journeys:         p.cfg.Journeys,
		ServerSideFilter: p.cfg.ServerSideFilter,
		Logger:           p.log,
	}
}

// historyLost restarts the stream at the current position and rebuilds
// every active journey from history. Completions by statements stored after
// the last one applied notify: they are news that the lost stream carried.
func (p *Pipeline) historyLost(ctx context.Context) error {
	p.stats.HistoryLost.Add(1)
	p.log.Warn("change stream history lost: recalculating every active journey")
	// What was applied before the loss is complete and p.cp covers it.
	if err := p.commit(); err != nil {
		return err
	}
	if p.src != nil {
		p.src.Close(ctx)
		p.setSource(nil)
	}
	src, err := source.Open(ctx, p.sourceConfig(), nil)
	if err != nil {
		return fmt.Errorf("reopen change stream: %w", err)
	}
	p.setSource(src)
	p.cp.Token = nil
	if err := p.noteFloor(ctx); err != nil {
		return err
	}
	if err := p.recalculateAll(ctx, p.cp.LastStored+1); err != nil {
		return err
	}
	p.cp.LastStored = max(p.cp.LastStored, p.floorStored)
	return nil
}

// apply applies one event to the engine and advances the checkpoint.
func (p *Pipeline) apply(ctx context.Context, ev source.Event) error {
	switch ev.Kind {
	case source.KindStatementInsert:
		if err := p.engine.Statement(ev.Doc); err != nil {
			return err
		}
		s := p.engine.hdr.stored
		if s > p.cp.LastStored {
			p.cp.LastStored = s
		}
		if p.skipUntil != 0 && s > p.skipUntil {
			p.expireSkips(s)
		}
	case source.KindJourneyUpsert:
		if err := p.journeyChanged(ctx, ev.Doc, int64(ev.ClusterTime.T)*1000); err != nil {
			return err
		}
	case source.KindJourneyDelete:
		p.journeyDeleted(ev.ID)
	case source.KindJourneysReset:
		if err := p.reloadJourneys(ctx, false); err != nil {
			return err
		}
	}
	p.cp.Token = ev.Token
	if ev.ClusterTime.T != 0 { // checkpoint events carry no cluster time
		p.stats.LastEventTime.Store(int64(ev.ClusterTime.T))
	}
	return nil
}

func (p *Pipeline) commit() error {
	var cp []byte
	if len(p.cp.Token) > 0 {
		cp = p.cp.encode()
	}
	start := p.cfg.Now()
	if err := p.engine.Commit(cp); err != nil {
		return err
	}
	p.stats.Commits.Add(1)
	now := p.cfg.Now()
	p.stats.LastCommit.Store(now.UnixMilli())
	if f := p.stats.CommitDuration; f != nil {
		f(now.Sub(start).Seconds())
	}
	return nil
}

func (p *Pipeline) journeyDeleted(id primitive.ObjectID) {
	p.engine.RemoveJourney(id)
	// RemoveJourney's DeleteJourney also removes the stored meta; a journey
	// the engine did not know (suspended) still needs it removed.
	p.engine.pendingBatch().DeleteJourney(id)
	delete(p.metas, id)
	p.log.Info("journey deleted", "journey", id.Hex())
}

// journeyChanged handles an inserted, updated or replaced journey document.
// at is when the change was made (Unix ms, from the event's cluster time),
// or 0 when it was not seen in the stream (a fresh start, a lost history).
func (p *Pipeline) journeyChanged(ctx context.Context, doc bson.Raw, at int64) error {
	id, _ := doc.Lookup("_id").ObjectIDOK()
	j, err := journey.DecodeBSON(doc)
	var c *journey.Compiled
	if err == nil {
		c, err = journey.Compile(j)
	}
	if err != nil {
		// Written by a writer that bypassed validation: the journey cannot
		// run until it is fixed. Its progress is kept; the fixed version
		// recalculates (the empty version below differs from any digest).
		p.log.Error("journey does not compile: not tracking it", "journey", id.Hex(), "err", err)
		p.engine.Suspend(id)
		m := &journeyMeta{Doc: append(bson.Raw(nil), doc...), Suspended: true}
		if old := p.metas[id]; old != nil {
			m.Request = old.Request
		}
		return p.putMeta(id, m)
	}
	req, notify := recalculateRequest(doc)
	old := p.metas[j.ID]
	m := &journeyMeta{Doc: append(bson.Raw(nil), doc...), Version: c.Version}
	if old != nil {
		m.Request, m.QuietBefore = old.Request, old.QuietBefore
		m.Skip, m.SkipUntil = old.Skip, old.SkipUntil
	}
	requested := !req.IsZero() && req != m.Request
	if requested {
		m.Request = req
	}
	switch {
	case !c.Active:
		if requested {
			now := p.cfg.Now()
			p.writeStatus(ctx, c.ID, journey.RecalculateStatus{FinishedAt: &now, Error: "the journey is inactive: nothing to recalculate"})
		}
		if old != nil && old.Version != c.Version && shapeChanged(old.Doc, j) {
			// Progress built for other waypoints would be shown against
			// the new ones: drop it; reactivation rebuilds it.
			p.engine.ResetJourney(c.ID)
		}
	case old != nil && old.Recalculating && old.Version == c.Version && !requested:
		// The stream redelivered the change whose recalculation a crash
		// interrupted: start it over with the same notification point.
		return p.recalculate(ctx, c, m)
	case old == nil || old.Suspended || old.Recalculating || old.Version != c.Version || requested:
		m.QuietBefore = at
		if at == 0 {
			m.QuietBefore = p.cfg.Now().UnixMilli()
		}
		if p.quietBefore != 0 {
			m.QuietBefore = p.quietBefore
		}
		if requested && notify {
			m.QuietBefore = 0
		}
		return p.recalculate(ctx, c, m)
	case old.QuietBefore == m.QuietBefore && old.Version == c.Version && !changedForEngine(old.Doc, doc):
		// Only fields the engine does not use changed (description,
		// isPublic, the status the recalculation writes): keep the live
		// journey, its index and its skip set.
		p.metas[c.ID].Doc = m.Doc
		return p.putMeta(c.ID, p.metas[c.ID])
	}
	p.engine.SetJourney(c, m.QuietBefore)
	p.engine.SetSkip(c.ID, m.skipSet())
	return p.putMeta(c.ID, m)
}

// shapeChanged reports whether j's waypoints differ from those of the
// stored document old in anything but the journey's isActive.
func shapeChanged(old bson.Raw, j *journey.Journey) bool {
	prev, err := journey.DecodeBSON(old)
	if err != nil {
		return true
	}
	a, b := *prev, *j
	a.IsActive, b.IsActive = true, true
	return a.Version() != b.Version()
}

// changedForEngine reports whether two versions of a journey document
// differ in anything but the fields the daemon itself keeps rewriting
// (recalculateStatus, updatedAt): the rest is served in callback bodies.
func changedForEngine(old, doc bson.Raw) bool {
	return !bytes.Equal(withoutVolatile(old), withoutVolatile(doc))
}

func withoutVolatile(doc bson.Raw) []byte {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	var out []byte
	for _, e := range elems {
		switch e.Key() {
		case "recalculateStatus", "updatedAt":
			continue
		}
		out = append(out, e...)
	}
	return out
}

func (p *Pipeline) putMeta(id primitive.ObjectID, m *journeyMeta) error {
	v, err := m.encode()
	if err != nil {
		return err
	}
	p.engine.pendingBatch().PutJourneyMeta(id, v)
	p.metas[id] = m
	return nil
}

// recalculateRequest reads the recalculateRequest field the API sets.
func recalculateRequest(doc bson.Raw) (id primitive.ObjectID, notify bool) {
	v, err := doc.LookupErr("recalculateRequest", "_id")
	if err != nil {
		return id, false
	}
	id, _ = v.ObjectIDOK()
	if n, err := doc.LookupErr("recalculateRequest", "notify"); err == nil {
		notify, _ = n.BooleanOK()
	}
	return id, notify
}

func compileDoc(doc bson.Raw) (*journey.Compiled, error) {
	j, err := journey.DecodeBSON(doc)
	if err != nil {
		return nil, err
	}
	return journey.Compile(j)
}

func (p *Pipeline) noteSkipUntil(t int64) {
	if t != 0 && (p.skipUntil == 0 || t < p.skipUntil) {
		p.skipUntil = t
	}
}

// expireSkips drops the skip sets that the stream has moved past: it just
// delivered a statement stored at stored.
func (p *Pipeline) expireSkips(stored int64) {
	p.skipUntil = 0
	for id, m := range p.metas {
		if m.SkipUntil == 0 {
			continue
		}
		if stored > m.SkipUntil {
			m.Skip, m.SkipUntil = nil, 0
			p.engine.SetSkip(id, nil)
			if err := p.putMeta(id, m); err != nil {
				p.log.Error("cannot store journey state", "journey", id.Hex(), "err", err)
			}
			continue
		}
		p.noteSkipUntil(m.SkipUntil)
	}
}
