package state

import "sync"

// gate counts in-flight operations so that Store.Close can wait for them.
// Pebble panics when a closed DB is used and forbids Close concurrently with
// other calls, yet a daemon legitimately races shutdown against readiness
// probes and API reads. Operations entering after close began are refused
// instead of blocking, which also means a scan callback that calls back into
// a closing store gets ErrClosed rather than deadlocking.
type gate struct {
	mu      sync.Mutex
	drained sync.Cond // signalled when active drops to zero while closing
	closing bool
	active  int
}

// init prepares the gate for use.
func (g *gate) init() {
	g.drained.L = &g.mu
}

// enter registers an operation. It returns false once close has begun; the
// caller must then not touch the DB. A true result must be paired with exit.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.active++
	return true
}

// exit ends an operation registered by enter.
func (g *gate) exit() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.closing && g.active == 0 {
		g.drained.Broadcast()
	}
}

// close refuses new operations and waits until in-flight ones have exited.
// It returns false if close had already begun.
func (g *gate) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.closing = true
	for g.active > 0 {
		g.drained.Wait()
	}
	return true
}
