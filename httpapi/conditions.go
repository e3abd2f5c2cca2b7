package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/journey"
)

// Bounds of the condition tester's request.
const (
	// MaxTestStatements bounds how many recent statements one test reads.
	MaxTestStatements = 10_000
	// DefaultTestStatements is how many it reads when the request does not say.
	DefaultTestStatements = 1_000
	// MaxTestSamples bounds the matching statements a test answers with.
	MaxTestSamples = 20
	// DefaultTestSamples is how many it answers with when the request does not say.
	DefaultTestSamples = 5
	// maxTestVerbs bounds the verbs a test lists.
	maxTestVerbs = 100
)

// conditionsTest is the body of POST /api/v2/journey/conditions/test.
type conditionsTest struct {
	conditions json.RawMessage // a string or an object, as in a waypoint
	limit      int
	samples    int
}

// conditionsResult is the answer of the condition tester.
type conditionsResult struct {
	// Conditions is the string form a waypoint would store.
	Conditions string `json:"conditions"`
	// Limit is how many recent statements were asked for; Scanned how many
	// the organisation had of them (fewer when it has fewer).
	Limit   int `json:"limit"`
	Scanned int `json:"scanned"`
	// Voided is how many of the scanned statements are voided: they never
	// count toward a journey and are not evaluated.
	Voided int `json:"voided"`
	// Matched is how many of the others the conditions match.
	Matched int `json:"matched"`
	// Indexed reports whether the candidate index serves a waypoint with
	// these conditions, under IndexPath; otherwise they are evaluated for
	// every statement of the organisation.
	Indexed   bool   `json:"indexed"`
	IndexPath string `json:"indexPath,omitempty"`
	// Samples are the newest matching statements.
	Samples []statementSample `json:"samples"`
	// Verbs are the verbs of the scanned statements, most used first.
	Verbs []verbSeen `json:"verbs"`
}

// statementSample summarises one statement for people.
type statementSample struct {
	ID     string `json:"_id"`
	XAPIID string `json:"id"`
	// Actor is the person's display name, or the actor's name or
	// identifier.
	Actor  string     `json:"actor"`
	Verb   namedThing `json:"verb"`
	Object namedThing `json:"object"`
	Stored *time.Time `json:"stored,omitempty"`
}

// namedThing is an IRI with its display text, when the statement has one.
type namedThing struct {
	ID      string `json:"id"`
	Display string `json:"display,omitempty"`
}

// verbSeen is a verb and how many scanned statements use it.
type verbSeen struct {
	ID      string `json:"id"`
	Display string `json:"display,omitempty"`
	Count   int    `json:"count"`
}

// testConditions serves POST /api/v2/journey/conditions/test: it evaluates
// conditions against the organisation's most recent statements, as a
// waypoint would, without saving anything.
func (s *server) testConditions(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.params.ByName("id") != "conditions" {
		return errNotFound("no such route")
	}
	b, err := s.readJSONBody(w, r)
	if err != nil {
		return err
	}
	req, err := decodeConditionsTest(b)
	if err != nil {
		return err
	}
	stored, m, err := journey.ParseConditions(req.conditions)
	if err != nil {
		return errBadRequest("conditions", err.Error())
	}
	// What a save would refuse is refused here too, as the operator types.
	if msg, over := s.cfg.Limits.ConditionsTooLarge(stored); over {
		s.cfg.LimitStats.Record([]string{journey.LimitConditionBytes})
		return errBadRequest("conditions", msg)
	}
	res := conditionsResult{Conditions: stored, Limit: req.limit, Samples: []statementSample{}}
	res.IndexPath, res.Indexed = processor.IndexPath(m)
	verbs := map[string]*verbSeen{}
	err = s.cfg.Statements.Recent(r.Context(), rq.p.Organisation, req.limit, func(doc bson.Raw) error {
		res.Scanned++
		if v := stringAt(doc, "statement", "verb", "id"); v != "" {
			vs := verbs[v]
			if vs == nil {
				vs = &verbSeen{ID: v, Display: languageMap(lookup(doc, "statement", "verb", "display"))}
				verbs[v] = vs
			}
			vs.Count++
		}
		if voided, _ := lookup(doc, "voided").BooleanOK(); voided {
			res.Voided++
			return nil
		}
		if !m.Match(doc) {
			return nil
		}
		res.Matched++
		if len(res.Samples) < req.samples {
			res.Samples = append(res.Samples, sample(doc))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	res.Verbs = rankVerbs(verbs, maxTestVerbs)
	writeJSON(w, http.StatusOK, res)
	return nil
}

// decodeConditionsTest reads the tester's body: {"conditions", "limit",
// "samples"}. Unknown members are a 400 naming them.
func decodeConditionsTest(b []byte) (*conditionsTest, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			return nil, &apiError{status: http.StatusBadRequest, msg: "invalid JSON at offset " + fmt.Sprint(se.Offset) + ": " + se.Error(), offset: &se.Offset}
		}
		return nil, &apiError{status: http.StatusBadRequest, msg: "the body must be a JSON object: " + err.Error()}
	}
	req := &conditionsTest{limit: DefaultTestStatements, samples: DefaultTestSamples}
	names := make([]string, 0, len(body))
	for k := range body {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := body[k]
		var err error
		switch k {
		case "conditions":
			req.conditions = v
		case "limit":
			req.limit, err = boundedInt(k, v, 1, MaxTestStatements)
		case "samples":
			req.samples, err = boundedInt(k, v, 0, MaxTestSamples)
		default:
			err = errBadRequest(k, "unknown field: the body has conditions, limit and samples")
		}
		if err != nil {
			return nil, err
		}
	}
	return req, nil
}

// boundedInt reads a JSON integer within [lo, hi].
func boundedInt(field string, raw json.RawMessage, lo, hi int) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n < lo || n > hi {
		return 0, errBadRequest(field, fmt.Sprintf("must be an integer from %d to %d, got %s", lo, hi, raw))
	}
	return n, nil
}

// sample summarises a statement document. Missing or mistyped fields are
// left empty: the documents are the LRS's, and a malformed one must not
// fail the test.
func sample(doc bson.Raw) statementSample {
	smp := statementSample{
		XAPIID: stringAt(doc, "statement", "id"),
		Actor:  actorDisplay(doc),
		Verb: namedThing{
			ID:      stringAt(doc, "statement", "verb", "id"),
			Display: languageMap(lookup(doc, "statement", "verb", "display")),
		},
		Object: namedThing{
			ID:      stringAt(doc, "statement", "object", "id"),
			Display: languageMap(lookup(doc, "statement", "object", "definition", "name")),
		},
	}
	if smp.Object.ID == "" { // an Agent or Group as the object
		smp.Object.ID = agentDisplay(lookup(doc, "statement", "object"))
	}
	if id, ok := lookup(doc, "_id").ObjectIDOK(); ok {
		smp.ID = id.Hex()
	}
	if ms, ok := lookup(doc, "stored").DateTimeOK(); ok {
		t := time.UnixMilli(ms).UTC()
		smp.Stored = &t
	}
	return smp
}

// lookup returns the value at path in doc, or the zero RawValue when the
// path does not resolve (missing, or crossing a non-document).
func lookup(doc bson.Raw, path ...string) bson.RawValue {
	v, err := doc.LookupErr(path...)
	if err != nil {
		return bson.RawValue{}
	}
	return v
}

// stringAt returns the string at path in doc, or "".
func stringAt(doc bson.Raw, path ...string) string {
	s, _ := lookup(doc, path...).StringValueOK()
	return s
}

// actorDisplay names a statement's learner: the persona's display name when
// Learning Locker assigned one, else the actor's.
func actorDisplay(doc bson.Raw) string {
	if d := stringAt(doc, "person", "display"); d != "" {
		return d
	}
	return agentDisplay(lookup(doc, "statement", "actor"))
}

// agentDisplay names an xAPI Agent or Group: its name, else its inverse
// functional identifier.
func agentDisplay(v bson.RawValue) string {
	a, ok := v.DocumentOK()
	if !ok {
		return ""
	}
	if n := stringAt(a, "name"); n != "" {
		return n
	}
	if m := stringAt(a, "mbox"); m != "" {
		return strings.TrimPrefix(m, "mailto:")
	}
	if n := stringAt(a, "account", "name"); n != "" {
		return n + " on " + stringAt(a, "account", "homePage")
	}
	if o := stringAt(a, "openid"); o != "" {
		return o
	}
	return stringAt(a, "mbox_sha1sum")
}

// languageMap picks the text of an xAPI language map: en-US, else en, else
// the first entry; "" when v is not a language map.
func languageMap(v bson.RawValue) string {
	m, ok := v.DocumentOK()
	if !ok {
		return ""
	}
	for _, tag := range []string{"en-US", "en"} {
		if s := stringAt(m, tag); s != "" {
			return s
		}
	}
	elems, err := m.Elements()
	if err != nil || len(elems) == 0 {
		return ""
	}
	s, _ := elems[0].Value().StringValueOK()
	return s
}

// rankVerbs lists verbs by use, most used first (ties by id), at most max.
func rankVerbs(verbs map[string]*verbSeen, max int) []verbSeen {
	out := make([]verbSeen, 0, len(verbs))
	for _, v := range verbs {
		out = append(out, *v)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Count != out[b].Count {
			return out[a].Count > out[b].Count
		}
		return out[a].ID < out[b].ID
	})
	if len(out) > max {
		out = out[:max]
	}
	return out
}
