package processor

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/processor/progress"
	"github.com/journeys/journeys/state"
)

// Engine turns stored statements into journey progress. It keeps the
// compiled journeys and their candidate index, applies statements to
// progress records held in a write-back cache, and writes everything a set
// of statements changed — progress, archived attempts, fired markers,
// deliveries due — together with the stream checkpoint in one state.Batch.
//
// An Engine is owned by one goroutine (the pipeline); it is not safe for
// concurrent use, except for Stats.
type Engine struct {
	store     *state.Store
	log       *slog.Logger
	onDurable func([]outbox.Delivery)

	journeys map[primitive.ObjectID]*live
	orgs     map[primitive.ObjectID]*orgIndex
	// stale lists organisations whose index must be rebuilt before the
	// next statement: rebuilding lazily keeps loading n journeys linear.
	stale map[primitive.ObjectID]bool

	// Pending work since the last Commit.
	batch *state.Batch
	dirty map[string]*entry
	order []*entry
	fired map[string]bool // fired markers written in the pending batch
	// personas are the persona index entries written in the pending batch
	// (see statementPersona).
	personas map[[12]byte][12]byte
	queued   []outbox.Delivery
	pending  int // statements applied since the last Commit

	// cache holds committed records across commits.
	cache *recordCache

	// sc is the per-call scratch (see scratch).
	sc scratch

	stats Stats
}

// scratch is the engine's per-call working state: what one call of
// Statement, StatementFor or Commit sets up and reads, kept between calls
// only so that its buffers are reused and the hot path does not allocate.
// Nothing in it means anything once the call has returned.
type scratch struct {
	// The statement being applied, its header and the journey being
	// evaluated against it.
	doc  bson.Raw
	hdr  Header
	live *live
	// matched is set when the statement matched some waypoint.
	matched bool
	// rebuilding is set while a recalculation applies the statement
	// (ScanStatement, StatementFor): a recalculating journey then takes
	// it instead of holding it back.
	rebuilding bool
	// recomputing is set while an owner recompute applies statements: the
	// recompute skip set does not apply to it (see Pipeline.recomputeOwner).
	recomputing bool

	// Candidate collection: epoch tells this statement's candidate marks
	// (live.epoch) from older ones; touched lists the journeys marked;
	// org and path are the index and indexed path being probed.
	epoch   uint64
	touched []int32
	org     *orgIndex
	path    *pathIndex
	// memo is the index's path memo, reset with the statement by collect,
	// from which candidate waypoints read their paths' values; nil when
	// the statement was not collected (StatementFor), whose waypoints then
	// walk the document.
	memo *cond.Memo

	// The statement's owner per tracking kind (0 actor, 1 persona), read at
	// most once: ownerOK is 0 unknown, 1 ok, -1 untracked.
	ownerBuf [2][]byte
	ownerOK  [2]int8

	// keyBuf builds index and record keys, encodeBuf encoded records;
	// written holds Commit's entries until the batch is durable.
	keyBuf    []byte
	encodeBuf []byte
	// commitBuf holds a commit's record encodings (see commit).
	commitBuf []byte
	written   []*entry

	// visit and match are e.visitValue and e.matchWaypoint, bound once so
	// that passing them does not allocate.
	visit func(bson.RawValue) bool
	match func(int) bool
}

// live is the runtime state of one known journey.
type live struct {
	c        *journey.Compiled
	rules    progress.Rules
	required [][]cond.Constraint // per waypoint, from cond.Matcher.Required
	// bound are the waypoints' matchers bound to the path table of the
	// candidate index that holds the journey (set when it is built).
	bound []cond.Bound

	// quietBefore suppresses callbacks for completions by statements stored
	// (Unix ms) before it: those a recalculation finds in history.
	quietBefore int64
	// deferred is set while the journey recalculates: the live statements
	// that match it are appended to its pending log (seq nextSeq on) in
	// the pending batch instead of being applied (see recalc.go).
	deferred bool
	nextSeq  uint64
	// status is the journey's current recalculateStatus, for callback
	// bodies (SetStatus).
	status journey.RecalculateStatus
	// rskip holds the statements an owner recompute applied that the
	// stream may still deliver (see recompute_skip.go); nil when none.
	rskip map[primitive.ObjectID]struct{}

	// Candidate bookkeeping for the statement being processed.
	epoch   uint64
	mask    uint64 // candidate waypoints (bit w for w < 64)
	matched uint64 // evaluated and matched
	checked uint64 // evaluated
}

// entry is a progress record in the write-back cache.
type entry struct {
	l       *live
	key     string // journey id and owner: its key in dirty and cache
	owner   []byte
	rec     progress.Record
	changed bool
	// committed is the record's stored encoding (empty: none): as loaded,
	// then as the commit writes it; the cache receives it once the commit
	// is durable, so no record is encoded twice, and one left unchanged is
	// not encoded at all.
	committed []byte
}

// Stats counts what the engine did. Fields are read with atomic loads by the
// metrics collector while the pipeline writes them.
type Stats struct {
	// Processed counts statements handed to the engine.
	Processed atomic.Uint64
	// Malformed counts documents that are not well-formed statements.
	Malformed atomic.Uint64
	// Voided counts voided statements (skipped).
	Voided atomic.Uint64
	// Untracked counts (statement, journey) pairs skipped because the
	// statement has no owner of the journey's tracking kind.
	Untracked atomic.Uint64
	// Matched counts (statement, journey) pairs where the statement counted.
	Matched atomic.Uint64
	// Completions counts completed attempts.
	Completions atomic.Uint64
	// Deliveries counts callback deliveries queued.
	Deliveries atomic.Uint64
	// Deferred counts live statements held back in a recalculating
	// journey's pending log.
	Deferred atomic.Uint64
}

// Options configure an Engine.
type Options struct {
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// OnDurable, when set, receives the deliveries queued by a Commit once
	// that Commit is durable, so a dispatcher can send them at once.
	OnDurable func([]outbox.Delivery)
	// CacheBytes bounds the bytes of the committed progress records kept
	// across commits (see recordCache); 0 means 32 MiB, a negative value
	// disables the cache.
	CacheBytes int
}

// NewEngine returns an engine over store with no journeys.
func NewEngine(store *state.Store, opts Options) *Engine {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		store:     store,
		log:       log,
		onDurable: opts.OnDurable,
		cache:     newRecordCache(opts.CacheBytes),
		journeys:  map[primitive.ObjectID]*live{},
		orgs:      map[primitive.ObjectID]*orgIndex{},
		stale:     map[primitive.ObjectID]bool{},
		dirty:     map[string]*entry{},
		fired:     map[string]bool{},
		personas:  map[[12]byte][12]byte{},
	}
	e.sc.visit = e.visitValue
	e.sc.match = e.matchWaypoint
	return e
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// Pending returns the number of statements applied since the last Commit.
func (e *Engine) Pending() int { return e.pending }

// Statement applies one stored statement document (an insert into the
// statements collection) to every active journey it is eligible for, and
// returns what it did. Malformed, voided and untracked statements are
// counted and skipped; the only errors are state store read failures.
func (e *Engine) Statement(doc bson.Raw) (Result, error) {
	e.stats.Processed.Add(1)
	e.pending++
	sc := &e.sc
	sc.matched = false
	if !readHeader(doc, &sc.hdr) {
		e.stats.Malformed.Add(1)
		return Result{Skipped: SkipMalformed}, nil
	}
	if sc.hdr.Voided {
		e.stats.Voided.Add(1)
		return e.result(SkipVoided), nil
	}
	if len(e.stale) > 0 {
		e.refreshIndexes()
	}
	oi := e.orgs[sc.hdr.Organisation]
	if oi == nil {
		return e.result(SkipNone), nil
	}
	e.collect(oi, doc)
	err := e.applyTouched(oi, doc)
	return e.result(SkipNone), err
}

// StatementFor applies one stored statement to one journey only, as a
// recalculation does when it hands over to live processing (the journey's
// held-back live statements), and returns what it did: Matched reports
// whether it matched some waypoint of the journey. Malformed and voided
// statements are skipped (not counted: the stream counts each statement
// once).
func (e *Engine) StatementFor(id primitive.ObjectID, doc bson.Raw) (Result, error) {
	e.pending++
	sc := &e.sc
	sc.matched, sc.memo = false, nil
	l, ok := e.journeys[id]
	if !ok || !l.c.Active || len(l.c.Waypoints) == 0 {
		return Result{Skipped: SkipInactive}, nil
	}
	if !readHeader(doc, &sc.hdr) {
		return Result{Skipped: SkipMalformed}, nil
	}
	if sc.hdr.Voided {
		return e.result(SkipVoided), nil
	}
	sc.epoch++
	sc.ownerOK = [2]int8{}
	l.epoch, l.mask, l.checked, l.matched = sc.epoch, ^uint64(0), 0, 0
	sc.rebuilding = true
	err := e.applyJourney(l, doc)
	sc.rebuilding = false
	return e.result(SkipNone), err
}

// ScanStatement applies one stored statement, read by a recalculation's
// scan, to the journeys of its organisation for which want reports true,
// found through the candidate index as live statements are. h is the
// document's header as the scan already read it (readHeader accepted the
// document: it is not malformed). onMatch is called with each of those
// journeys that the statement matched (whether or not it counted). Voided
// statements are skipped.
func (e *Engine) ScanStatement(doc bson.Raw, h *Header, want func(primitive.ObjectID) bool, onMatch func(primitive.ObjectID)) error {
	e.pending++
	sc := &e.sc
	sc.hdr = *h
	if sc.hdr.Voided {
		return nil
	}
	if len(e.stale) > 0 {
		e.refreshIndexes()
	}
	oi := e.orgs[sc.hdr.Organisation]
	if oi == nil {
		return nil
	}
	e.collect(oi, doc)
	sc.rebuilding = true
	defer func() { sc.rebuilding = false }()
	for _, j := range sc.touched {
		l := oi.journeys[j]
		if !want(l.c.ID) {
			continue
		}
		sc.matched = false
		if err := e.applyJourney(l, doc); err != nil {
			return err
		}
		if sc.matched {
			onMatch(l.c.ID)
		}
	}
	return nil
}

// result returns the Result of the statement just applied.
func (e *Engine) result(skip Skip) Result {
	return Result{Header: e.sc.hdr, Matched: e.sc.matched, Skipped: skip}
}

// collect marks the candidate waypoints of the statement in each touched
// journey and lists the touched journeys in e.touched.
func (e *Engine) collect(oi *orgIndex, doc bson.Raw) {
	sc := &e.sc
	sc.epoch++
	sc.touched = sc.touched[:0]
	sc.ownerOK = [2]int8{}
	sc.org = oi
	sc.memo = oi.memo
	sc.memo.Reset(doc)
	for i := range oi.paths {
		sc.path = &oi.paths[i]
		sc.memo.Visit(sc.path.id, sc.visit)
	}
	for _, ref := range oi.always {
		e.mark(ref)
	}
}

func (e *Engine) visitValue(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.String, bsontype.ObjectID, bsontype.Boolean:
	default:
		return true
	}
	e.sc.keyBuf = append(append(e.sc.keyBuf[:0], byte(v.Type)), v.Value...)
	for _, ref := range e.sc.path.values[string(e.sc.keyBuf)] {
		e.mark(ref)
	}
	return true
}

func (e *Engine) mark(ref wpRef) {
	l := e.sc.org.journeys[ref.j]
	if l.epoch != e.sc.epoch {
		l.epoch, l.mask, l.checked, l.matched = e.sc.epoch, 0, 0, 0
		e.sc.touched = append(e.sc.touched, ref.j)
	}
	if ref.w >= 64 {
		l.mask = ^uint64(0)
	} else {
		l.mask |= 1 << uint(ref.w)
	}
}

func (e *Engine) applyTouched(oi *orgIndex, doc bson.Raw) error {
	for _, j := range e.sc.touched {
		if err := e.applyJourney(oi.journeys[j], doc); err != nil {
			return err
		}
	}
	return nil
}

// applyJourney applies the current statement (e.sc.hdr, doc) to journey
// l, whose candidate mask is set.
func (e *Engine) applyJourney(l *live, doc bson.Raw) error {
	c, h := l.c, &e.sc.hdr
	if h.Organisation != c.Organisation {
		return nil
	}
	if h.HasLRS {
		if !c.HasSource(h.LRS) {
			return nil
		}
	} else if len(c.Sources) > 0 {
		return nil
	}
	if l.deferred && !e.sc.rebuilding {
		return e.deferLive(l, doc)
	}
	if l.rskip != nil && !e.sc.recomputing {
		if _, ok := l.rskip[h.ID]; ok {
			return nil
		}
	}
	e.sc.doc, e.sc.live = doc, l
	// A statement that matches none of its candidate waypoints cannot count
	// (sequential journeys only count a statement that matches the first
	// incomplete waypoint), so the record is loaded only on a match.
	any := false
	for w := range c.Waypoints {
		if e.matchWaypoint(w) {
			any = true
			break
		}
	}
	if !any {
		return nil
	}
	e.sc.matched = true
	owner, ok := e.owner(c.TrackBy, doc)
	if !ok {
		e.stats.Untracked.Add(1)
		return nil
	}
	en, err := e.load(l, owner)
	if err != nil {
		return err
	}
	s := progress.Stmt{ID: h.ID, Stored: h.Stored, Timestamp: h.Timestamp}
	fresh := en.rec.Attempt.Number == 0
	eff := progress.Apply(&l.rules, &en.rec, s, e.sc.match)
	if !eff.Changed {
		return nil
	}
	if fresh && c.TrackBy == journey.TrackByPersona {
		en.rec.Display = journey.PersonaDisplay(doc)
	}
	en.changed = true
	e.stats.Matched.Add(1)
	if c.TrackBy == journey.TrackByPersona {
		e.notePersona(h.ID, [12]byte(owner[1:]))
	}
	if eff.Completed {
		return e.completed(en)
	}
	return nil
}

// deferLive appends the current live statement to recalculating journey
// l's pending log, when it matches a waypoint (one that matches none has no
// effect whenever it is applied) and has an owner.
func (e *Engine) deferLive(l *live, doc bson.Raw) error {
	e.sc.doc, e.sc.live = doc, l
	for w := range l.c.Waypoints {
		if e.matchWaypoint(w) {
			if _, ok := e.owner(l.c.TrackBy, doc); !ok {
				e.stats.Untracked.Add(1)
				return nil
			}
			e.pendingBatch().PutPending(l.c.ID, l.nextSeq, doc)
			l.nextSeq++
			e.stats.Deferred.Add(1)
			return nil
		}
	}
	return nil
}

// matchWaypoint evaluates waypoint w of the current journey against the
// current document once per statement; non-candidates never match.
func (e *Engine) matchWaypoint(w int) bool {
	l := e.sc.live
	if w >= 64 {
		return l.mask == ^uint64(0) && e.evalWaypoint(l, w)
	}
	bit := uint64(1) << uint(w)
	if l.mask&bit == 0 {
		return false
	}
	if l.checked&bit == 0 {
		l.checked |= bit
		if e.evalWaypoint(l, w) {
			l.matched |= bit
		}
	}
	return l.matched&bit != 0
}

// evalWaypoint evaluates waypoint w of journey l against the current
// document: through the statement's path memo when it was collected (a
// Bound of another index's table walks the document, as Match does).
func (e *Engine) evalWaypoint(l *live, w int) bool {
	if e.sc.memo != nil && w < len(l.bound) {
		return l.bound[w].Match(e.sc.memo)
	}
	return l.c.Waypoints[w].Matcher.Match(e.sc.doc)
}

func (e *Engine) owner(by journey.TrackBy, doc bson.Raw) ([]byte, bool) {
	i := 0
	if by == journey.TrackByPersona {
		i = 1
	}
	sc := &e.sc
	switch sc.ownerOK[i] {
	case 1:
		return sc.ownerBuf[i], true
	case -1:
		return nil, false
	}
	key, ok := journey.AppendOwnerKey(sc.ownerBuf[i][:0], doc, by)
	sc.ownerBuf[i] = key
	// An identifier longer than the store accepts is not tracked: one such
	// statement must not stop the pipeline.
	if ok && len(key) <= state.MaxOwnerLen {
		sc.ownerOK[i] = 1
		return key, true
	}
	sc.ownerOK[i] = -1
	return nil, false
}

func (e *Engine) appendEntryKey(id primitive.ObjectID, owner []byte) []byte {
	e.sc.keyBuf = append(append(e.sc.keyBuf[:0], id[:]...), owner...)
	return e.sc.keyBuf
}

// load returns the cached record of (l, owner), reading it from the store on
// a miss.
func (e *Engine) load(l *live, owner []byte) (*entry, error) {
	key := e.appendEntryKey(l.c.ID, owner)
	if en, ok := e.dirty[string(key)]; ok {
		return en, nil
	}
	en := &entry{l: l, key: string(key)}
	en.owner = []byte(en.key[12:])
	v, ok := e.cache.get(key)
	if !ok {
		var err error
		if v, _, err = e.store.Progress(l.c.ID, owner); err != nil {
			return nil, fmt.Errorf("read progress of journey %s: %w", l.c.ID.Hex(), err)
		}
	}
	en.committed = v
	if len(v) > 0 {
		if err := en.rec.Decode(v); err != nil {
			// A record we cannot read is rebuilt from scratch rather than
			// stopping the pipeline; the loss is logged loudly.
			e.log.Error("discarding undecodable progress record", "journey", l.c.ID.Hex(), "err", err)
			en.rec = progress.Record{}
		}
	}
	e.dirty[en.key] = en
	e.order = append(e.order, en)
	return en, nil
}

// Commit writes every record changed since the last Commit, and checkpoint
// when it is not nil, in one atomic batch, and waits until it is durable.
// On error nothing of the pending work is kept: the caller must resume from
// the store's checkpoint.
func (e *Engine) Commit(checkpoint []byte) error {
	return e.commit(checkpoint, true)
}

// CommitRedoable is Commit for work that a crash may undo and the caller
// redo from what the same batch records (a recalculation's scan chunk, with
// its position): it does not wait for the fsync (state.Batch.CommitUnsynced),
// so the batch becomes durable with the next synced commit. When the batch
// carries deliveries it waits for the fsync all the same, since they are
// handed on once durable.
func (e *Engine) CommitRedoable(checkpoint []byte) error {
	return e.commit(checkpoint, len(e.queued) > 0)
}

func (e *Engine) commit(checkpoint []byte, sync bool) error {
	b := e.pendingBatch()
	// One buffer holds the commit's encodings until the cache has copied
	// them (below): an arena reused across commits.
	arena := e.sc.commitBuf[:0]
	for _, en := range e.order {
		switch {
		case !en.changed:
		case en.rec.Attempt.Number == 0:
			// Reset by an owner recompute and nothing counted since.
			b.DeleteProgress(en.l.c.ID, en.owner)
			en.committed = nil
		default:
			start := len(arena)
			arena = en.rec.AppendBinary(arena)
			en.committed = arena[start:len(arena):len(arena)]
			b.PutProgress(en.l.c.ID, en.owner, en.committed)
		}
	}
	e.sc.commitBuf = arena
	if checkpoint != nil {
		b.SetCheckpoint(checkpoint)
	}
	queued := e.queued
	e.queued = nil
	written := append(e.sc.written[:0], e.order...)
	e.resetPending()
	if b.Empty() {
		return b.Close()
	}
	commit := b.Commit
	if !sync {
		commit = b.CommitUnsynced
	}
	if err := commit(); err != nil {
		return fmt.Errorf("commit progress: %w", err)
	}
	for i, en := range written {
		e.cache.put(en.key, en.committed)
		written[i] = nil
	}
	e.sc.written = written[:0]
	if len(queued) > 0 && e.onDurable != nil {
		e.onDurable(queued)
	}
	return nil
}

// Discard drops the pending work without writing it.
func (e *Engine) Discard() error {
	b := e.batch
	e.queued = nil
	e.resetPending()
	if b == nil {
		return nil
	}
	return b.Close()
}

func (e *Engine) resetPending() {
	e.batch = nil
	clear(e.dirty)
	clear(e.fired)
	clear(e.personas)
	for i := range e.order {
		e.order[i] = nil
	}
	e.order = e.order[:0]
	e.pending = 0
}

// SetJourneyMeta writes the pipeline's encoded state of journey id (see
// journeyMeta) into the pending batch, so that it becomes durable
// atomically with the progress and checkpoint it describes.
func (e *Engine) SetJourneyMeta(id primitive.ObjectID, meta []byte) {
	e.pendingBatch().PutJourneyMeta(id, meta)
}

func (e *Engine) pendingBatch() *state.Batch {
	if e.batch == nil {
		e.batch = e.store.NewBatch()
	}
	return e.batch
}
