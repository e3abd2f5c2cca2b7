package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
)

// Page size limits of the list routes (docs/design.md §9).
const (
	defaultLimit = 100
	maxLimit     = 1000
	// defaultFirst is the connection page size when neither first nor last
	// is given, as in Learning Locker's connection API.
	defaultFirst = 10
	// maxSortColumns bounds a sort specification.
	maxSortColumns = 8
)

// objectID parses a path or query parameter holding an ObjectId. Ids that
// do not parse cannot exist, so they answer 404 like unknown ones.
func objectID(s string) (primitive.ObjectID, error) {
	id, err := primitive.ObjectIDFromHex(s)
	if err != nil {
		return id, errNotFound(fmt.Sprintf("no journey %q", s))
	}
	return id, nil
}

// intParam parses an optional integer parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errBadRequest(name, fmt.Sprintf("must be an integer from %d to %d, got %q", lo, hi, s))
	}
	return n, nil
}

// filterParam compiles the filter (or query) parameter of a journey list:
// a MongoDB query in Extended JSON, with the operators of the condition
// language and Learning Locker's markers, its values cast against the
// journey schema as mongoose casts them (see castFilter). It returns nil
// when there is none.
func filterParam(q url.Values) (*cond.Matcher, error) {
	name, doc, err := rawFilterParam(q)
	if doc == nil || err != nil {
		return nil, err
	}
	return compileFilter(name, doc, journeySchema)
}

// rawFilterParam parses the filter or query parameter (Learning Locker's
// clients send either) into a BSON document, nil when there is none. Both
// at once is an error: one of them would be ignored.
func rawFilterParam(q url.Values) (name string, doc bson.Raw, err error) {
	name = "filter"
	s := q.Get(name)
	if v := q.Get("query"); v != "" {
		if s != "" {
			return name, nil, errBadRequest("query", "give filter or query, not both")
		}
		name, s = "query", v
	}
	if s == "" {
		return name, nil, nil
	}
	doc, err = cond.ParseQuery(s)
	if err != nil {
		return name, nil, errBadRequest(name, err.Error())
	}
	return name, doc, nil
}

// compileFilter casts a parsed filter against sch and compiles it.
func compileFilter(name string, doc bson.Raw, sch schema) (*cond.Matcher, error) {
	doc, err := castFilter(name, doc, sch)
	if err != nil {
		return nil, err
	}
	m, err := cond.Compile(doc)
	if err != nil {
		return nil, errBadRequest(name, err.Error())
	}
	return m, nil
}

// jsonObjectParam parses an Extended JSON object parameter into a BSON
// document, which keeps the order of its members.
func jsonObjectParam(name, s string) (bson.Raw, error) {
	var probe json.RawMessage
	if err := json.Unmarshal([]byte(s), &probe); err != nil {
		return nil, errBadRequest(name, "invalid JSON: "+err.Error())
	}
	if probe[0] != '{' {
		return nil, errBadRequest(name, "must be a JSON object")
	}
	var d bson.Raw
	if err := bson.UnmarshalExtJSON(probe, false, &d); err != nil {
		return nil, errBadRequest(name, "invalid Extended JSON: "+err.Error())
	}
	return d, nil
}

// checkPath validates a dotted field path given by a client.
func checkPath(p string) error {
	if p == "" {
		return errors.New("empty field path")
	}
	for seg := range strings.SplitSeq(p, ".") {
		if seg == "" {
			return fmt.Errorf("field path %q has an empty segment", p)
		}
		if seg[0] == '$' {
			return fmt.Errorf("field path %q: segments must not start with $", p)
		}
	}
	return nil
}

// overlaps reports whether one of two dotted paths is the other or an
// ancestor of it.
func overlaps(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || strings.HasPrefix(b, a) && b[len(a)] == '.'
}

// direction reads a sort or projection number: an integer-valued number.
func direction(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return int64(v.Int32()), true
	case bson.TypeInt64:
		return v.Int64(), true
	case bson.TypeDouble:
		f := v.Double()
		if f != float64(int64(f)) {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}
