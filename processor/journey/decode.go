package journey

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// DecodeJSON parses an API request body into a new Journey.
//
// Absent (or null) fields take their defaults: isActive true, isSequential
// and isRepeatable false, trackBy "actor", isPublic false, sources and
// outcomes empty; a waypoint's isActive true, count 1, order its array
// position; an outcome's isActive true; a waypoint or outcome without _id
// gets a new one. Server-set fields (_id, organisation, owner, createdAt,
// updatedAt, recalculateStatus) and unknown fields are ignored, never
// errors; a top-level "$" field (an update operator such as $set) is an
// error, since ignoring it would change nothing without saying so. conditions may be an Extended JSON string, kept as sent, or an
// embedded object, stored as relaxed Extended JSON with keys in the order
// sent.
//
// The error is a *SyntaxError when data is not valid JSON, or a
// *ValidationError listing every invalid field (wrong JSON types and
// Validate's rules alike). A nil error means the Journey passes Validate.
func DecodeJSON(data []byte) (*Journey, error) {
	j, _, err := decode(data, false)
	return j, err
}

// Patch is a decoded PATCH body: the client-settable top-level fields it
// sets. Arrays are replaced whole; absent fields are left alone.
type Patch struct {
	doc    Journey
	fields []string
}

// DecodePatch parses a PATCH request body. It type-checks the fields present
// and applies the per-field rules of Validate (with DecodeJSON's defaults
// inside the arrays sent, and null resetting a field to its default); rules
// spanning fields are left to the Validate that must follow Apply. The
// errors are those of DecodeJSON.
func DecodePatch(data []byte) (*Patch, error) {
	j, fields, err := decode(data, true)
	if err != nil {
		return nil, err
	}
	return &Patch{doc: *j, fields: fields}, nil
}

// Fields returns the names of the top-level fields the patch sets, sorted.
func (p *Patch) Fields() []string { return slices.Clone(p.fields) }

// Apply copies the fields the patch sets into j. j shares no memory with
// the patch afterwards.
func (p *Patch) Apply(j *Journey) {
	for _, f := range p.fields {
		switch f {
		case "description":
			j.Description = p.doc.Description
		case "isActive":
			j.IsActive = p.doc.IsActive
		case "sources":
			j.Sources = slices.Clone(p.doc.Sources)
		case "waypoints":
			j.Waypoints = slices.Clone(p.doc.Waypoints)
		case "outcomes":
			j.Outcomes = slices.Clone(p.doc.Outcomes)
		case "isSequential":
			j.IsSequential = p.doc.IsSequential
		case "isRepeatable":
			j.IsRepeatable = p.doc.IsRepeatable
		case "trackBy":
			j.TrackBy = p.doc.TrackBy
		case "isPublic":
			j.IsPublic = p.doc.IsPublic
		}
	}
}

// decoder turns JSON members into Journey fields, collecting errors.
type decoder struct {
	c checker
}

// decode parses data into a defaulted Journey and returns it with the
// client-settable top-level fields present in data, sorted.
func decode(data []byte, patch bool) (*Journey, []string, error) {
	top, err := parseBody(data)
	if err != nil {
		return nil, nil, err
	}
	j := &Journey{
		IsActive:  true,
		TrackBy:   TrackByActor,
		Sources:   []primitive.ObjectID{},
		Waypoints: []Waypoint{},
		Outcomes:  []Outcome{},
	}
	var d decoder
	var fields []string
	// Sorted, for Patch.Fields and a deterministic walk.
	for _, name := range slices.Sorted(maps.Keys(top)) {
		if strings.HasPrefix(name, "$") {
			// A MongoDB update document ({"$set": {…}}), which mongoose
			// would apply: ignoring it would answer 200 and change nothing.
			d.c.bad(name, "update operators are not supported: send the fields themselves (PATCH changes only the fields it sends)")
			continue
		}
		if d.topField(name, top[name], j) {
			fields = append(fields, name)
		}
	}
	j.check(&d.c, patch)
	if err := d.c.err(); err != nil {
		return nil, nil, err
	}
	return j, fields, nil
}

// parseBody checks that data is one JSON object and splits it into members.
func parseBody(data []byte) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	err := json.Unmarshal(data, &top)
	if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		return nil, newSyntaxError(data, se.Offset, se.Error())
	}
	if err != nil || top == nil {
		// Valid JSON, but an array, a scalar or null.
		return nil, &ValidationError{Errors: []FieldError{{
			Field: "", Message: fmt.Sprintf("the body must be a JSON object, got %s", jsonKind(data)),
		}}}
	}
	return top, nil
}

// topField decodes one top-level member into j. It reports whether name is
// a client-settable field; server-set and unknown fields are ignored.
func (d *decoder) topField(name string, raw json.RawMessage, j *Journey) bool {
	switch name {
	case "description", "isActive", "sources", "waypoints", "outcomes",
		"isSequential", "isRepeatable", "trackBy", "isPublic":
	default:
		return false
	}
	if jsonKind(raw) == "null" {
		return true // the default stands
	}
	switch name {
	case "description":
		d.string(name, raw, &j.Description)
	case "isActive":
		d.bool(name, raw, &j.IsActive)
	case "sources":
		j.Sources = d.sources(raw)
	case "waypoints":
		j.Waypoints = d.waypoints(raw)
	case "outcomes":
		j.Outcomes = d.outcomes(raw)
	case "isSequential":
		d.bool(name, raw, &j.IsSequential)
	case "isRepeatable":
		d.bool(name, raw, &j.IsRepeatable)
	case "trackBy":
		var s string
		if d.string(name, raw, &s) {
			j.TrackBy = TrackBy(s)
		}
	case "isPublic":
		d.bool(name, raw, &j.IsPublic)
	}
	return true
}

// sources decodes the array of store ids.
func (d *decoder) sources(raw json.RawMessage) []primitive.ObjectID {
	elems, ok := d.array("sources", raw)
	ids := make([]primitive.ObjectID, len(elems))
	if !ok {
		return ids
	}
	for i, e := range elems {
		d.objectID("sources["+strconv.Itoa(i)+"]", e, &ids[i])
	}
	return ids
}

// waypoints decodes the waypoints array. An element that is not an object
// keeps a placeholder so that later elements keep their index in paths.
func (d *decoder) waypoints(raw json.RawMessage) []Waypoint {
	elems, ok := d.array("waypoints", raw)
	ws := make([]Waypoint, len(elems))
	if !ok {
		return ws
	}
	for i, e := range elems {
		path := "waypoints[" + strconv.Itoa(i) + "]"
		w := &ws[i]
		*w = Waypoint{IsActive: true, Count: 1, Order: float64(i)}
		members, ok := d.object(path, e)
		if !ok {
			continue
		}
		generate := true
		for name, v := range members {
			if jsonKind(v) == "null" {
				continue
			}
			p := path + "." + name
			switch name {
			case "_id":
				generate = false
				d.objectID(p, v, &w.ID)
			case "description":
				d.string(p, v, &w.Description)
			case "isActive":
				d.bool(p, v, &w.IsActive)
			case "conditions":
				d.conditions(p, v, &w.Conditions)
			case "count":
				d.count(p, v, &w.Count)
			case "order":
				d.number(p, v, &w.Order)
			}
		}
		if generate {
			w.ID = primitive.NewObjectID()
		}
	}
	return ws
}

// conditions reads a waypoint's conditions, sent as an Extended JSON
// string or as an embedded object.
func (d *decoder) conditions(path string, raw json.RawMessage, dst *string) {
	switch jsonKind(raw) {
	case "string":
		d.string(path, raw, dst)
	case "object":
		s, err := conditionsFromObject(raw)
		if err != nil {
			d.c.bad(path, err.Error())
			return
		}
		*dst = s
	default:
		d.wrongType(path, "a string or an object", raw)
	}
}

// outcomes decodes the outcomes array, like waypoints.
func (d *decoder) outcomes(raw json.RawMessage) []Outcome {
	elems, ok := d.array("outcomes", raw)
	outs := make([]Outcome, len(elems))
	if !ok {
		return outs
	}
	for i, e := range elems {
		path := "outcomes[" + strconv.Itoa(i) + "]"
		o := &outs[i]
		o.IsActive = true
		members, ok := d.object(path, e)
		if !ok {
			continue
		}
		generate := true
		for name, v := range members {
			if jsonKind(v) == "null" {
				continue
			}
			p := path + "." + name
			switch name {
			case "_id":
				generate = false
				d.objectID(p, v, &o.ID)
			case "description":
				d.string(p, v, &o.Description)
			case "isActive":
				d.bool(p, v, &o.IsActive)
			case "type":
				d.string(p, v, &o.Type)
			case "callback":
				d.string(p, v, &o.Callback)
			}
		}
		if generate {
			o.ID = primitive.NewObjectID()
		}
	}
	return outs
}
