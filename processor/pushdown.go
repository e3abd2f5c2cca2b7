package processor

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
)

// pushdown returns the query a recalculation scan sends to the LRS so that
// the server returns only statements that can match one of journeys (one
// organisation's, which the scan selects itself): stored no later than
// bound, not voided, and the $or, over the journeys, of their sources and
// the $or of their active waypoints' conditions. The LRS's own indexes
// (verb, object, actor, persona, stored) then do the work; the in-process
// matcher still decides, so the filter only has to select a superset of
// what it accepts (TestPushdownSuperset checks that on lungo).
//
// The conditions are sent as the matcher compiled them (cond.ParseQuery:
// Learning Locker's {"$dte"} markers become dates): the matcher implements MongoDB's
// semantics for every operator it accepts (docs/design.md §5), so the server
// evaluates them the same way. The one known difference is regular
// expressions, which the server runs with PCRE and the matcher with RE2:
// for the patterns RE2 accepts the two agree, except case-insensitive
// matching of non-ASCII letters (Unicode case folding differs); a waypoint
// whose conditions use a case-insensitive regex is therefore not pushed
// down: its journey's part of the filter selects every statement. A
// condition that does not parse (it never compiled, so its journey is not
// scanned) is treated the same way.
func pushdown(journeys []*journey.Compiled, bound int64) bson.D {
	var parts bson.A
	for _, c := range journeys {
		var conds bson.A
		everything := false
		for _, w := range c.Waypoints {
			q, ok := pushable(c.Doc.Waypoints[w.Position].Conditions)
			if !ok {
				everything = true
				break
			}
			conds = append(conds, q)
		}
		if len(conds) == 0 && !everything {
			continue // no active waypoint: it matches nothing
		}
		var part bson.D
		if len(c.Sources) > 0 {
			part = append(part, bson.E{Key: "lrs_id", Value: bson.D{{Key: "$in", Value: c.Sources}}})
		}
		if !everything {
			part = append(part, bson.E{Key: "$or", Value: conds})
		}
		if len(part) == 0 {
			return scanBounds(bound, nil) // this journey reads everything
		}
		parts = append(parts, part)
	}
	return scanBounds(bound, parts)
}

// scanBounds is the filter of statements stored no later than bound, not
// voided, and, when parts is not empty, matching one of parts.
func scanBounds(bound int64, parts bson.A) bson.D {
	and := bson.A{
		bson.D{{Key: "stored", Value: bson.D{{Key: "$lte", Value: bsonDate(bound)}}}},
		bson.D{{Key: "voided", Value: bson.D{{Key: "$ne", Value: true}}}},
	}
	if len(parts) > 0 {
		and = append(and, bson.D{{Key: "$or", Value: parts}})
	}
	return bson.D{{Key: "$and", Value: and}}
}

// pushable parses a waypoint's conditions for the server, reporting false
// when they cannot be sent as they are (see pushdown).
func pushable(conditions string) (bson.Raw, bool) {
	// Learning Locker's markers ({"$dte"}) converted, as the matcher has
	// them.
	q, err := cond.ParseQuery(conditions)
	if err != nil {
		return nil, false
	}
	return q, !caseInsensitiveRegex(q)
}

// caseInsensitiveRegex reports whether doc holds a regular expression with
// the i option, as a regex value, a $options string or an inline flag.
func caseInsensitiveRegex(doc bson.Raw) bool {
	elems, err := doc.Elements()
	if err != nil {
		return true
	}
	for _, e := range elems {
		v := e.Value()
		switch v.Type {
		case bsontype.Regex:
			pattern, opts := v.Regex()
			if strings.Contains(opts, "i") || strings.Contains(pattern, "(?") {
				return true
			}
		case bsontype.String:
			s := v.StringValue()
			if e.Key() == "$options" && strings.Contains(s, "i") || e.Key() == "$regex" && strings.Contains(s, "(?") {
				return true
			}
		case bsontype.EmbeddedDocument:
			if caseInsensitiveRegex(v.Document()) {
				return true
			}
		case bsontype.Array:
			if caseInsensitiveRegex(bson.Raw(v.Array())) {
				return true
			}
		}
	}
	return false
}

func bsonDate(ms int64) primitive.DateTime { return primitive.DateTime(ms) }
