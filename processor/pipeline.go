package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/processor/source"
	"github.com/journeys/journeys/state"
)

// PipelineConfig configures a Pipeline.
type PipelineConfig struct {
	// Store is the state store.
	Store *state.Store
	// OpenStream opens the stream of LRS changes; Scanner reads stored
	// statements for recalculations; JourneyStore lists the journeys and
	// records recalculation statuses. Either all three are set (the
	// embedded statement log sets them), or DB is.
	OpenStream   OpenStream
	Scanner      lrs.Scanner
	JourneyStore JourneyStore
	// DB, when set, is a MongoDB LRS database (or lungo standing in for
	// one in tests) that provides whichever of OpenStream, Scanner and
	// JourneyStore are nil; Statements and Journeys name its collections.
	DB                   lungo.IDatabase
	Statements, Journeys string
	// ServerSideFilter sends the change stream's $match to the server; only
	// for a real MongoDB (lungo refuses pipelines).
	ServerSideFilter bool
	// ScanRate, when positive, bounds the statements per second a
	// recalculation scan reads, to spare the LRS (and, in tests, to make a
	// scan last).
	ScanRate int
	// HandoverChunk bounds the held-back live statements a recalculation
	// applies per commit when it hands over to live processing (default
	// 1000).
	HandoverChunk int
	// NoPushdown makes recalculation scans read every statement of the
	// organisation instead of asking only for those that can match (for
	// comparisons; see pushdown).
	NoPushdown bool
	// FullDocument and SplitLargeEvents are the change stream's options
	// for what the MongoDB deployment supports (see source.Config).
	FullDocument     options.FullDocument
	SplitLargeEvents bool
	// BatchSize bounds the statements applied per commit (default 1000).
	// Commits also happen whenever the stream has nothing more buffered,
	// so latency stays low when traffic is light (group commit).
	BatchSize int
	// CacheBytes bounds the engine's cache of committed progress records
	// (Options.CacheBytes): 0 means 32 MiB, a negative value disables it.
	CacheBytes int
	// SkewMargin bounds the clock skew between the LRS's writers (how much
	// earlier than the latest stored time a statement the stream has not
	// delivered yet can be stored), used to hand a recalculation over to
	// live processing (default 2 minutes). It is 0 whatever is set when
	// the Scanner is lrs.StreamOrdered (the embedded statement log).
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
// journey's progress from history, beside the stream, when its definition
// changed (see recalc.go).
//
// Everything a run of events changes is committed in one batch with the
// resume token of its last event, so a restart resumes exactly after the
// last committed event: no statement's effect is lost or applied twice.
type Pipeline struct {
	cfg    PipelineConfig
	log    *slog.Logger
	engine *Engine
	status *statusWriter
	src    Stream
	// live holds src, for readers on other goroutines (readiness, metrics).
	live  atomic.Pointer[Stream]
	metas map[primitive.ObjectID]*journeyMeta
	cp    checkpoint
	// recomputes are the owner recomputes queued by statement updates
	// since the last commit (see recompute.go).
	recomputes recomputeQueue

	// rskipUntil is the earliest time (Unix ms) a stored statement
	// delivered expires some owner recompute's skip entries (0 when none),
	// so that expiring them costs one comparison per statement.
	rskipUntil int64
	// floorStored is the largest stored time (Unix ms) in the statements
	// collection when the stream was opened: every statement the stream
	// delivers was inserted after it (see recalc.go).
	floorStored int64

	// jobs are the running recalculations; pass is the running scan pass
	// (nil when none), retryPass when a failed one may start again.
	jobs      map[primitive.ObjectID]*recalcJob
	pass      *scanPass
	retryPass time.Time
	// turn is the time the current turn of follow began (see clock).
	turn time.Time
	// liveAt is when (Unix ns) the pipeline last applied stream events;
	// a scan goroutine over a local scanner (scanLocal) reads it to share
	// the CPU with live work (see runPass).
	liveAt    atomic.Int64
	scanLocal bool

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
	// Recalculations counts recalculations started; RecalcRunning is the
	// number running; RecalcRemaining the statements their scans have left.
	Recalculations  atomic.Uint64
	RecalcRunning   atomic.Int64
	RecalcRemaining atomic.Int64
	// ScanPasses counts recalculation scan passes started (one serves
	// every recalculation of an organisation pending when it starts);
	// Scanned counts the statements they read.
	ScanPasses atomic.Uint64
	// ScanRestarts counts the passes among those that started over, young,
	// to take in recalculations that became pending meanwhile (see
	// regather).
	ScanRestarts atomic.Uint64
	Scanned      atomic.Uint64
	// OwnerRecomputes counts owners whose progress a statement update
	// (Learning Locker's persona assignment, merge or voiding) rebuilt.
	OwnerRecomputes atomic.Uint64
	// HistoryLost counts restarts of the stream after its history was lost.
	HistoryLost atomic.Uint64
	// CommitDuration, when set, observes each commit's duration in seconds.
	CommitDuration func(seconds float64)
}

// NewPipeline returns a pipeline; Run starts it.
func NewPipeline(cfg PipelineConfig) (*Pipeline, error) {
	if cfg.Statements == "" {
		cfg.Statements = "statements"
	}
	if cfg.Journeys == "" {
		cfg.Journeys = "journeys"
	}
	cfg.fillFromDB()
	if cfg.Store == nil || cfg.OpenStream == nil || cfg.Scanner == nil || cfg.JourneyStore == nil {
		return nil, errors.New("pipeline: a store and an LRS (a database, or a stream, scanner and journey store) are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.HandoverChunk <= 0 {
		cfg.HandoverChunk = 1000
	}
	if cfg.SkewMargin <= 0 {
		cfg.SkewMargin = 2 * time.Minute
	}
	if so, ok := cfg.Scanner.(lrs.StreamOrdered); ok && so.StreamOrdered() {
		cfg.SkewMargin = 0
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
		engine: NewEngine(cfg.Store, Options{Logger: log, OnDurable: cfg.OnDurable, CacheBytes: cfg.CacheBytes}),
		status: newStatusWriter(cfg.JourneyStore, log),
		metas:  map[primitive.ObjectID]*journeyMeta{},
		jobs:   map[primitive.ObjectID]*recalcJob{},
		scanLocal: func() bool {
			lr, ok := cfg.Scanner.(lrs.LocalReads)
			return ok && lr.LocalReads()
		}(),
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
		return (*src).Stats()
	}
	return source.Stats{}
}

func (p *Pipeline) setSource(src Stream) {
	p.src = src
	if src == nil {
		p.live.Store(nil)
		return
	}
	p.live.Store(&src)
}

// Ready reports nil when the pipeline is running on a live stream.
func (p *Pipeline) Ready() error {
	if !p.running.Load() {
		return errors.New("pipeline not running")
	}
	if src := p.live.Load(); src == nil || !(*src).Ready() {
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
			// Stopping: whatever was interrupted (a recalculation, say)
			// is redone from the checkpoint at the next start.
			if err != nil {
				p.log.Info("stopped while working", "err", err)
			}
			return nil
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
	p.endPass()
	clear(p.jobs)
	p.noteJobs()
	if err := p.engine.Discard(); err != nil {
		p.log.Warn("discard pending work", "err", err)
	}
	p.engine.forgetJourneys()
	clear(p.metas)
	p.recomputes.clear()
	p.cp = checkpoint{}
	p.rskipUntil = 0
}

func (p *Pipeline) run(ctx context.Context) error {
	fresh, err := p.load()
	if err != nil {
		return err
	}
	defer func() {
		p.endPass()
		if p.src != nil {
			p.src.Close(context.WithoutCancel(ctx))
			p.setSource(nil)
		}
	}()
	stopStatus := p.status.start(ctx)
	defer stopStatus()
	if !fresh {
		p.settleStatuses(ctx)
	}
	if err := p.open(ctx, fresh); err != nil {
		return err
	}
	p.running.Store(true)
	defer p.running.Store(false)

	for {
		err := p.follow(ctx)
		switch {
		case ctx.Err() != nil:
			// Graceful stop: keep everything applied so far.
			return p.commit(context.WithoutCancel(ctx))
		case errors.Is(err, source.ErrHistoryLost):
			if err := p.historyLost(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// streamItem is one result of the stream's Next.
type streamItem struct {
	ev  source.Event
	err error
}

// follow applies the stream and the recalculations' scan chunks until an
// error. The stream is read by a goroutine of its own, so that the loop can
// wait for either; every turn commits what it applied with its checkpoint.
func (p *Pipeline) follow(ctx context.Context) error {
	pctx, cancel := context.WithCancel(ctx)
	events := make(chan streamItem, p.cfg.BatchSize)
	pumped := make(chan struct{})
	go func(src Stream) {
		defer close(pumped)
		for {
			ev, err := src.Next(pctx)
			select {
			case events <- streamItem{ev, err}:
			case <-pctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}(p.src)
	defer func() { cancel(); <-pumped }()

	tick := time.NewTicker(statusEvery)
	defer tick.Stop()
	// live records whether the turn applied stream events: a turn that
	// only scanned commits without waiting for the fsync (see commitTurn).
	live, liveStmts := false, false
	apply := func(it streamItem) error {
		if !live {
			// The turn's clock was read before the wait for its first
			// event: a recalculation that event starts must not be dated
			// before the change. Events drained after it came without a
			// wait, so one clock read per turn stays enough.
			p.turn = p.cfg.Now().Truncate(time.Millisecond)
		}
		live = true
		if it.err != nil {
			return it.err
		}
		// Statements are the live traffic a local scan makes room for;
		// journey changes (recalculation statuses among them) are not.
		if p.scanLocal && !liveStmts && it.ev.Kind.Statement() {
			liveStmts = true
			p.liveAt.Store(time.Now().UnixNano())
		}
		return p.apply(ctx, it.ev)
	}
	waiting := func() bool { return len(events) > 0 }
	defer func() { p.turn = time.Time{} }()
	for {
		p.turn = p.cfg.Now().Truncate(time.Millisecond)
		live, liveStmts = false, false
		report := false
		// Right after a commit: start scan passes, hand over finished
		// scans (see recalcStep).
		handed, busy, err := p.recalcStep(ctx)
		if err != nil {
			return err
		}
		held := p.pass != nil && p.pass.holding()
		var chunks <-chan scanChunk
		if p.pass != nil && !held {
			chunks = p.pass.chunks
		}
		var idle <-chan time.Time
		if !busy {
			idle = tick.C
		}
		if p.engine.Pending() == 0 {
			// Live events first: scan work waits for them, not the other
			// way round, and stops between slices when one arrives.
			select {
			case it := <-events:
				err = apply(it)
			default:
				switch {
				case held:
					err = p.scanSome(waiting)
				case busy:
					select {
					case it := <-events:
						err = apply(it)
					case c := <-chunks:
						err = p.takeChunk(c, waiting)
					case <-ctx.Done():
						err = ctx.Err()
					default:
					}
				default:
					select {
					case it := <-events:
						err = apply(it)
					case c := <-chunks:
						err = p.takeChunk(c, waiting)
					case <-idle:
						report = true
					case <-ctx.Done():
						err = ctx.Err()
					}
				}
			}
		}
		// Drain what is already buffered, then commit: under load batches
		// grow to BatchSize; when idle every event commits at once.
	drain:
		for err == nil && p.engine.Pending() < p.cfg.BatchSize {
			select {
			case it := <-events:
				err = apply(it)
			default:
				break drain
			}
		}
		if err != nil {
			return err
		}
		if !report {
			select {
			case <-tick.C:
				report = true
			default:
			}
		}
		// A status report makes the turn durable: what a status says was
		// scanned survives a crash.
		if err := p.commitTurn(ctx, live || handed || report); err != nil {
			return err
		}
		if report {
			p.reportRecalculations()
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
		if m.Suspended {
			return nil
		}
		c, err := compileDoc(m.Doc)
		if err != nil {
			p.log.Error("stored journey no longer compiles", "journey", primitive.ObjectID(id).Hex(), "err", err)
			return nil
		}
		p.engine.SetJourney(c, m.QuietBefore)
		p.restoreRecomputeSkips(c.ID, m)
		if err := p.loadRecalculation(c); err != nil {
			return err
		}
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
	src, err := p.cfg.OpenStream(ctx, token)
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
		if err := p.reloadJourneys(ctx, p.cfg.Now().UnixMilli()); err != nil {
			return err
		}
		// Everything stored so far was seen quietly: a later loss of
		// history must not call it back.
		p.cp.LastStored = max(p.cp.LastStored, p.floorStored)
	}
	return nil
}

// noteFloor records the largest stored time of the stored statements,
// just after the stream was opened.
func (p *Pipeline) noteFloor(ctx context.Context) error {
	t, err := p.cfg.Scanner.LatestStored(ctx)
	if err != nil {
		return fmt.Errorf("read latest stored time: %w", err)
	}
	p.floorStored = max(p.floorStored, t)
	return nil
}

// historyLost restarts the stream at the current position and rebuilds
// every active journey from history. Completions by statements stored after
// the last one applied notify: they are news that the lost stream carried.
func (p *Pipeline) historyLost(ctx context.Context) error {
	p.stats.HistoryLost.Add(1)
	p.log.Warn("change stream history lost: recalculating every active journey")
	// What was applied before the loss is complete and p.cp covers it.
	if err := p.commit(ctx); err != nil {
		return err
	}
	if p.src != nil {
		p.src.Close(ctx)
		p.setSource(nil)
	}
	src, err := p.cfg.OpenStream(ctx, nil)
	if err != nil {
		return fmt.Errorf("reopen change stream: %w", err)
	}
	p.setSource(src)
	p.cp.Token = nil
	if err := p.noteFloor(ctx); err != nil {
		return err
	}
	if err := p.reloadJourneys(ctx, p.cp.LastStored+1); err != nil {
		return err
	}
	p.cp.LastStored = max(p.cp.LastStored, p.floorStored)
	return nil
}

// apply applies one event to the engine and advances the checkpoint.
func (p *Pipeline) apply(ctx context.Context, ev source.Event) error {
	switch ev.Kind {
	case source.KindStatementInsert:
		res, err := p.engine.Statement(ev.Doc)
		if err != nil {
			return err
		}
		if s := res.Header.Stored; s > p.cp.LastStored {
			p.cp.LastStored = s
		}
		if p.rskipUntil != 0 && res.Header.Stored > p.rskipUntil {
			p.expireRecomputeSkips(res.Header.Stored)
		}
	case source.KindJourneyUpsert:
		if err := p.journeyChanged(ev.Doc, int64(ev.ClusterTime.T)*1000, 0); err != nil {
			return err
		}
	case source.KindStatementUpdate:
		if err := p.statementUpdated(ev); err != nil {
			return err
		}
	case source.KindJourneyDelete:
		p.journeyDeleted(ev.ID)
	case source.KindJourneysReset:
		if err := p.reloadJourneys(ctx, 0); err != nil {
			return err
		}
	}
	p.cp.Token = ev.Token
	if ev.ClusterTime.T != 0 { // checkpoint events carry no cluster time
		p.stats.LastEventTime.Store(int64(ev.ClusterTime.T))
	}
	return nil
}

// commit makes everything applied so far durable with the checkpoint of
// the last applied event, owner recomputes still queued included.
func (p *Pipeline) commit(ctx context.Context) error { return p.commitTurn(ctx, true) }

// commitTurn commits the pending work with the checkpoint, owner recomputes
// still queued included. A turn that only applied scan statements (not
// durable: no stream event, no hand-over, no queued recompute, no status
// report due) does not wait for the fsync (Engine.CommitRedoable): its
// effects travel with the pass's position, so a crash loses both and the
// scan redoes them, and the next durable commit's fsync — a live
// statement's, or the status report's at least every statusEvery — makes
// them durable. A live statement thus does not wait for scan chunks'
// fsyncs, and a crash costs a scan at most statusEvery of its work.
func (p *Pipeline) commitTurn(ctx context.Context, durable bool) error {
	durable = durable || len(p.recomputes.order) > 0
	if err := p.flushRecomputes(ctx); err != nil {
		return err
	}
	var cp []byte
	if len(p.cp.Token) > 0 {
		cp = p.cp.encode()
	}
	start := p.cfg.Now()
	commit := p.engine.Commit
	if !durable {
		commit = p.engine.CommitRedoable
	}
	if err := commit(cp); err != nil {
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
