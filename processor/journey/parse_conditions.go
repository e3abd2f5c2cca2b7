package journey

import (
	"encoding/json"
	"errors"

	"github.com/journeys/journeys/processor/cond"
)

// ParseConditions reads waypoint conditions as a journey body carries them
// — an Extended JSON string, or an embedded object — and compiles them as
// a journey save does. It returns the string form a journey stores and its
// matcher. Errors are the ones a save reports at the waypoint's conditions
// field; a *cond.Error among them names the offending operator.
func ParseConditions(raw json.RawMessage) (string, *cond.Matcher, error) {
	var s string
	switch jsonKind(raw) {
	case "string":
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, errors.New("invalid JSON string: " + err.Error())
		}
	case "object":
		var err error
		if s, err = conditionsFromObject(raw); err != nil {
			return "", nil, err
		}
	case "nothing", "null":
		return "", nil, errors.New("is required: a MongoDB query in Extended JSON")
	default:
		return "", nil, errors.New("must be a string or an object, got " + jsonKind(raw))
	}
	m, err := compileConditions(s)
	if err != nil {
		return "", nil, err
	}
	return s, m, nil
}
