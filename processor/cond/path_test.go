package cond

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// visitAll renders every value Visit reports, as relaxed Extended JSON.
func visitAll(doc bson.Raw, p Path) string {
	var out []string
	p.Visit(doc, func(v bson.RawValue) bool {
		out = append(out, v.String())
		return true
	})
	return strings.Join(out, " ")
}

// Visit follows MongoDB's array traversal.
// https://www.mongodb.com/docs/manual/core/document/#dot-notation
func TestPathVisit(t *testing.T) {
	cases := []struct{ path, doc, want string }{
		{"a", `{"a": "x"}`, `"x"`},
		{"a", `{}`, ``},
		{"a", `{"a": null}`, `null`},
		{"a", `{"a": ["x", "y"]}`, `"x" "y"`},
		{"a", `{"a": []}`, ``},
		{"a", `{"a": [["x"], "y"]}`, `["x"] "y"`},
		{"a.b", `{"a": {"b": "x"}}`, `"x"`},
		{"a.b", `{"a": "x"}`, ``},
		{"a.b", `{"a": [{"b": "x"}, {"c": "y"}, {"b": ["z", "w"]}, "v"]}`, `"x" "z" "w"`},
		{"a.b", `{"a": [[{"b": "x"}]]}`, ``},
		{"a.b.c", `{"a": [{"b": [{"c": "x"}, {"c": "y"}]}]}`, `"x" "y"`},
		{"a.0", `{"a": ["x", "y"]}`, `"x"`},
		{"a.1", `{"a": ["x", "y"]}`, `"y"`},
		{"a.2", `{"a": ["x", "y"]}`, ``},
		{"a.0", `{"a": {"0": "x"}}`, `"x"`},
		{"a.0", `{"a": [["x", "y"]]}`, `"x" "y"`},
		{"a.0.b", `{"a": [{"b": "x"}, {"b": "y"}]}`, `"x"`},
		{"a.0.b", `{"a": [{"0": {"b": "x"}}]}`, `"x"`},
		{"a.0.0", `{"a": [["x", "y"]]}`, `"x"`},
		{"a.01", `{"a": ["x"]}`, ``},
		{"statement.verb.id", `{"statement": {"verb": {"id": "v", "display": {"en": "d"}}}}`, `"v"`},
		{"", `{"": "x"}`, `"x"`},
		{"a..b", `{"a": {"": {"b": "x"}}}`, `"x"`},
	}
	for _, c := range cases {
		if got := visitAll(mustDoc(t, c.doc), ParsePath(c.path)); got != c.want {
			t.Errorf("Visit(%q, %s) = %s, want %s", c.path, c.doc, got, c.want)
		}
	}
}

func TestPathVisitStopsEarly(t *testing.T) {
	doc := mustDoc(t, `{"a": [{"b": ["x", "y"]}, {"b": "z"}]}`)
	var seen []string
	ParsePath("a.b").Visit(doc, func(v bson.RawValue) bool {
		seen = append(seen, v.StringValue())
		return len(seen) < 2
	})
	if strings.Join(seen, ",") != "x,y" {
		t.Errorf("visited %v, want x,y then stop", seen)
	}
}

func TestPathZeroValueAndString(t *testing.T) {
	calls := 0
	Path{}.Visit(mustDoc(t, `{"": 1}`), func(bson.RawValue) bool { calls++; return true })
	if calls != 0 {
		t.Errorf("the zero Path visited %d values", calls)
	}
	if s := ParsePath("a.0.b").String(); s != "a.0.b" {
		t.Errorf("String() = %q", s)
	}
}
