package dispatch

import (
	"testing"
	"time"
)

func TestWarnLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var l warnLimiter
	steps := []struct {
		target     string
		at         time.Duration
		ok         bool
		suppressed int
	}{
		{"a:80", 0, true, 0},
		{"a:80", time.Second, false, 0},
		{"b:80", 2 * time.Second, true, 0}, // targets are limited separately
		{"a:80", 30 * time.Second, false, 0},
		{"a:80", warnInterval - time.Nanosecond, false, 0},
		{"a:80", warnInterval, true, 3}, // the three above
		{"a:80", warnInterval + time.Second, false, 0},
		{"a:80", 3 * warnInterval, true, 1},
		{"b:80", 3 * warnInterval, true, 0},
	}
	for i, s := range steps {
		ok, n := l.allow(s.target, t0.Add(s.at))
		if ok != s.ok || n != s.suppressed {
			t.Errorf("step %d (%s at %s): allow = %v, %d; want %v, %d", i, s.target, s.at, ok, n, s.ok, s.suppressed)
		}
	}
}

func TestWarnLimiterBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var l warnLimiter
	for i := range 3 * maxWarnTargets {
		// Every target is new and logged; those older than the interval
		// are forgotten, so the map stays bounded.
		at := t0.Add(time.Duration(i) * warnInterval / maxWarnTargets)
		if ok, _ := l.allow(string(rune(i)), at); !ok {
			t.Fatalf("new target %d not logged", i)
		}
		if len(l.targets) > maxWarnTargets {
			t.Fatalf("%d targets remembered, bound %d", len(l.targets), maxWarnTargets)
		}
	}
}
