package journey

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// The decoder's typed readers. Each takes one syntactically valid JSON value
// (the body was checked as a whole first), reports a wrong type at path, and
// marks the path bad so semantic checks skip its placeholder value.

// jsonKind names the JSON type of raw from its first byte.
func jsonKind(raw json.RawMessage) string {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			return "string"
		case '{':
			return "object"
		case '[':
			return "array"
		case 't', 'f':
			return "boolean"
		case 'n':
			return "null"
		default:
			return "number"
		}
	}
	return "nothing"
}

// wrongType marks path bad because raw is not of the wanted kind.
func (d *decoder) wrongType(path, want string, raw json.RawMessage) {
	d.c.bad(path, fmt.Sprintf("must be %s, got %s", want, jsonKind(raw)))
}

// string reads a JSON string into dst.
func (d *decoder) string(path string, raw json.RawMessage, dst *string) bool {
	if jsonKind(raw) != "string" || json.Unmarshal(raw, dst) != nil {
		d.wrongType(path, "a string", raw)
		return false
	}
	return true
}

// bool reads a JSON boolean into dst.
func (d *decoder) bool(path string, raw json.RawMessage, dst *bool) {
	if jsonKind(raw) != "boolean" || json.Unmarshal(raw, dst) != nil {
		d.wrongType(path, "a boolean", raw)
	}
}

// objectID reads a 24-hex-digit string into dst.
func (d *decoder) objectID(path string, raw json.RawMessage, dst *primitive.ObjectID) {
	var s string
	if jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		d.wrongType(path, "an ObjectId (24 hex digits)", raw)
		return
	}
	id, err := primitive.ObjectIDFromHex(s)
	if err != nil {
		d.c.bad(path, fmt.Sprintf("must be an ObjectId (24 hex digits), got %q", s))
		return
	}
	*dst = id
}

// array splits a JSON array into its elements.
func (d *decoder) array(path string, raw json.RawMessage) ([]json.RawMessage, bool) {
	var elems []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &elems) != nil {
		d.wrongType(path, "an array", raw)
		return nil, false
	}
	return elems, true
}

// object splits a JSON object into its members.
func (d *decoder) object(path string, raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var members map[string]json.RawMessage
	if jsonKind(raw) != "object" || json.Unmarshal(raw, &members) != nil {
		d.wrongType(path, "an object", raw)
		return nil, false
	}
	return members, true
}

// number reads a finite JSON number into dst.
func (d *decoder) number(path string, raw json.RawMessage, dst *float64) {
	if jsonKind(raw) != "number" {
		d.wrongType(path, "a number", raw)
		return
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) {
		d.c.bad(path, fmt.Sprintf("must be a finite number, got %s", raw))
		return
	}
	*dst = f
}

// count reads a waypoint count: a JSON number with an integral value
// (5 and 5.0 alike, as MongoDB treats them). Range is left to check, except
// for values too large for an int.
func (d *decoder) count(path string, raw json.RawMessage, dst *int) {
	if jsonKind(raw) != "number" {
		d.wrongType(path, "an integer", raw)
		return
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > maxCount {
		d.c.bad(path, countMessage(string(raw)))
		return
	}
	*dst = int(f)
}

// countMessage is the error for a count that is not an integer in range.
func countMessage(got string) string {
	return fmt.Sprintf("must be an integer from 1 to %d, got %s", maxCount, got)
}
