package processor

import "github.com/journeys/journeys/processor/cond"

// IndexPath reports whether the candidate index can serve a waypoint whose
// conditions compiled to m, and under which path it would file the
// waypoint if it were its organisation's only one.
//
// A served waypoint is evaluated only for the statements that hold one of
// its required values at that path (see orgIndex); one that is not served
// (ok false: its conditions imply no equality on strings, ObjectIds or
// booleans at the top level, e.g. a bare $or, $regex or score range) is
// evaluated for every statement of its organisation. Among several
// organisations' waypoints the index may pick another of m's constraints,
// by how selective each path is across them; whether it is served does not
// depend on the others.
func IndexPath(m *cond.Matcher) (path string, ok bool) {
	cs := m.Required()
	best := bestConstraint(cs, distinctValues(cs))
	if best < 0 {
		return "", false
	}
	return cs[best].Path, true
}
