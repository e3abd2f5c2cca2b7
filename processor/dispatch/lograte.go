package dispatch

import (
	"sync"
	"time"
)

// warnInterval is how often at most a failed attempt to one target is
// logged at warn level; the failures in between are counted and reported
// with the next line, so a receiver outage with thousands of pending
// deliveries yields one line per target per interval, not one per attempt.
const warnInterval = time.Minute

// maxWarnTargets bounds the targets the limiter remembers; past it,
// targets whose interval has run out are forgotten.
const maxWarnTargets = 4096

// warnLimiter rate-limits the failed-attempt warnings per target (the
// URL's host and port). It is safe for concurrent use.
type warnLimiter struct {
	mu      sync.Mutex
	targets map[string]*warnState
}

type warnState struct {
	last       time.Time // when a line was last logged
	suppressed int       // failures not logged since
}

// allow reports whether a failure to target at now is logged, and if so
// how many failures to it were suppressed since the last logged one.
func (l *warnLimiter) allow(target string, now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.targets == nil {
		l.targets = make(map[string]*warnState)
	}
	st := l.targets[target]
	if st == nil {
		if len(l.targets) >= maxWarnTargets {
			l.forget(now)
		}
		if len(l.targets) < maxWarnTargets {
			l.targets[target] = &warnState{last: now}
		}
		// Past the bound a target is logged without being remembered:
		// more lines rather than more memory.
		return true, 0
	}
	if now.Sub(st.last) < warnInterval {
		st.suppressed++
		return false, 0
	}
	suppressed = st.suppressed
	st.last, st.suppressed = now, 0
	return true, suppressed
}

// forget drops the targets whose interval ran out by now (their suppressed
// count is lost, which is only a count of lines not logged).
func (l *warnLimiter) forget(now time.Time) {
	for k, st := range l.targets {
		if now.Sub(st.last) >= warnInterval {
			delete(l.targets, k)
		}
	}
}
