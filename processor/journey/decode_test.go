package journey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// validBody returns a minimal valid request body as a mutable map.
func validBody() map[string]any {
	return map[string]any{
		"description": "d",
		"waypoints": []any{
			map[string]any{"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`},
		},
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fieldsOf returns the paths of a *ValidationError, failing on other errors.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	var fields []string
	for _, fe := range ve.Errors {
		fields = append(fields, fe.Field)
	}
	return fields
}

func TestDecodeSeedExampleFixed(t *testing.T) {
	j, err := DecodeJSON(readTestdata(t, "seed_example_fixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Validate(); err != nil {
		t.Fatalf("decoded journey does not validate: %v", err)
	}
	if j.Description != "5 comments and 1 completion of a course" || !j.IsActive || !j.IsSequential ||
		j.IsRepeatable || j.TrackBy != TrackByActor || !j.IsPublic {
		t.Errorf("top-level fields wrong: %+v", j)
	}
	if len(j.Sources) != 2 || j.Sources[1].Hex() != "111aaa1111a111111aa11112" {
		t.Errorf("sources = %v", j.Sources)
	}
	if len(j.Waypoints) != 2 || j.Waypoints[0].Count != 5 || j.Waypoints[1].Order != 2 ||
		!strings.Contains(j.Waypoints[1].Conditions, "activities/course") {
		t.Errorf("waypoints = %+v", j.Waypoints)
	}
	if j.Waypoints[0].ID.IsZero() || j.Waypoints[0].ID == j.Waypoints[1].ID {
		t.Errorf("waypoint ids not generated uniquely: %v %v", j.Waypoints[0].ID, j.Waypoints[1].ID)
	}
	if len(j.Outcomes) != 1 || j.Outcomes[0].Callback != "http://example.org/myPOSTcallbackURL/" || j.Outcomes[0].ID.IsZero() {
		t.Errorf("outcomes = %+v", j.Outcomes)
	}
	// createdAt and updatedAt are server-set: ignored, not errors.
	if !j.CreatedAt.IsZero() || !j.UpdatedAt.IsZero() {
		t.Errorf("server-set dates taken from the body: %v %v", j.CreatedAt, j.UpdatedAt)
	}
}

func TestDecodeSeedExampleLiteralIsSyntaxError(t *testing.T) {
	data := readTestdata(t, "seed_example.json")
	_, err := DecodeJSON(data)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
	}
	// The first missing comma is after the sources array: the parser trips
	// over the opening quote of "waypoints", the byte at Offset-1.
	want := int64(bytes.Index(data, []byte(`"waypoints"`)) + 1)
	if se.Offset != want {
		t.Errorf("Offset = %d, want %d (%v)", se.Offset, want, se)
	}
	if se.Line != 7 || se.Column != 3 {
		t.Errorf("Line:Column = %d:%d, want 7:3", se.Line, se.Column)
	}
	if !strings.Contains(se.Error(), "offset") || se.Msg == "" {
		t.Errorf("unhelpful message %q", se.Error())
	}
}

func TestDecodeSyntaxErrors(t *testing.T) {
	for _, body := range []string{"", "{", `{"a":}`, `{"a":1,}`, "\xff", `{"a":1} x`} {
		_, err := DecodeJSON([]byte(body))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err = %v (%T), want *SyntaxError", body, err, err)
			continue
		}
		if se.Offset < 0 || se.Offset > int64(len(body)) {
			t.Errorf("%q: offset %d outside the input", body, se.Offset)
		}
	}
}

func TestDecodeBodyNotObject(t *testing.T) {
	for _, body := range []string{"[]", "null", "3", `"x"`, "true"} {
		_, err := DecodeJSON([]byte(body))
		if got := fieldsOf(t, err); !reflect.DeepEqual(got, []string{""}) {
			t.Errorf("%s: fields = %q, want the root", body, got)
		}
	}
}

func TestDecodeDefaults(t *testing.T) {
	body := `{"waypoints": [{"conditions": "{\"a\": 1}"}, {"conditions": "{\"b\": 1}", "count": null}],
	          "outcomes": [{"type": "callback", "callback": "https://example.org/x"}]}`
	j, err := DecodeJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !j.IsActive || j.IsSequential || j.IsRepeatable || j.TrackBy != TrackByActor || j.IsPublic {
		t.Errorf("journey defaults wrong: %+v", j)
	}
	if j.Sources == nil || len(j.Sources) != 0 {
		t.Errorf("sources = %#v, want empty non-nil", j.Sources)
	}
	for i, w := range j.Waypoints {
		if !w.IsActive || w.Count != 1 || w.Order != float64(i) || w.ID.IsZero() {
			t.Errorf("waypoint %d defaults wrong: %+v", i, w)
		}
	}
	if o := j.Outcomes[0]; !o.IsActive || o.ID.IsZero() {
		t.Errorf("outcome defaults wrong: %+v", o)
	}
	j, err = DecodeJSON([]byte(`{"isActive": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if j.Waypoints == nil || j.Outcomes == nil {
		t.Errorf("arrays not defaulted to empty: %+v", j)
	}
}

func TestDecodeKeepsSentIDs(t *testing.T) {
	body := `{"waypoints": [{"_id": "5f0c8a5e1c9d440000a1b2c3", "conditions": "{}"}],
	          "outcomes": [{"_id": "5f0c8a5e1c9d440000a1b2c4", "type": "callback", "callback": "http://h/"}]}`
	j, err := DecodeJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if j.Waypoints[0].ID.Hex() != "5f0c8a5e1c9d440000a1b2c3" || j.Outcomes[0].ID.Hex() != "5f0c8a5e1c9d440000a1b2c4" {
		t.Errorf("ids not kept: %v %v", j.Waypoints[0].ID, j.Outcomes[0].ID)
	}
}

func TestDecodeIgnoresServerSetAndUnknownFields(t *testing.T) {
	body := validBody()
	body["_id"] = "not an id at all"
	body["organisation"] = 42
	body["owner"] = []int{1}
	body["createdAt"] = "2017-01-01T00:00:00Z"
	body["updatedAt"] = false
	body["recalculateStatus"] = map[string]any{"inProgress": "yes"}
	body["somethingElse"] = map[string]any{"x": 1}
	j, err := DecodeJSON(mustJSON(t, body))
	if err != nil {
		t.Fatalf("server-set fields must be ignored, got %v", err)
	}
	if !j.ID.IsZero() || !j.Organisation.IsZero() || !j.Owner.IsZero() || !j.CreatedAt.IsZero() ||
		!j.UpdatedAt.IsZero() || j.RecalculateStatus.InProgress {
		t.Errorf("server-set fields taken from the body: %+v", j)
	}
}

func TestDecodeValidation(t *testing.T) {
	wp := func(m map[string]any) map[string]any {
		if _, ok := m["conditions"]; !ok {
			m["conditions"] = `{"a": 1}`
		}
		return m
	}
	out := func(m map[string]any) map[string]any {
		for k, v := range map[string]any{"type": "callback", "callback": "https://example.org/cb"} {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name    string
		set     map[string]any
		field   string
		message string // a substring the message must contain
	}{
		{"description type", map[string]any{"description": 5}, "description", "string"},
		{"isActive type", map[string]any{"isActive": "true"}, "isActive", "boolean"},
		{"isSequential type", map[string]any{"isSequential": 1}, "isSequential", "boolean"},
		{"isRepeatable type", map[string]any{"isRepeatable": []int{}}, "isRepeatable", "boolean"},
		{"isPublic type", map[string]any{"isPublic": "no"}, "isPublic", "boolean"},
		{"trackBy value", map[string]any{"trackBy": "person"}, "trackBy", `"person"`},
		{"trackBy type", map[string]any{"trackBy": 1}, "trackBy", "string"},
		{"sources type", map[string]any{"sources": "abc"}, "sources", "array"},
		{"source not hex", map[string]any{"sources": []any{"111aaa1111a111111aa11111", "111aaa1111a111111aa11111", "zz"}}, "sources[2]", "ObjectId"},
		{"source short", map[string]any{"sources": []any{"111aaa"}}, "sources[0]", "ObjectId"},
		{"source number", map[string]any{"sources": []any{7}}, "sources[0]", "ObjectId"},
		{"waypoints type", map[string]any{"waypoints": map[string]any{}}, "waypoints", "array"},
		{"waypoint not object", map[string]any{"waypoints": []any{wp(map[string]any{}), "x"}}, "waypoints[1]", "object"},
		{"no waypoints", map[string]any{"waypoints": []any{}}, "waypoints", "active waypoint"},
		{"no active waypoint", map[string]any{"waypoints": []any{wp(map[string]any{"isActive": false})}}, "waypoints", "active waypoint"},
		{"waypoint id", map[string]any{"waypoints": []any{wp(map[string]any{"_id": "nope"})}}, "waypoints[0]._id", "ObjectId"},
		{"waypoint zero id", map[string]any{"waypoints": []any{wp(map[string]any{"_id": "000000000000000000000000"})}}, "waypoints[0]._id", "non-zero"},
		{"duplicate waypoint id", map[string]any{"waypoints": []any{
			wp(map[string]any{"_id": "5f0c8a5e1c9d440000a1b2c3"}), wp(map[string]any{"_id": "5f0c8a5e1c9d440000a1b2c3"}),
		}}, "waypoints[1]._id", "duplicate"},
		{"count fraction", map[string]any{"waypoints": []any{wp(map[string]any{"count": 1.5})}}, "waypoints[0].count", "integer"},
		{"count zero", map[string]any{"waypoints": []any{wp(map[string]any{"count": 0})}}, "waypoints[0].count", "integer"},
		{"count negative", map[string]any{"waypoints": []any{wp(map[string]any{"count": -2})}}, "waypoints[0].count", "integer"},
		{"count string", map[string]any{"waypoints": []any{wp(map[string]any{"count": "3"})}}, "waypoints[0].count", "integer"},
		{"count huge", map[string]any{"waypoints": []any{wp(map[string]any{"count": 1e12})}}, "waypoints[0].count", "integer"},
		{"order string", map[string]any{"waypoints": []any{wp(map[string]any{"order": "1"})}}, "waypoints[0].order", "number"},
		{"conditions missing", map[string]any{"waypoints": []any{map[string]any{"count": 2}}}, "waypoints[0].conditions", "required"},
		{"conditions type", map[string]any{"waypoints": []any{wp(map[string]any{"conditions": 5})}}, "waypoints[0].conditions", "string or an object"},
		{"conditions not JSON", map[string]any{"waypoints": []any{wp(map[string]any{"conditions": "{a:"})}}, "waypoints[0].conditions", ""},
		{"conditions $where", map[string]any{"waypoints": []any{wp(map[string]any{}), wp(map[string]any{"conditions": `{"$where": "true"}`})}}, "waypoints[1].conditions", "$where"},
		{"conditions unknown operator", map[string]any{"waypoints": []any{wp(map[string]any{"conditions": `{"a": {"$foo": 1}}`})}}, "waypoints[0].conditions", "$foo"},
		{"conditions object bad ext JSON", map[string]any{"waypoints": []any{wp(map[string]any{"conditions": map[string]any{"a": map[string]any{"$oid": 5}}})}}, "waypoints[0].conditions", "Extended JSON"},
		{"outcomes type", map[string]any{"outcomes": "x"}, "outcomes", "array"},
		{"outcome not object", map[string]any{"outcomes": []any{1}}, "outcomes[0]", "object"},
		{"outcome type", map[string]any{"outcomes": []any{out(map[string]any{"type": "statement"})}}, "outcomes[0].type", `"statement"`},
		{"outcome type missing", map[string]any{"outcomes": []any{map[string]any{"callback": "http://h/"}}}, "outcomes[0].type", "callback"},
		{"callback relative", map[string]any{"outcomes": []any{out(map[string]any{"callback": "/cb"})}}, "outcomes[0].callback", "absolute"},
		{"callback scheme", map[string]any{"outcomes": []any{out(map[string]any{"callback": "ftp://h/cb"})}}, "outcomes[0].callback", `"ftp"`},
		{"callback no host", map[string]any{"outcomes": []any{out(map[string]any{"callback": "http:///cb"})}}, "outcomes[0].callback", "host"},
		{"callback missing", map[string]any{"outcomes": []any{map[string]any{"type": "callback"}}}, "outcomes[0].callback", "required"},
		{"callback unparsable", map[string]any{"outcomes": []any{out(map[string]any{"callback": "http://h/%zz"})}}, "outcomes[0].callback", "URL"},
		{"callback type", map[string]any{"outcomes": []any{out(map[string]any{"callback": 5})}}, "outcomes[0].callback", "string"},
		{"duplicate outcome id", map[string]any{"outcomes": []any{
			out(map[string]any{"_id": "5f0c8a5e1c9d440000a1b2c3"}), out(map[string]any{"_id": "5f0c8a5e1c9d440000a1b2c3"}),
		}}, "outcomes[1]._id", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := validBody()
			for k, v := range tt.set {
				body[k] = v
			}
			_, err := DecodeJSON(mustJSON(t, body))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want *ValidationError", err, err)
			}
			if len(ve.Errors) != 1 || ve.Errors[0].Field != tt.field || !strings.Contains(ve.Errors[0].Message, tt.message) {
				t.Fatalf("errors = %+v, want exactly one on %s mentioning %q", ve.Errors, tt.field, tt.message)
			}
		})
	}
}

func TestDecodeReportsEveryBadField(t *testing.T) {
	body := `{
		"description": 1,
		"trackBy": "nobody",
		"sources": ["111aaa1111a111111aa11111", "x", 3],
		"waypoints": [
			{"conditions": "{\"a\": 1}"},
			{"conditions": "{\"$where\": \"1\"}", "count": 0, "order": "first"},
			7,
			{"conditions": {"b": {"$gt": 1}}, "count": 2.5, "isActive": "yes"}
		],
		"outcomes": [{"type": "email", "callback": "mailto:a@b.c"}]
	}`
	_, err := DecodeJSON([]byte(body))
	want := []string{
		"description",
		"outcomes[0].callback", "outcomes[0].type",
		"sources[1]", "sources[2]",
		"trackBy",
		"waypoints[1].conditions", "waypoints[1].count", "waypoints[1].order",
		"waypoints[2]",
		"waypoints[3].count", "waypoints[3].isActive",
	}
	if got := fieldsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("fields =\n%q\nwant\n%q\n(%v)", got, want, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "12 fields") || !strings.Contains(msg, "waypoints[1].conditions") {
		t.Errorf("summary %q does not summarise", msg)
	}
}

func TestDecodeNumbersOutOfRange(t *testing.T) {
	// Bodies encoding/json cannot produce from Go values: literals beyond
	// float64.
	body := `{"waypoints": [{"conditions": "{}", "count": 1e400, "order": -1e400}, {"conditions": "{}", "count": 3.0}]}`
	_, err := DecodeJSON([]byte(body))
	if got, want := fieldsOf(t, err), []string{"waypoints[0].count", "waypoints[0].order"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q, want %q (%v)", got, want, err)
	}
	j, err := DecodeJSON([]byte(`{"waypoints": [{"conditions": "{}", "count": 3.0, "order": -2.5e-3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if w := j.Waypoints[0]; w.Count != 3 || w.Order != -2.5e-3 {
		t.Errorf("waypoint = %+v, want count 3 (integral 3.0) and order -0.0025", w)
	}
}

func TestDecodeConditionsStringAndObjectAgree(t *testing.T) {
	const query = `{"statement.verb.id": "http://x/v", "timestamp": {"$gte": {"$date": "2020-01-02T00:00:00Z"}}, "n": {"$numberLong": "5"}}`
	asString, err := json.Marshal(query)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"waypoints": [{"_id": "5f0c8a5e1c9d440000a1b2c3", "conditions": %s}]}`
	js, err := DecodeJSON(fmt.Appendf(nil, body, asString))
	if err != nil {
		t.Fatal(err)
	}
	jo, err := DecodeJSON(fmt.Appendf(nil, body, query))
	if err != nil {
		t.Fatal(err)
	}
	if got := js.Waypoints[0].Conditions; got != query {
		t.Errorf("string conditions altered: %s", got)
	}
	// The object is stored as relaxed Extended JSON, keys in the order sent
	// (so the $numberLong 5 reads back as a plain 5).
	want := `{"statement.verb.id":"http://x/v","timestamp":{"$gte":{"$date":"2020-01-02T00:00:00Z"}},"n":5}`
	if got := jo.Waypoints[0].Conditions; got != want {
		t.Errorf("object conditions stored as\n%s\nwant\n%s", got, want)
	}
	// Both compile to matchers that agree.
	cs, err := Compile(js)
	if err != nil {
		t.Fatal(err)
	}
	co, err := Compile(jo)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []bson.D{
		{{Key: "statement", Value: bson.D{{Key: "verb", Value: bson.D{{Key: "id", Value: "http://x/v"}}}}},
			{Key: "timestamp", Value: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, {Key: "n", Value: int64(5)}},
		{{Key: "statement", Value: bson.D{{Key: "verb", Value: bson.D{{Key: "id", Value: "http://x/v"}}}}},
			{Key: "timestamp", Value: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, {Key: "n", Value: 5.0}},
		{{Key: "statement", Value: bson.D{{Key: "verb", Value: bson.D{{Key: "id", Value: "http://x/v"}}}}},
			{Key: "timestamp", Value: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}, {Key: "n", Value: 5}},
	} {
		raw, err := bson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		ms, mo := cs.Waypoints[0].Matcher.Match(raw), co.Waypoints[0].Matcher.Match(raw)
		if ms != mo {
			t.Errorf("string form matches %v, object form %v, for %v", ms, mo, doc)
		}
	}
	// The same query with whitespace differences digests the same.
	spaced, err := json.Marshal(strings.NewReplacer(",", " ,\n ", "{", "{ ", "}", "\t}").Replace(want))
	if err != nil {
		t.Fatal(err)
	}
	jsp, err := DecodeJSON(fmt.Appendf(nil, body, spaced))
	if err != nil {
		t.Fatal(err)
	}
	if jsp.Version() != jo.Version() {
		t.Errorf("same query as string and object digests differently")
	}
}

func TestDecodeConditionsObjectKeyOrder(t *testing.T) {
	j, err := DecodeJSON([]byte(`{"waypoints": [{"conditions": {"z": 1, "a": {"$in": [2, "x"]}, "m": null}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j.Waypoints[0].Conditions, `{"z":1,"a":{"$in":[2,"x"]},"m":null}`; got != want {
		t.Errorf("conditions = %s, want %s", got, want)
	}
}

func TestDecodePatch(t *testing.T) {
	base, err := DecodeJSON(readTestdata(t, "seed_example_fixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePatch([]byte(`{"description": "renamed", "isPublic": false, "trackBy": "persona",
		"sources": [], "createdAt": "x", "bogus": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Fields(), []string{"description", "isPublic", "sources", "trackBy"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
	merged := *base
	p.Apply(&merged)
	if merged.Description != "renamed" || merged.IsPublic || merged.TrackBy != TrackByPersona || len(merged.Sources) != 0 {
		t.Errorf("patched fields not applied: %+v", merged)
	}
	if !reflect.DeepEqual(merged.Waypoints, base.Waypoints) || merged.IsSequential != base.IsSequential {
		t.Errorf("fields absent from the patch changed")
	}
	if err := merged.Validate(); err != nil {
		t.Errorf("merged journey invalid: %v", err)
	}
}

func TestDecodePatchWaypointsReplacedWhole(t *testing.T) {
	base, err := DecodeJSON(readTestdata(t, "seed_example_fixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePatch([]byte(`{"waypoints": [{"isActive": false, "conditions": "{}"}]}`))
	if err != nil {
		t.Fatalf("cross-field rules must wait for the merge: %v", err)
	}
	p.Apply(base)
	if len(base.Waypoints) != 1 || base.Waypoints[0].IsActive {
		t.Fatalf("waypoints not replaced: %+v", base.Waypoints)
	}
	// Now the active journey has no active waypoint.
	if got := fieldsOf(t, base.Validate()); !reflect.DeepEqual(got, []string{"waypoints"}) {
		t.Errorf("fields = %q", got)
	}
}

func TestDecodePatchErrors(t *testing.T) {
	_, err := DecodePatch([]byte(`{"trackBy": "x", "waypoints": [{"count": 0, "conditions": "{}"}]}`))
	if got, want := fieldsOf(t, err), []string{"trackBy", "waypoints[0].count"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	_, err = DecodePatch([]byte(`{"trackBy": `))
	if se := (*SyntaxError)(nil); !errors.As(err, &se) {
		t.Errorf("err = %v, want *SyntaxError", err)
	}
}

func TestValidateStoredJourney(t *testing.T) {
	// A document read from MongoDB, not decoded from the API: Validate
	// checks what the decoder would otherwise have.
	j := Journey{
		IsActive: true,
		TrackBy:  "",
		Waypoints: []Waypoint{
			{IsActive: true, Conditions: `{"a": 1}`, Count: 1},
			{ID: primitive.NewObjectID(), IsActive: true, Conditions: `{"a": 1}`, Count: 0},
		},
	}
	want := []string{"trackBy", "waypoints[0]._id", "waypoints[1].count"}
	if got := fieldsOf(t, j.Validate()); !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
}

// TestDecodeRefusesUpdateOperators: a body written as a MongoDB update
// ({"$set": {…}}, which mongoose's findOneAndUpdate behind Learning
// Locker's PATCH would apply) is a 400 naming the operator, not a 200 that
// changes nothing.
func TestDecodeRefusesUpdateOperators(t *testing.T) {
	for _, body := range []string{`{"$set": {"description": "x"}}`, `{"description": "x", "$unset": {"outcomes": 1}}`} {
		_, err := DecodePatch([]byte(body))
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Errors) != 1 || !strings.HasPrefix(ve.Errors[0].Field, "$") ||
			!strings.Contains(ve.Errors[0].Message, "update operators are not supported") {
			t.Errorf("DecodePatch(%s): %v, want one field error naming the operator", body, err)
		}
		if _, err := DecodeJSON([]byte(body)); !errors.As(err, &ve) {
			t.Errorf("DecodeJSON(%s): %v, want a validation error", body, err)
		}
	}
}
