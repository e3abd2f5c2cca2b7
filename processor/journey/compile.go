package journey

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/journeys/journeys/processor/cond"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Compiled is a validated journey in the form the engine evaluates. It is
// immutable and safe for concurrent use.
type Compiled struct {
	ID      primitive.ObjectID
	Version string // Doc.Version()
	// Organisation is the only organisation whose statements are eligible.
	Organisation primitive.ObjectID
	// Sources are the eligible stores; empty means every store of the
	// organisation.
	Sources    []primitive.ObjectID
	TrackBy    TrackBy
	Active     bool
	Sequential bool
	Repeatable bool
	// Waypoints holds only the active waypoints: for a sequential journey
	// sorted by (order, array position), otherwise in array order. Index i
	// is the waypoint's slot in progress records.
	Waypoints []CompiledWaypoint
	// Outcomes holds the active outcomes (all callbacks), in array order.
	Outcomes []Outcome
	// Doc is the source document; it must not be modified.
	Doc *Journey
}

// CompiledWaypoint is an active waypoint with its conditions compiled.
type CompiledWaypoint struct {
	ID    primitive.ObjectID
	Order float64
	Count int
	// Position is the waypoint's index in Doc.Waypoints.
	Position int
	Matcher  *cond.Matcher
}

// Compile validates j and compiles it. The error wraps the
// *ValidationError when j breaks any rule of Validate: the engine runs only
// journeys the API would have accepted. Compile keeps j as Doc.
func Compile(j *Journey) (*Compiled, error) {
	var c checker
	matchers := j.check(&c, false)
	if err := c.err(); err != nil {
		return nil, fmt.Errorf("compiling journey %s: %w", j.ID.Hex(), err)
	}
	var ws []CompiledWaypoint
	for i, w := range j.Waypoints {
		if w.IsActive {
			ws = append(ws, CompiledWaypoint{ID: w.ID, Order: w.Order, Count: w.Count, Position: i, Matcher: matchers[i]})
		}
	}
	if j.IsSequential {
		// Stable, so equal orders keep array order.
		slices.SortStableFunc(ws, func(a, b CompiledWaypoint) int { return cmp.Compare(a.Order, b.Order) })
	}
	var outs []Outcome
	for _, o := range j.Outcomes {
		if o.IsActive { // validated: every outcome is a callback
			outs = append(outs, o)
		}
	}
	return &Compiled{
		ID:           j.ID,
		Version:      j.Version(),
		Organisation: j.Organisation,
		Sources:      slices.Clone(j.Sources),
		TrackBy:      j.TrackBy,
		Active:       j.IsActive,
		Sequential:   j.IsSequential,
		Repeatable:   j.IsRepeatable,
		Waypoints:    ws,
		Outcomes:     outs,
		Doc:          j,
	}, nil
}

// HasSource reports whether statements of store lrsID are eligible: true
// when Sources is empty or contains lrsID. It does not allocate.
func (c *Compiled) HasSource(lrsID primitive.ObjectID) bool {
	return len(c.Sources) == 0 || slices.Contains(c.Sources, lrsID)
}
