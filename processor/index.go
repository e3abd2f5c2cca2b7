package processor

import (
	"sort"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/cond"
)

// orgIndex is the candidate index of one organisation's active journeys. It
// maps, per indexed path, each value a waypoint requires there to that
// waypoint, so that a statement only evaluates the conditions of waypoints
// it could possibly match: the work per statement follows the number of
// waypoints that share its verb, object or type, not the number of journeys.
//
// Soundness rests on cond.Matcher.Required: a waypoint is indexed under one
// of its required constraints, and a document that matches the waypoint
// necessarily holds one of the constraint's values at the constraint's path,
// so looking the document's values up finds it. Waypoints without an
// indexable constraint are in always and are candidates for every statement.
//
// The index also owns the organisation's path table: every path its
// waypoints' conditions and its indexed paths read is interned there, and
// each journey's waypoints are bound to it (live.bound), so that a
// statement resolves each path once — in the index probe and for every
// candidate waypoint — through the index's memo (see cond.Memo).
type orgIndex struct {
	journeys []*live
	paths    []pathIndex
	always   []wpRef
	table    *cond.PathTable
	memo     *cond.Memo
}

type pathIndex struct {
	name   string
	id     int32              // in the index's path table
	values map[string][]wpRef // key: BSON type byte + value bytes
}

// wpRef names a waypoint: journey position in orgIndex.journeys and
// waypoint position in its compiled (active) waypoints.
type wpRef struct {
	j, w int32
}

// lowSelectivity lists paths that every statement of an organisation tends
// to share; a waypoint is indexed under them only as a last resort.
var lowSelectivity = map[string]bool{
	"organisation": true, "lrs_id": true, "voided": true, "active": true,
	"statement.actor.objectType": true, "statement.object.objectType": true,
	"statement.version": true,
}

// buildOrgIndex indexes journeys, which must all be active and belong to
// one organisation. Each waypoint goes under the constraint whose path has
// the most distinct required values across the organisation (the most
// selective path), ties broken by fewer values, then by path name, so the
// index is deterministic.
func buildOrgIndex(journeys []*live) *orgIndex {
	oi := &orgIndex{journeys: journeys, table: cond.NewPathTable()}
	var all [][]cond.Constraint
	for _, l := range journeys {
		all = append(all, l.required...)
		l.bound = l.bound[:0]
		for _, w := range l.c.Waypoints {
			l.bound = append(l.bound, oi.table.Bind(w.Matcher))
		}
	}
	distinct := distinctValues(all...)
	byPath := map[string]*pathIndex{}
	for ji, l := range journeys {
		for wi, cs := range l.required {
			ref := wpRef{j: int32(ji), w: int32(wi)}
			best := bestConstraint(cs, distinct)
			if best < 0 {
				oi.always = append(oi.always, ref)
				continue
			}
			c := cs[best]
			pi := byPath[c.Path]
			if pi == nil {
				pi = &pathIndex{name: c.Path, id: oi.table.Intern(cond.ParsePath(c.Path)), values: map[string][]wpRef{}}
				byPath[c.Path] = pi
			}
			for _, v := range c.Values {
				k := valueKey(v)
				refs := pi.values[k]
				// A $in listing the same value twice must not make the
				// waypoint a candidate twice.
				if n := len(refs); n == 0 || refs[n-1] != ref {
					pi.values[k] = append(refs, ref)
				}
			}
		}
	}
	for _, pi := range byPath {
		oi.paths = append(oi.paths, *pi)
	}
	sort.Slice(oi.paths, func(a, b int) bool { return oi.paths[a].name < oi.paths[b].name })
	oi.memo = oi.table.NewMemo()
	return oi
}

// distinctValues maps each path that the waypoints' required constraints
// name to the set of distinct values (by valueKey) they require there.
func distinctValues(waypoints ...[]cond.Constraint) map[string]map[string]struct{} {
	distinct := map[string]map[string]struct{}{}
	for _, cs := range waypoints {
		for _, c := range cs {
			set := distinct[c.Path]
			if set == nil {
				set = map[string]struct{}{}
				distinct[c.Path] = set
			}
			for _, v := range c.Values {
				set[valueKey(v)] = struct{}{}
			}
		}
	}
	return distinct
}

// bestConstraint returns the position in cs of the constraint a waypoint
// is indexed under (see better), or -1 when it has none.
func bestConstraint(cs []cond.Constraint, distinct map[string]map[string]struct{}) int {
	best := -1
	for i, c := range cs {
		if best < 0 || better(c, cs[best], distinct) {
			best = i
		}
	}
	return best
}

// better reports whether a is a better constraint to index a waypoint
// under than b: not of low selectivity, more distinct values across the
// organisation, fewer values of its own, then by path name.
func better(a, b cond.Constraint, distinct map[string]map[string]struct{}) bool {
	if la, lb := lowSelectivity[a.Path], lowSelectivity[b.Path]; la != lb {
		return lb
	}
	if da, db := len(distinct[a.Path]), len(distinct[b.Path]); da != db {
		return da > db
	}
	if len(a.Values) != len(b.Values) {
		return len(a.Values) < len(b.Values)
	}
	return a.Path < b.Path
}

// valueKey is the index key of a value: its type byte then its encoded
// bytes. Index values are strings, ObjectIds and booleans only, whose BSON
// equality is byte equality.
func valueKey(v bson.RawValue) string {
	return string(append([]byte{byte(v.Type)}, v.Value...))
}
