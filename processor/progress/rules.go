// Package progress holds the progress rules of docs/design.md §6: how one eligible
// statement advances one owner's progress through one journey, and the
// compact binary encoding of that progress as it is kept in the state store.
//
// The rules are a pure function of (journey rules, current record, statement,
// which waypoints the statement matches), so that a replay of the same
// statements in the same order yields byte-identical records. Every time kept
// in a record is a statement's stored or timestamp time, never the wall clock,
// for the same reason.
package progress

// Rules are the parts of a compiled journey that progress depends on.
// Counts[i] is the required count of active waypoint i, in the journey's
// evaluation order (for sequential journeys, ascending order then position).
type Rules struct {
	Sequential bool
	Repeatable bool
	Counts     []int
}

// Stmt is what the rules need to know of a statement.
type Stmt struct {
	// ID is the stored document's _id (an ObjectId).
	ID [12]byte
	// Stored is the document's stored time in Unix milliseconds; it becomes
	// completedAt of what the statement completes.
	Stored int64
	// Timestamp is the document's timestamp in Unix milliseconds; it is kept
	// with the statement reference.
	Timestamp int64
}

// Effect reports what Apply did.
type Effect struct {
	// Changed is true when the record was modified and must be written.
	Changed bool
	// Completed is true when the statement completed the current attempt.
	Completed bool
	// Started is true when the statement started a new attempt (the first
	// attempt, or the next attempt of a repeatable journey).
	Started bool
}

// Apply applies one eligible statement to r under the rules ru. match(i)
// reports whether the statement satisfies waypoint i's conditions; it is
// called lazily, only for waypoints the statement could count toward, so a
// sequential journey evaluates at most one condition per statement.
//
// A record whose attempt is complete is finished when the journey is not
// repeatable: later statements are ignored. When it is repeatable, the next
// statement that counts toward some waypoint starts a new attempt (an
// attempt exists once something has counted toward it, so statements that
// match nothing never create empty attempts).
func Apply(ru *Rules, r *Record, s Stmt, match func(i int) bool) Effect {
	var eff Effect
	var prev Attempt
	if r.Attempt.Number > 0 && r.Attempt.CompletedAt != 0 {
		if !ru.Repeatable {
			return eff
		}
		// Try the statement against a fresh attempt and keep it only if
		// the statement counts toward it.
		prev = r.Attempt
		r.startAttempt(prev.Number+1, len(ru.Counts))
		eff.Started = true
	} else if r.Attempt.Number == 0 {
		r.startAttempt(1, len(ru.Counts))
		eff.Started = true
	} else if len(r.Attempt.Waypoints) != len(ru.Counts) {
		// A record written under another shape of the journey: the engine
		// resets progress when the version changes, so only a corrupt or
		// foreign record gets here. Reshape rather than index out of range.
		r.Attempt.reshape(len(ru.Counts))
	}

	a := &r.Attempt
	if ru.Sequential {
		if i := firstIncomplete(a); i >= 0 && match(i) {
			a.count(i, ru.Counts[i], s)
			eff.Changed = true
		}
	} else {
		for i := range a.Waypoints {
			if a.Waypoints[i].CompletedAt == 0 && match(i) {
				a.count(i, ru.Counts[i], s)
				eff.Changed = true
			}
		}
	}
	if !eff.Changed {
		if eff.Started {
			r.Attempt = prev
			eff.Started = false
		}
		return eff
	}
	if r.CreatedAt == 0 {
		r.CreatedAt = s.Stored
	}
	r.UpdatedAt = s.Stored
	if firstIncomplete(a) < 0 {
		a.CompletedAt = s.Stored
		eff.Completed = true
	}
	return eff
}

func firstIncomplete(a *Attempt) int {
	for i := range a.Waypoints {
		if a.Waypoints[i].CompletedAt == 0 {
			return i
		}
	}
	return -1
}
