package cond

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// formatConstraints renders constraints as "path=[v1 v2];…" for comparison.
func formatConstraints(cs []Constraint) string {
	var parts []string
	for _, c := range cs {
		var vals []string
		for _, v := range c.Values {
			vals = append(vals, v.String())
		}
		parts = append(parts, c.Path+"=["+strings.Join(vals, " ")+"]")
	}
	return strings.Join(parts, ";")
}

func TestRequired(t *testing.T) {
	const oid = `{"$oid": "650000000000000000000001"}`
	cases := []struct{ query, want string }{
		{`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`,
			`statement.verb.id=["http://adlnet.gov/expapi/verbs/completed"]`},
		{`{"lrs_id": ` + oid + `}`, `lrs_id=[{"$oid":"650000000000000000000001"}]`},
		{`{"voided": false}`, `voided=[false]`},
		{`{"a": {"$eq": "x"}}`, `a=["x"]`},
		{`{"a": {"$in": ["x", "y"]}}`, `a=["x" "y"]`},
		{`{"a": {"$in": ["x", ` + oid + `, true]}}`, `a=["x" {"$oid":"650000000000000000000001"} true]`},
		{`{"a": {"$in": ["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9"]}}`,
			`a=["s0" "s1" "s2" "s3" "s4" "s5" "s6" "s7" "s8" "s9"]`},
		{`{"a": "x", "b": 1}`, `a=["x"]`},
		{`{"a": {"$eq": "x", "$gt": "a"}}`, `a=["x"]`},
		{`{"a": {"$all": ["x", "y"]}}`, `a=["x"];a=["y"]`},
		{`{"$and": [{"a": "x"}, {"b": {"$in": ["y"]}}]}`, `a=["x"];b=["y"]`},
		{`{"$and": [{"$and": [{"a": "x"}]}, {"$or": [{"b": "y"}, {"c": "z"}]}]}`, `a=["x"]`},
		{`{"a": "x", "$comment": "c"}`, `a=["x"]`},
		// Nothing sound to report:
		{`{"$or": [{"a": "x"}, {"a": "y"}]}`, ``},
		{`{"$or": [{"a": "x"}]}`, ``},
		{`{"$nor": [{"a": "x"}]}`, ``},
		{`{"a": {"$nin": ["x"]}}`, ``},
		{`{"a": {"$ne": "x"}}`, ``},
		{`{"a": {"$not": {"$eq": "x"}}}`, ``},
		{`{"a": {"$in": [1, 2]}}`, ``},
		{`{"a": {"$in": ["x", 1]}}`, ``},
		{`{"a": {"$in": ["x", null]}}`, ``},
		{`{"a": {"$in": ["x", {"$regularExpression": {"pattern": "y", "options": ""}}]}}`, ``},
		{`{"a": {"$in": ["x", ["y"]]}}`, ``},
		{`{"a": {"$in": []}}`, ``},
		{`{"a": 1}`, ``},
		{`{"a": null}`, ``},
		{`{"a": {"b": "x"}}`, ``},
		{`{"a": ["x"]}`, ``},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, ``},
		{`{"a": {"$regex": "x"}}`, ``},
		{`{"a": {"$elemMatch": {"$eq": "x"}}}`, ``},
		{`{"a": {"$elemMatch": {"b": "x"}}}`, ``},
		{`{"a": {"$all": [{"$elemMatch": {"b": "x"}}]}}`, ``},
		{`{"a": {"$exists": true}}`, ``},
	}
	for _, c := range cases {
		if got := formatConstraints(mustCompile(t, c.query).Required()); got != c.want {
			t.Errorf("Required(%s) = %s, want %s", c.query, got, c.want)
		}
	}
}

// Required returns a fresh slice each call.
func TestRequiredIsACopy(t *testing.T) {
	m := mustCompile(t, `{"a": {"$in": ["x", "y"]}}`)
	r := m.Required()
	r[0].Values[0] = bson.RawValue{Type: bsontype.Null}
	r[0].Path = "b"
	if got := formatConstraints(m.Required()); got != `a=["x" "y"]` {
		t.Errorf("Required changed through a returned slice: %s", got)
	}
}

// satisfies reports whether some value Visit finds at c.Path equals one of
// c.Values the way the engine's index would compare them: by type class
// and bytes.
func satisfies(doc bson.Raw, c Constraint) bool {
	found := false
	ParsePath(c.Path).Visit(doc, func(v bson.RawValue) bool {
		for _, want := range c.Values {
			dv, wv := value{Type: v.Type, Data: v.Value}, value{Type: want.Type, Data: want.Value}
			if class(dv.Type) == class(wv.Type) && bytes.Equal(keyOf(dv), keyOf(wv)) {
				found = true
			}
		}
		return !found
	})
	return found
}

// Every document a query matches satisfies each of its constraints, so an
// index built from them never hides a match.
func TestRequiredSoundness(t *testing.T) {
	queries := []string{
		`{"a": "x"}`,
		`{"a.b": "x"}`,
		`{"a.0": "x"}`,
		`{"a.0.b": "x"}`,
		`{"a.b.c": {"$in": ["x", "y"]}}`,
		`{"a": {"$all": ["x", "y"]}, "b": true}`,
		`{"$and": [{"a.b": "x"}, {"a": {"$size": 1}}]}`,
		`{"a.1": {"$in": ["y", "x"]}}`,
	}
	docs := []string{
		`{"a": "x"}`, `{"a": ["y", "x"]}`, `{"a": [["x"]]}`, `{"a": {"$symbol": "x"}}`,
		`{"a": {"b": "x"}}`, `{"a": [{"b": "y"}, {"b": ["z", "x"]}]}`, `{"a": [{"b": "x"}]}`,
		`{"a": [["x"], {"b": "x"}]}`, `{"a": {"0": "x"}}`, `{"a": [{"0": {"b": "x"}}]}`,
		`{"a": [[{"b": "x"}]]}`, `{"a": {"b": {"c": "y"}}}`, `{"a": [{"b": [{"c": "x"}]}]}`,
		`{"a": [{"b": {"c": ["q", "y"]}}]}`, `{"a": ["x", "y"], "b": true}`, `{"a": ["x", "y"], "b": [false, true]}`,
		`{"a": [0, "x"]}`, `{"a": [0, ["x"]]}`, `{"a": {"1": "y"}}`, `{"a": "y"}`, `{}`,
	}
	matches := 0
	for _, q := range queries {
		m := mustCompile(t, q)
		cs := m.Required()
		if len(cs) == 0 {
			t.Errorf("%s: no constraints, the test proves nothing", q)
		}
		for _, d := range docs {
			doc := mustDoc(t, d)
			if !m.Match(doc) {
				continue
			}
			matches++
			for _, c := range cs {
				if !satisfies(doc, c) {
					t.Errorf("%s matches %s but Visit finds no value of %s", q, d, formatConstraints([]Constraint{c}))
				}
			}
		}
	}
	if matches < len(queries) {
		t.Errorf("only %d matches over %d queries: too few to exercise soundness", matches, len(queries))
	}
}

// ExampleMatcher_Required shows the constraints an engine can index on.
func ExampleMatcher_Required() {
	m, err := CompileString(`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed",
		"statement.object.id": {"$in": ["http://example.com/a", "http://example.com/b"]},
		"result.score.scaled": {"$gte": 0.8}}`)
	if err != nil {
		panic(err)
	}
	for _, c := range m.Required() {
		fmt.Println(c.Path, c.Values)
	}
	// Output:
	// statement.verb.id ["http://adlnet.gov/expapi/verbs/completed"]
	// statement.object.id ["http://example.com/a" "http://example.com/b"]
}
