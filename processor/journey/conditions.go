package journey

import (
	"errors"
	"fmt"
	"strings"

	"github.com/journeys/journeys/processor/cond"
	"go.mongodb.org/mongo-driver/bson"
)

// compileConditions compiles a waypoint's conditions string. Its errors are
// the condition compiler's (a *cond.Error names the offending operator).
func compileConditions(s string) (*cond.Matcher, error) {
	if strings.TrimSpace(s) == "" {
		// Matching every statement by omission is never what an author
		// meant; "{}" says it explicitly.
		return nil, errors.New("is required: a MongoDB query in Extended JSON")
	}
	return cond.CompileString(s)
}

// conditionsFromObject converts conditions sent as an embedded JSON object
// to the string form the document stores: relaxed Extended JSON with keys in
// the order sent (key order is significant to MongoDB document equality).
func conditionsFromObject(obj []byte) (string, error) {
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(obj, false, &doc); err != nil {
		return "", fmt.Errorf("invalid Extended JSON: %w", err)
	}
	s, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		return "", fmt.Errorf("invalid Extended JSON: %w", err)
	}
	return string(s), nil
}

// canonicalConditions returns the canonical Extended JSON of a conditions
// string, so that the same query written with different whitespace or
// string escapes, with a value in relaxed rather than canonical form, or
// with a date as Learning Locker's {"$dte"} marker rather than {"$date"},
// digests the same. ok is false when s does not parse; the caller then
// digests s itself.
func canonicalConditions(s string) (canon []byte, ok bool) {
	doc, err := cond.ParseQuery(s)
	if err != nil {
		return nil, false
	}
	canon, err = bson.MarshalExtJSON(doc, true, false)
	return canon, err == nil
}
