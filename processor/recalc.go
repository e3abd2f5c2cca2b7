package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// A recalculation rebuilds a journey's progress from every stored eligible
// statement, beside the live stream, never instead of it (docs/design.md §7). It is
// the DBLog / incremental-snapshot scheme, kept crash-safe by committing
// everything in the pipeline's batches:
//
//   - Start. At the position of the change that asks for it, the journey's
//     progress is reset and a recalculation state is stored (state
//     kindRecalc) with the scan's bound B = the largest stored time the
//     stream has delivered (or, just after it was opened, the largest one
//     stored). Every statement the stream delivered so far is stored no
//     later than B, so the scan — which reads (stored, _id) up to B —
//     covers them.
//   - Live statements. From then on the live statements that match the
//     journey are not applied to it but appended, in stream order, to its
//     pending log (state kindPending) in the same batch as the checkpoint:
//     durable, never held in memory only. Every other journey keeps being
//     applied as before, and checkpoints keep being committed.
//   - Scan. A goroutine reads the statements through the lrs.Scanner in
//     (stored, _id) order, in chunks; the pipeline applies them to the
//     scanning journeys in slices of scanSlice statements, live events
//     first: between slices it stops for a waiting live event or after
//     scanBudget, so a live statement waits for one slice at most, and it
//     commits the scan position with the effects (so a restart resumes
//     where it stopped). A turn that only scanned does not wait for its
//     fsync (state.Batch.CommitUnsynced): a crash loses such turns whole,
//     position and effects together, and the scan redoes them; the next
//     live commit, or the status report's at least every statusEvery,
//     makes them durable.
//     Recalculations pending together share one scan pass (coalescing); a
//     journey that changes again mid-pass leaves the pass and restarts in
//     the next one, the others carry on.
//   - Skip set. A statement stored shortly before B may be delivered by the
//     stream after the change (LRS writers' clocks skew by at most
//     SkewMargin) and be read by the scan too: the scan records the ones it
//     applied that are stored from B − SkewMargin on (kindSkip), and the
//     hand-over skips them. It is bounded by the statements of that window.
//     On a backend whose stored order is its stream order
//     (lrs.StreamOrdered: the embedded statement log) the margin is 0 and
//     the window holds only the statements stored at B itself.
//   - Hand-over. After its scan, the journey's pending log is applied in
//     order, in chunks, each with its deletion; once it is drained the
//     journey is live again in the same batch. Statements stored during the
//     recalculation are thus applied in stream order (docs/design.md §7).
//
// The result equals a replay of all eligible statements, none lost or
// counted twice, across a kill at any point: every step's effects and its
// position travel in one batch.

// scanChunkSize is how many statements the scan goroutine hands to the
// pipeline at once.
const scanChunkSize = 256

// scanChunksLive bounds the chunks of a pass in circulation: two queued,
// one applied, one filled, with room to spare, so that recycle never
// drops one and the scan goroutine's count of chunks handed back is exact.
const scanChunksLive = 8

// The pipeline applies a chunk in slices of scanSlice statements, and
// between two slices it stops when a live event is waiting or when the turn
// has spent scanBudget on the scan: a live statement waits for at most one
// slice of scan work, never for a whole chunk (see scanSome).
const (
	scanSlice  = 16
	scanBudget = time.Millisecond
	// scanYieldEvery: the pipeline yields the CPU every so many slices
	// (see scanSome).
	scanYieldEvery = 4
)

// liveWindow: while the pipeline applied statements within it, a scan over
// a local scanner takes turns with the pipeline (see chunkSource).
const liveWindow = time.Second

// scanTurnWait bounds the scan goroutine's wait for its turn.
const scanTurnWait = 20 * time.Millisecond

// statusEvery is how often a running recalculation reports its status.
const statusEvery = time.Second

// recalcState is the durable state of a journey's running recalculation.
type recalcState struct {
	// Run identifies the run.
	Run primitive.ObjectID `bson:"run"`
	// After is the scan's position: statements up to it are applied.
	AfterStored int64              `bson:"afterStored"`
	AfterID     primitive.ObjectID `bson:"afterID"`
	// Bound is the largest stored time (Unix ms) the scan reads.
	Bound int64 `bson:"bound"`
	// SkipFrom: matching scanned statements stored from it on enter the
	// hand-over skip set.
	SkipFrom int64 `bson:"skipFrom"`
	// Handover is set once the scan is done; Handed is the last pending
	// sequence number applied.
	Handover bool   `bson:"handover"`
	Handed   uint64 `bson:"handed"`
	// Scanned and Total count statements for the status.
	Scanned   int64 `bson:"scanned"`
	Total     int64 `bson:"total"`
	StartedAt int64 `bson:"startedAt"`
	// Pass is the scan pass the journey joined, and PassBase its Scanned
	// less the pass's Read, as of when the pass reached its position: while
	// the pass runs, the pass's own record (passState) holds the position
	// and Scanned is PassBase + Read, so that a chunk writes one record
	// however many journeys share the pass.
	Pass     primitive.ObjectID `bson:"pass"`
	PassBase int64              `bson:"passBase"`
}

// passState is the durable state of the running scan pass.
type passState struct {
	Run         primitive.ObjectID `bson:"run"`
	AfterStored int64              `bson:"afterStored"`
	AfterID     primitive.ObjectID `bson:"afterID"`
	// Read counts the statements the pass applied; Total is its count.
	Read  int64 `bson:"read"`
	Total int64 `bson:"total"`
}

// joinPass brings a member's state up to date with the pass's: its
// position and counts, as of the pass's last chunk.
func (s *recalcState) joinPass(ps passState) {
	if ps.Run != s.Pass || s.Handover {
		return
	}
	if a := (lrs.Position{Stored: ps.AfterStored, ID: ps.AfterID}); s.after().Less(a) {
		s.AfterStored, s.AfterID = a.Stored, a.ID
		s.Scanned = s.PassBase + ps.Read
	}
	if s.Total == 0 {
		s.Total = ps.Total
	}
}

func (s *recalcState) after() lrs.Position {
	return lrs.Position{Stored: s.AfterStored, ID: s.AfterID}
}

// recalcJob is a running recalculation.
type recalcJob struct {
	id primitive.ObjectID
	c  *journey.Compiled
	st recalcState
	// pass is the scan pass reading for it; nil while it waits for one
	// or hands over.
	pass *scanPass
	// rate is the pass's scan rate (statements/s) at the last report.
	rate float64
}

// scanPass is one scan of the statements shared by the recalculations of
// one organisation that were pending when it started.
type scanPass struct {
	state   passState
	org     primitive.ObjectID
	members map[primitive.ObjectID]*recalcJob
	chunks  chan scanChunk
	// free returns applied chunks to the scan goroutine, which fills
	// their slices and buffers again: a scan allocates a few chunks, not
	// one per 256 statements (garbage collection during a long scan would
	// take CPU and pauses from the live stream beside it).
	free    chan scanChunk
	cancel  context.CancelFunc
	done    chan struct{}
	started time.Time
	read    int64
	// sent counts the statements the scan goroutine handed over (its own).
	sent int64
	// held is the chunk being applied and at how many of its statements
	// are applied (see scanSome).
	held scanChunk
	at   int
}

// holding reports whether part of a received chunk is still to be applied.
func (ps *scanPass) holding() bool { return ps.at < len(ps.held.docs) }

// scanChunk is what the scan goroutine hands over: statements with their
// positions, the count of statements to read (first), or the end.
type scanChunk struct {
	// bufs hold the documents (one buffer per chunk, or more when a
	// document does not fit); they go back to the pass's free list once
	// the chunk is applied, as spare of a recycled chunk.
	bufs  [][]byte
	spare [][]byte
	docs  []bson.Raw
	// hdrs are the documents' headers, read once by the scan goroutine
	// (the engine applies them without reading them again).
	hdrs  []Header
	total int64
	end   bool
	err   error
}

// startRecalculation starts rebuilding c's progress; completions by
// statements stored before quiet (Unix ms) do not notify.
func (p *Pipeline) startRecalculation(c *journey.Compiled, m *journeyMeta, quiet int64) error {
	p.dropRecalculation(c.ID)
	p.stats.Recalculations.Add(1)
	now := p.clock()
	m.QuietBefore = quiet
	p.engine.SetJourney(c, quiet)
	p.engine.ResetJourney(c.ID) // progress and any previous run's records
	p.engine.SetDeferred(c.ID, true, 1)
	bound := max(p.cp.LastStored, p.floorStored)
	j := &recalcJob{id: c.ID, c: c, st: recalcState{
		Run: primitive.NewObjectID(), Bound: bound, SkipFrom: bound - p.cfg.SkewMargin.Milliseconds(),
		StartedAt: now.UnixMilli(),
	}}
	p.jobs[c.ID] = j
	p.noteJobs()
	p.log.Info("recalculating journey", "journey", c.ID.Hex(), "version", c.Version, "quietBefore", quiet, "bound", bound)
	p.reportStatus(j, now)
	if err := p.putRecalc(j); err != nil {
		return err
	}
	return p.putMeta(c.ID, m)
}

// dropRecalculation forgets journey id's running recalculation, if any (it
// changed again, was deleted or deactivated); its stored records go with
// the reset or deletion the caller makes. Other journeys of its scan pass
// carry on.
func (p *Pipeline) dropRecalculation(id primitive.ObjectID) {
	j := p.jobs[id]
	if j == nil {
		return
	}
	delete(p.jobs, id)
	p.noteJobs()
	if ps := j.pass; ps != nil {
		delete(ps.members, id)
		if len(ps.members) == 0 {
			p.endPass()
		}
	}
	p.engine.SetDeferred(id, false, 0)
	p.engine.pendingBatch().DeleteRecalc(id)
}

// loadRecalculation resumes journey c's recalculation from its stored
// state, if one is running.
func (p *Pipeline) loadRecalculation(c *journey.Compiled) error {
	v, ok, err := p.cfg.Store.Recalc(c.ID)
	if err != nil || !ok {
		return err
	}
	j := &recalcJob{id: c.ID, c: c}
	if err := bson.Unmarshal(v, &j.st); err != nil {
		return fmt.Errorf("decode recalculation of journey %s: %w", c.ID.Hex(), err)
	}
	if pv, ok, err := p.cfg.Store.RecalcPass(); err != nil {
		return err
	} else if ok {
		var ps passState
		if err := bson.Unmarshal(pv, &ps); err != nil {
			return fmt.Errorf("decode recalculation pass: %w", err)
		}
		j.st.joinPass(ps)
	}
	last, err := p.cfg.Store.LastPending(c.ID)
	if err != nil {
		return err
	}
	p.engine.SetDeferred(c.ID, true, last+1)
	p.jobs[c.ID] = j
	p.noteJobs()
	p.log.Info("resuming recalculation", "journey", c.ID.Hex(), "scanned", j.st.Scanned, "handover", j.st.Handover)
	return nil
}

func (p *Pipeline) putRecalc(j *recalcJob) error {
	v, err := bson.Marshal(&j.st)
	if err != nil {
		return fmt.Errorf("encode recalculation: %w", err)
	}
	p.engine.pendingBatch().PutRecalc(j.id, v)
	return nil
}

// recalcStep advances the recalculations between commits: it starts a scan
// pass when recalculations wait for one, and hands over those whose scan is
// done. It must run right after a commit (the hand-over reads the committed
// pending log). It reports whether it handed over (that turn's commit is
// then made durable at once: a finished recalculation is announced) and
// whether hand-over work remains.
func (p *Pipeline) recalcStep(ctx context.Context) (handed, busy bool, err error) {
	now := p.cfg.Now()
	if ps := p.pass; ps != nil && regather(ps, p.jobs, now) {
		p.stats.ScanRestarts.Add(1)
		p.endPass()
	}
	if p.pass == nil && now.After(p.retryPass) {
		p.startPass(ctx)
	}
	ids := make([]primitive.ObjectID, 0, len(p.jobs))
	for id, j := range p.jobs {
		if j.st.Handover {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b primitive.ObjectID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		more, err := p.handOver(p.jobs[id])
		if err != nil {
			return false, false, err
		}
		busy = busy || more
		if p.engine.Pending() >= p.cfg.BatchSize {
			return true, true, nil
		}
	}
	return len(ids) > 0, busy, nil
}

var errChunkFull = errors.New("chunk full")

// handOver applies the next chunk of j's committed pending log; when it is
// drained, the journey goes live in the same batch.
func (p *Pipeline) handOver(j *recalcJob) (more bool, err error) {
	n, last := 0, j.st.Handed
	err = p.cfg.Store.ScanPending(j.id, j.st.Handed, func(seq uint64, doc []byte) error {
		if n == p.cfg.HandoverChunk {
			return errChunkFull
		}
		n++
		last = seq
		// Only a statement stored within [SkipFrom, Bound] can be in the
		// skip set (the scan enters no other): the others cost no look-up.
		id, ok := bson.Raw(doc).Lookup("_id").ObjectIDOK()
		stored, _ := bson.Raw(doc).Lookup("stored").DateTimeOK()
		if ok && stored >= j.st.SkipFrom && stored <= j.st.Bound {
			skip, err := p.cfg.Store.Skipped(j.id, id)
			if err != nil {
				return err
			}
			if skip {
				return nil
			}
		}
		_, err := p.engine.StatementFor(j.id, doc)
		return err
	})
	if err != nil && !errors.Is(err, errChunkFull) {
		return false, fmt.Errorf("hand over recalculation of journey %s: %w", j.id.Hex(), err)
	}
	if n > 0 {
		p.engine.pendingBatch().DeletePendingThrough(j.id, last)
		j.st.Handed = last
	}
	if n == p.cfg.HandoverChunk {
		return true, p.putRecalc(j)
	}
	// Drained: nothing newer is pending, since this runs right after a
	// commit and before the next live event.
	p.finishRecalculation(j)
	return false, nil
}

func (p *Pipeline) finishRecalculation(j *recalcJob) {
	delete(p.jobs, j.id)
	p.noteJobs()
	p.engine.SetDeferred(j.id, false, 0)
	p.engine.pendingBatch().DeleteRecalc(j.id)
	p.runDeferredRecomputes(j.id)
	now := p.clock()
	started := time.UnixMilli(j.st.StartedAt)
	p.publishStatus(j.id, journey.RecalculateStatus{TotalCount: j.st.Scanned, StartedAt: &started, FinishedAt: &now})
	p.log.Info("recalculated journey", "journey", j.id.Hex(), "statements", j.st.Scanned, "took", now.Sub(started).Round(time.Millisecond))
}

// startPass starts a scan pass for the scanning recalculations of one
// organisation (the one of the longest waiting journey).
// A journey cannot join a running pass: progress depends on order, and the
// pass has applied statements the newcomer has not. But a pass that started
// less than passGather ago starts over with the newcomers of its
// organisation (its members skip again what they already applied, see
// scanSome), as long as its oldest member became pending less than
// passGatherMax ago: journeys created one request at a time in a burst (a
// client creating a thousand) then share one scan, rather than all but the
// first waiting for a second full one, at the cost of re-reading at most
// passGather of scanning per newcomer.
const (
	passGather    = 100 * time.Millisecond
	passGatherMax = time.Second
)

// regather reports whether running pass ps should start over to take in
// recalculations pending among jobs (see passGather).
func regather(ps *scanPass, jobs map[primitive.ObjectID]*recalcJob, now time.Time) bool {
	if now.Sub(ps.started) >= passGather {
		return false
	}
	for _, m := range ps.members {
		if now.Sub(time.UnixMilli(m.st.StartedAt)) >= passGatherMax {
			return false
		}
	}
	for _, j := range jobs {
		if j.pass == nil && !j.st.Handover && j.c.Organisation == ps.org {
			return true
		}
	}
	return false
}

func (p *Pipeline) startPass(ctx context.Context) {
	var first *recalcJob
	for _, j := range p.jobs {
		if !j.st.Handover && (first == nil || j.st.StartedAt < first.st.StartedAt ||
			j.st.StartedAt == first.st.StartedAt && bytes.Compare(j.id[:], first.id[:]) < 0) {
			first = j
		}
	}
	if first == nil {
		return
	}
	org := first.c.Organisation
	ps := &scanPass{state: passState{Run: primitive.NewObjectID()}, org: org, members: map[primitive.ObjectID]*recalcJob{}, chunks: make(chan scanChunk, 2), free: make(chan scanChunk, scanChunksLive), done: make(chan struct{}), started: p.cfg.Now()}
	var members []*journey.Compiled
	q := lrs.ScanQuery{Organisation: org}
	after, bound, everySource := first.st.after(), int64(0), false
	for _, j := range p.jobs {
		if j.st.Handover || j.c.Organisation != org {
			continue
		}
		ps.members[j.id] = j
		j.pass = ps
		j.st.Pass, j.st.PassBase = ps.state.Run, j.st.Scanned
		if err := p.putRecalc(j); err != nil {
			p.log.Error("cannot record a recalculation", "journey", j.id.Hex(), "err", err)
		}
		members = append(members, j.c)
		if a := j.st.after(); a.Less(after) {
			after = a
		}
		bound = max(bound, j.st.Bound)
		if len(j.c.Sources) == 0 {
			everySource = true
		}
		q.Sources = append(q.Sources, j.c.Sources...)
	}
	if everySource {
		q.Sources = nil
	}
	q.After = after
	ps.state.AfterStored, ps.state.AfterID = after.Stored, after.ID
	if err := p.putPass(ps); err != nil {
		p.log.Error("cannot record the scan pass", "err", err)
	}
	if !p.cfg.NoPushdown {
		q.Filter = pushdown(members, bound)
	}
	sctx, cancel := context.WithCancel(ctx)
	ps.cancel = cancel
	p.stats.ScanPasses.Add(1)
	p.pass = ps
	p.log.Info("scan pass started", "organisation", org.Hex(), "journeys", len(ps.members), "afterStored", after.Stored, "bound", bound, "pushdown", q.Filter != nil)
	go p.runPass(sctx, ps, q, bound)
}

// endPass stops the running pass and waits for its goroutine.
func (p *Pipeline) endPass() {
	ps := p.pass
	if ps == nil {
		return
	}
	p.pass = nil
	ps.cancel()
	<-ps.done
	for _, j := range ps.members {
		j.pass = nil
	}
}

var errPastBound = errors.New("past the scan bound")

// runPass reads the pass's statements and hands them to the pipeline in
// chunks. It runs in its own goroutine and touches nothing but ps.chunks.
func (p *Pipeline) runPass(ctx context.Context, ps *scanPass, q lrs.ScanQuery, bound int64) {
	defer close(ps.done)
	send := func(c scanChunk) bool {
		select {
		case ps.chunks <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	total, err := p.cfg.Scanner.Count(ctx, q)
	if err != nil {
		total = -1
	}
	if !send(scanChunk{total: total}) {
		return
	}
	var cur scanChunk
	var buf []byte
	chunks := chunkSource{ps: ps, p: p, wait: time.NewTimer(0)}
	defer chunks.wait.Stop()
	read := func(doc bson.Raw) error {
		var h Header
		if !readHeader(doc, &h) {
			return nil // placed nowhere; the engine would skip it
		}
		if h.Stored > bound {
			return errPastBound
		}
		if cur.docs == nil {
			c, err := chunks.next(ctx)
			if err != nil {
				return err
			}
			cur = c
		}
		// One buffer per chunk rather than one allocation per statement.
		if cap(buf)-len(buf) < len(doc) {
			buf = cur.buffer(len(doc), scanChunkSize*len(doc))
			cur.bufs = append(cur.bufs, buf)
		}
		n := len(buf)
		buf = append(buf, doc...)
		cur.docs = append(cur.docs, bson.Raw(buf[n:len(buf):len(buf)]))
		cur.hdrs = append(cur.hdrs, h)
		q.After = lrs.Position{Stored: h.Stored, ID: h.ID}
		if len(cur.docs) == scanChunkSize {
			if !send(cur) {
				return ctx.Err()
			}
			chunks.out++
			cur, buf = scanChunk{}, nil
			if err := p.pace(ctx, ps); err != nil {
				return err
			}
		}
		return nil
	}
	err = p.cfg.Scanner.Scan(ctx, q, read)
	if err != nil && !errors.Is(err, errPastBound) && ctx.Err() == nil && q.Filter != nil {
		// The server refused the pushed filter (lungo lacks some
		// operators, $regex among them): read everything from where the
		// scan stopped, the matcher decides alone.
		p.log.Warn("scan with pushdown failed: scanning without it", "err", err)
		q.Filter = scanBounds(bound, nil)
		err = p.cfg.Scanner.Scan(ctx, q, read)
	}
	if errors.Is(err, errPastBound) {
		err = nil
	}
	if err == nil && len(cur.docs) > 0 && !send(cur) {
		return
	}
	send(scanChunk{end: true, err: err})
}

// chunkSource gives the scan goroutine the chunks to fill: applied ones
// the pipeline handed back (recycle), or new ones.
//
// While statements flow, a local scanner (lrs.LocalReads: reads that never
// wait on the network) reads a chunk only once the pipeline applied the
// ones before it: reading and applying take turns, so the scan keeps one
// core busy, not two, and the other is free for live work. On two cores
// this matters beyond the CPU time: when every P runs a goroutine that
// never parks, Go's scheduler polls the network only from sysmon, every
// 10 ms, so HTTP requests and responses (xAPI posts, callbacks) would wait
// up to that long. Alone, or reading from a server (the reader parks for
// every batch), the scan reads ahead and reading and applying run in
// parallel. The wait is bounded (scanTurnWait): a pipeline busy with live
// work for longer lets the scan read ahead, as far as the chunks channel
// holds.
type chunkSource struct {
	ps    *scanPass
	p     *Pipeline
	wait  *time.Timer
	out   int // chunks handed over and not handed back
	spare []scanChunk
}

// takeTurns reports whether the scan goroutine waits for the pipeline to
// apply the chunks it handed over (out) before reading another: only a
// local scanner does, and only while statements flowed within liveWindow
// (sinceLive ago).
func takeTurns(out int, local bool, sinceLive time.Duration) bool {
	return out > 0 && local && sinceLive <= liveWindow
}

// next returns the chunk to fill next, after waiting its turn.
func (s *chunkSource) next(ctx context.Context) (scanChunk, error) {
	s.wait.Reset(scanTurnWait)
	for {
		select {
		case c := <-s.ps.free:
			s.returned(c)
			continue
		default:
		}
		sinceLive := time.Duration(time.Now().UnixNano() - s.p.liveAt.Load())
		if !takeTurns(s.out, s.p.scanLocal, sinceLive) {
			break
		}
		select {
		case c := <-s.ps.free:
			s.returned(c)
			continue
		case <-s.wait.C:
		case <-ctx.Done():
			return scanChunk{}, ctx.Err()
		}
		break
	}
	if n := len(s.spare); n > 0 {
		c := s.spare[n-1]
		s.spare = s.spare[:n-1]
		return c, nil
	}
	return scanChunk{docs: make([]bson.Raw, 0, scanChunkSize), hdrs: make([]Header, 0, scanChunkSize)}, nil
}

func (s *chunkSource) returned(c scanChunk) {
	s.out--
	s.spare = append(s.spare, c)
}

// buffer returns an empty buffer of capacity at least need: a spare one of
// c's, or a new one of capacity size.
func (c *scanChunk) buffer(need, size int) []byte {
	for len(c.spare) > 0 {
		b := c.spare[len(c.spare)-1]
		c.spare = c.spare[:len(c.spare)-1]
		if cap(b) >= need {
			return b[:0]
		}
	}
	return make([]byte, 0, max(need, size))
}

// recycle hands an applied chunk back to the scan goroutine; none of its
// documents is referred to any more.
func (ps *scanPass) recycle(c *scanChunk) {
	clear(c.docs)
	r := scanChunk{docs: c.docs[:0], hdrs: c.hdrs[:0], spare: append(c.spare, c.bufs...)}
	select {
	case ps.free <- r:
	default:
	}
}

// pace sleeps as long as the pass is ahead of PipelineConfig.ScanRate.
// It runs in the scan goroutine and reads only the pass's start.
func (p *Pipeline) pace(ctx context.Context, ps *scanPass) error {
	if p.cfg.ScanRate <= 0 {
		return nil
	}
	ps.sent += scanChunkSize
	due := ps.started.Add(time.Duration(float64(ps.sent) / float64(p.cfg.ScanRate) * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// takeChunk receives what the scan goroutine handed over and applies its
// first statements (see scanSome).
func (p *Pipeline) takeChunk(c scanChunk, stop func() bool) error {
	ps := p.pass
	if ps == nil {
		return nil
	}
	if c.total > 0 {
		ps.state.Total = c.total
		for _, j := range ps.members {
			if j.st.Total == 0 {
				j.st.Total = c.total
			}
		}
	}
	if c.end {
		return p.finishPass(ps, c.err)
	}
	ps.held, ps.at = c, 0
	return p.scanSome(stop)
}

// scanSome applies statements of the held chunk in slices of scanSlice,
// until the chunk is done, stop reports true (a live event waits) or the
// turn has spent scanBudget on them, and records the pass's new position
// in the pending batch. What is left of the chunk waits for a later turn:
// positions are per statement, so a commit may end anywhere in a chunk.
func (p *Pipeline) scanSome(stop func() bool) error {
	ps := p.pass
	if ps == nil || !ps.holding() {
		return nil
	}
	c := &ps.held
	var pos lrs.Position
	want := func(id primitive.ObjectID) bool {
		j := ps.members[id]
		return j != nil && j.st.after().Less(pos) && pos.Stored <= j.st.Bound
	}
	onMatch := func(id primitive.ObjectID) {
		if j := ps.members[id]; pos.Stored >= j.st.SkipFrom {
			p.engine.pendingBatch().PutSkip(id, pos.ID)
		}
	}
	from, start, slices := ps.at, time.Now(), 0
	for ps.at < len(c.docs) {
		end := min(ps.at+scanSlice, len(c.docs))
		for ; ps.at < end; ps.at++ {
			h := &c.hdrs[ps.at]
			pos = lrs.Position{Stored: h.Stored, ID: h.ID}
			if err := p.engine.ScanStatement(c.docs[ps.at], h, want, onMatch); err != nil {
				return err
			}
		}
		// Give way to the goroutines that bring live events (the stream's
		// reader, the database driver's): scan work keeps this goroutine
		// busy without blocking, and a goroutine readied behind it would
		// otherwise wait for the scheduler's preemption (10 ms). Every
		// scanYieldEvery slices, not every one: with a P idle, each yield
		// wakes a thread to take this goroutine (a futex call), which cost
		// ~8% of a 1,000-journey scan's CPU.
		if slices++; slices%scanYieldEvery == 0 {
			runtime.Gosched()
		}
		if stop() || time.Since(start) >= scanBudget {
			break
		}
	}
	n := ps.at - from
	last := lrs.Position{Stored: c.hdrs[ps.at-1].Stored, ID: c.hdrs[ps.at-1].ID}
	prev, read := lrs.Position{Stored: ps.state.AfterStored, ID: ps.state.AfterID}, ps.state.Read
	ps.read += int64(n)
	ps.state.Read += int64(n)
	ps.state.AfterStored, ps.state.AfterID = last.Stored, last.ID
	p.stats.Scanned.Add(uint64(n))
	for _, j := range ps.members {
		a := j.st.after()
		if !a.Less(last) {
			continue
		}
		if a != prev {
			// The pass reaches this member's own position (it joined
			// ahead of the pass's start, resumed or kept from a pass that
			// started over): what the pass read before, the member had
			// counted already. Its base moves so that Scanned = PassBase
			// + the pass's Read holds here and after a restart (joinPass).
			j.st.PassBase = j.st.Scanned - read
			if err := p.putRecalc(j); err != nil {
				return err
			}
		}
		j.st.AfterStored, j.st.AfterID = last.Stored, last.ID
		j.st.Scanned = j.st.PassBase + ps.state.Read
	}
	if !ps.holding() {
		ps.recycle(&ps.held)
		ps.held, ps.at = scanChunk{}, 0
	}
	return p.putPass(ps)
}

// finishPass ends pass ps when its scan goroutine is done: on success its
// members hand over; on failure the pass is retried from its committed
// position.
func (p *Pipeline) finishPass(ps *scanPass, scanErr error) error {
	p.pass = nil
	if scanErr != nil {
		p.log.Error("scan pass failed: it is retried from its committed position", "err", scanErr)
		p.retryPass = p.cfg.Now().Add(time.Second)
	}
	for _, j := range ps.members {
		j.pass = nil
		if scanErr == nil {
			j.st.Handover = true
		}
	}
	ps.cancel()
	<-ps.done
	// The members' own records take over from the pass's.
	for _, j := range ps.members {
		if err := p.putRecalc(j); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) putPass(ps *scanPass) error {
	v, err := bson.Marshal(&ps.state)
	if err != nil {
		return fmt.Errorf("encode scan pass: %w", err)
	}
	p.engine.pendingBatch().PutRecalcPass(v)
	return nil
}

// clock is the time of the pipeline's current turn (or the wall clock
// outside one), so that the journeys started or finished together in a
// turn share their status times and their status writes.
func (p *Pipeline) clock() time.Time {
	if !p.turn.IsZero() {
		return p.turn
	}
	return p.cfg.Now()
}

// noteJobs publishes the number of running recalculations.
func (p *Pipeline) noteJobs() { p.stats.RecalcRunning.Store(int64(len(p.jobs))) }

// reportRecalculations publishes every running recalculation's status: in
// callback bodies and metrics at once, on the journey documents through the
// status writer.
func (p *Pipeline) reportRecalculations() {
	now := p.clock()
	var remaining int64
	for _, j := range p.jobs {
		if ps := j.pass; ps != nil {
			if s := now.Sub(ps.started).Seconds(); s > 0 {
				j.rate = float64(ps.read) / s
			}
		} else {
			j.rate = 0
		}
		p.reportStatus(j, now)
		remaining += max(j.st.Total-j.st.Scanned, 0)
	}
	p.stats.RecalcRemaining.Store(remaining)
}

func (p *Pipeline) reportStatus(j *recalcJob, now time.Time) {
	started := time.UnixMilli(j.st.StartedAt)
	p.publishStatus(j.id, journey.RecalculateStatus{
		InProgress: true, TotalCount: j.st.Total, RemainingCount: max(j.st.Total-j.st.Scanned, 0),
		StartedAt: &started, ScanRate: j.rate,
	})
}
