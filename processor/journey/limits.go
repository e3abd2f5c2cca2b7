package journey

import (
	"fmt"
	"strconv"
	"sync/atomic"
)

// Defaults of the journey size limits (docs/design.md §11).
const (
	DefaultMaxWaypoints      = 100
	DefaultMaxOutcomes       = 20
	DefaultMaxConditionBytes = 64 << 10
	DefaultMaxCount          = 1000
)

// Limit names, as they appear in error messages and in the limit label of
// the journeys_limit_hits_total metric.
const (
	LimitWaypoints      = "waypoints"
	LimitOutcomes       = "outcomes"
	LimitConditionBytes = "condition_bytes"
	LimitCount          = "count"
	// LimitProgressAttempts is not a journey limit: it counts progress
	// documents served with older attempts left to paging.
	LimitProgressAttempts = "progress_attempts"
)

// Limits bound the size of a journey that is saved through the API, so
// that no journey document, compiled matcher, progress record or callback
// body grows without bound. They are checked at save time only: a journey
// saved under larger limits (or written to MongoDB by another writer) keeps
// running after the limits are lowered. A zero field selects its default.
type Limits struct {
	// Waypoints and Outcomes bound the length of those arrays.
	Waypoints int
	Outcomes  int
	// ConditionBytes bounds the length of one waypoint's conditions in
	// their string (Extended JSON) form.
	ConditionBytes int
	// Count bounds a waypoint's count. Progress keeps up to count
	// statement references per waypoint, in the stored record, the
	// progress documents and the callback body, so this bounds them all.
	Count int
}

// withDefaults returns l with its zero fields defaulted.
func (l Limits) withDefaults() Limits {
	if l.Waypoints <= 0 {
		l.Waypoints = DefaultMaxWaypoints
	}
	if l.Outcomes <= 0 {
		l.Outcomes = DefaultMaxOutcomes
	}
	if l.ConditionBytes <= 0 {
		l.ConditionBytes = DefaultMaxConditionBytes
	}
	if l.Count <= 0 {
		l.Count = DefaultMaxCount
	}
	return l
}

// ConditionsTooLarge reports whether conditions, a waypoint's conditions
// in their stored string form, exceed the condition size limit, with the
// message that says so.
func (l Limits) ConditionsTooLarge(conditions string) (msg string, over bool) {
	l = l.withDefaults()
	if n := len(conditions); n > l.ConditionBytes {
		return fmt.Sprintf("%d bytes exceed the condition size limit of %d bytes", n, l.ConditionBytes), true
	}
	return "", false
}

// Check returns a *ValidationError naming every limit j exceeds (the field
// error's message names the limit and its value), or nil, together with
// the names of the limits hit (LimitWaypoints, ...; each at most once) for
// counting.
func (l Limits) Check(j *Journey) (hit []string, err error) {
	l = l.withDefaults()
	var c checker
	if n := len(j.Waypoints); n > l.Waypoints {
		c.add("waypoints", fmt.Sprintf("%d waypoints exceed the limit of %d waypoints per journey", n, l.Waypoints))
		hit = append(hit, LimitWaypoints)
	}
	if n := len(j.Outcomes); n > l.Outcomes {
		c.add("outcomes", fmt.Sprintf("%d outcomes exceed the limit of %d outcomes per journey", n, l.Outcomes))
		hit = append(hit, LimitOutcomes)
	}
	conditions, counts := false, false
	for i := range j.Waypoints {
		w := &j.Waypoints[i]
		if msg, over := l.ConditionsTooLarge(w.Conditions); over {
			c.add("waypoints["+strconv.Itoa(i)+"].conditions", msg)
			conditions = true
		}
		if w.Count > l.Count {
			c.add("waypoints["+strconv.Itoa(i)+"].count",
				fmt.Sprintf("%d exceeds the limit of %d statements per waypoint", w.Count, l.Count))
			counts = true
		}
	}
	if conditions {
		hit = append(hit, LimitConditionBytes)
	}
	if counts {
		hit = append(hit, LimitCount)
	}
	return hit, c.err()
}

// LimitStats counts the saves refused by each limit, and the progress
// documents that left older attempts to paging, for the
// journeys_limit_hits_total metric. The zero value is ready to use and
// safe for concurrent use.
type LimitStats struct {
	Waypoints      atomic.Uint64
	Outcomes       atomic.Uint64
	ConditionBytes atomic.Uint64
	Count          atomic.Uint64
	// ProgressAttempts counts progress documents served with older
	// attempts left out (LimitProgressAttempts).
	ProgressAttempts atomic.Uint64
}

// Record adds one for each limit named in hit, as Limits.Check returns
// them. A nil receiver counts nothing.
func (s *LimitStats) Record(hit []string) {
	if s == nil {
		return
	}
	for _, name := range hit {
		switch name {
		case LimitWaypoints:
			s.Waypoints.Add(1)
		case LimitOutcomes:
			s.Outcomes.Add(1)
		case LimitConditionBytes:
			s.ConditionBytes.Add(1)
		case LimitCount:
			s.Count.Add(1)
		case LimitProgressAttempts:
			s.ProgressAttempts.Add(1)
		}
	}
}
