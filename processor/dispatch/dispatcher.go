package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/state"
)

// ErrNotFound is returned by Replay for an id that is not a dead letter.
var ErrNotFound = errors.New("dispatch: no such dead letter")

// Dispatcher sends the deliveries of the state store's outbox. Create it
// with New and start it with Run. Its methods are safe for concurrent use.
type Dispatcher struct {
	cfg    Config
	store  *state.Store
	client *retryablehttp.Client
	guard  guard
	// resolver looks callback hosts up for CheckTarget.
	resolver resolver
	signer   *signer // nil: deliveries are not signed
	stats    Stats
	running  atomic.Bool

	// wake prompts Run to look at the schedule again: something was added
	// or a slot was freed.
	wake chan struct{}
	// attempts tracks in-flight attempts so Run can drain them.
	attempts sync.WaitGroup
	// replayMu serialises Replay: two concurrent replays of one dead
	// letter would otherwise both put it back and deliver it twice.
	replayMu sync.Mutex
	// warns rate-limits the failed-attempt warnings per target.
	warns warnLimiter
	// deadLetters counts the dead letters in the store.
	deadLetters atomic.Int64

	// mu guards the schedule.
	mu       sync.Mutex
	items    map[string]*item
	hosts    map[string]*host
	queue    queue
	inFlight int
	// unscheduled counts the outbox deliveries not in items, left in the
	// store because the schedule was full (see refill), and
	// unscheduledOldest is the creation time of the oldest of them as the
	// last refill saw it. overflowed counts the deliveries ever left out
	// by add.
	unscheduled       int
	unscheduledOldest time.Time
	overflowed        int
}

// New returns a Dispatcher for cfg. It fails on an invalid configuration,
// including a malformed signing secret.
func New(cfg Config) (*Dispatcher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := guard{allowPrivate: cfg.AllowPrivate, allow: slices.Clone(cfg.Allow)}
	d := &Dispatcher{
		cfg:      cfg,
		store:    cfg.Store,
		client:   newClient(cfg, g),
		guard:    g,
		resolver: net.DefaultResolver,
		wake:     make(chan struct{}, 1),
		items:    make(map[string]*item),
		hosts:    make(map[string]*host),
	}
	if cfg.SigningSecret != "" {
		if d.signer, err = newSigner(cfg.SigningSecret); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Run loads the pending deliveries from the store and delivers them, each
// when its NextAttemptAt is due, until ctx is cancelled. It then starts no
// new attempt and waits up to Config.Drain for those in flight; any still
// running are abandoned and stay pending in the store, as they were before
// the attempt, for the next Run. Run returns nil after such a shutdown, and
// an error if it could not load the outbox. It may be called only once.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("dispatch: Run called more than once")
	}
	if err := d.load(); err != nil {
		return err
	}
	// Attempts must survive ctx for the drain, so theirs is detached and
	// cancelled only when the drain bound is reached.
	attemptCtx, abandon := context.WithCancel(context.Background())
	defer abandon()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		d.mu.Lock()
		start, wait := d.takeDue(d.cfg.Now())
		refill := d.needsRefill()
		d.mu.Unlock()
		if refill {
			if err := d.refill(); err != nil {
				// The deliveries stay in the store; the next pass tries
				// again.
				d.cfg.Logger.Error("cannot read the outbox", "err", err)
				wait = d.cfg.MinBackoff
			} else {
				d.poke()
			}
		}
		for _, it := range start {
			d.attempts.Add(1)
			go d.attempt(attemptCtx, it)
		}
		if wait > 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			d.drain(abandon)
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// drain waits for the in-flight attempts, abandoning them after the drain
// bound. It returns once none is running, so the caller may close the
// store.
func (d *Dispatcher) drain(abandon context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		d.attempts.Wait()
		close(done)
	}()
	t := time.NewTimer(d.cfg.Drain)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		d.cfg.Logger.Warn("abandoning callback attempts at shutdown; they stay pending", "drain", d.cfg.Drain)
		abandon()
		<-done
	}
}

// load schedules the outbox's earliest-due deliveries (see refill) and
// counts the dead letters.
func (d *Dispatcher) load() error {
	if err := d.refill(); err != nil {
		return err
	}
	var n int64
	if err := d.store.ScanDead(func(_, _ []byte) error { n++; return nil }); err != nil {
		return fmt.Errorf("dispatch: count dead letters: %w", err)
	}
	d.deadLetters.Store(n)
	return nil
}

// Enqueue schedules deliveries that were just committed to the outbox. The
// pipeline calls it after the commit that made them durable; a delivery
// already scheduled is not scheduled twice.
func (d *Dispatcher) Enqueue(ds ...outbox.Delivery) {
	d.mu.Lock()
	for i := range ds {
		d.add(ds[i].ID, ds[i].URL, ds[i].NextAttemptAt, ds[i].CreatedAt)
	}
	d.mu.Unlock()
	d.poke()
}

// Replay moves the dead letter id back to the outbox, with its tries and
// errors cleared and a retry window starting now, and schedules it at
// once. It returns an error wrapping ErrNotFound when id is not a dead
// letter.
func (d *Dispatcher) Replay(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dispatch: replay %s: %w", id, err)
	}
	d.replayMu.Lock()
	defer d.replayMu.Unlock()
	v, ok, err := d.store.Dead([]byte(id))
	if err != nil {
		return fmt.Errorf("dispatch: replay %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("dispatch: replay %s: %w", id, ErrNotFound)
	}
	del, err := outbox.Decode(v)
	if err != nil {
		return fmt.Errorf("dispatch: replay %s: %w", id, err)
	}
	now := d.cfg.Now()
	del.Tries, del.LastStatus, del.LastError, del.DeadAt = 0, 0, "", nil
	del.CreatedAt, del.NextAttemptAt = now, now
	enc, err := del.Encode()
	if err != nil {
		return fmt.Errorf("dispatch: replay: %w", err)
	}
	b := d.store.NewBatch()
	defer b.Close()
	b.DeleteDead([]byte(id))
	b.PutOutbox([]byte(id), enc)
	if err := b.Commit(); err != nil {
		return fmt.Errorf("dispatch: replay %s: %w", id, err)
	}
	d.deadLetters.Add(-1)
	d.Enqueue(*del)
	return nil
}

// Pending returns the number of deliveries waiting to be delivered,
// including those in flight and those waiting in the store for room in
// the schedule.
func (d *Dispatcher) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.items) + d.unscheduled
}

// Unscheduled returns the number of pending deliveries left in the store
// because the in-memory schedule was full (Config.MaxScheduled); they are
// scheduled as it drains.
func (d *Dispatcher) Unscheduled() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unscheduled
}

// poke wakes Run without blocking; one pending wake-up is enough since Run
// looks at the whole schedule.
func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
