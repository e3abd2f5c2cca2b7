package httpapi

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestSortCrossType: documents whose sort field holds values of different
// types order as MongoDB orders them (null and missing < numbers < strings
// < documents < arrays < ObjectIds < booleans < dates), arrays by their
// smallest element ascending and largest descending, ties by _id.
func TestSortCrossType(t *testing.T) {
	date := primitive.NewDateTimeFromTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	oid := mustOID("65a0000000000000000000ff")
	docs := []struct {
		name string
		v    any // nil: field absent
		has  bool
	}{
		{"missing", nil, false},
		{"null", nil, true},
		{"int 1", int32(1), true},
		{"double 1.5", 1.5, true},
		{"long 2", int64(2), true},
		{"array [5, 0.5]", bson.A{5, 0.5}, true},
		{"string a", "a", true},
		{"string b", "b", true},
		{"document", bson.D{{Key: "x", Value: 1}}, true},
		{"objectid", oid, true},
		{"false", false, true},
		{"true", true, true},
		{"date", date, true},
		{"javascript", primitive.JavaScript("1"), true},
	}
	var raws []bson.Raw
	byID := map[primitive.ObjectID]string{}
	for i, d := range docs {
		id := primitive.ObjectID{0x65, byte(i)}
		doc := bson.D{{Key: "_id", Value: id}}
		if d.has {
			doc = append(doc, bson.E{Key: "v", Value: d.v})
		}
		raw, err := bson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
		byID[id] = d.name
	}
	order := func(sort string) []string {
		spec, err := sortParam(url.Values{"sort": {sort}})
		if err != nil {
			t.Fatal(err)
		}
		type kd struct {
			key  sortKey
			name string
		}
		var ks []kd
		for _, r := range raws {
			k, err := spec.keyOf(r)
			if err != nil {
				t.Fatal(err)
			}
			ks = append(ks, kd{k, byID[r.Lookup("_id").ObjectID()]})
		}
		slices.SortFunc(ks, func(a, b kd) int { return spec.compare(a.key, b.key) })
		var out []string
		for _, k := range ks {
			out = append(out, k.name)
		}
		return out
	}
	// JavaScript has no place in the order and sorts as null.
	asc := []string{"missing", "null", "javascript", "array [5, 0.5]", "int 1", "double 1.5", "long 2",
		"string a", "string b", "document", "objectid", "false", "true", "date"}
	if got := order("v"); !slices.Equal(got, asc) {
		t.Errorf("ascending:\n got %v\nwant %v", got, asc)
	}
	desc := []string{"date", "true", "false", "objectid", "document", "string b", "string a",
		"array [5, 0.5]", "long 2", "double 1.5", "int 1", "missing", "null", "javascript"}
	if got := order("-v"); !slices.Equal(got, desc) {
		t.Errorf("descending:\n got %v\nwant %v", got, desc)
	}

	// A cursor's key round-trips through its encoding.
	spec, _ := sortParam(url.Values{"sort": {"v"}})
	for _, r := range raws {
		k, _ := spec.keyOf(r)
		c, err := spec.cursor(k)
		if err != nil {
			t.Fatal(err)
		}
		back, err := spec.decodeKey("after", c)
		if err != nil || spec.compare(k, back) != 0 {
			t.Errorf("%s: cursor key %v round-trips to %v (%v)", byID[r.Lookup("_id").ObjectID()], k, back, err)
		}
	}
}

func TestProjection(t *testing.T) {
	doc := []byte(`{"_id":"1","a":{"b":1,"c":[{"d":1,"e":2},3,{"e":4}]},"f":"x","g":[1,2]}`)
	cases := []struct{ project, want string }{
		{`{"f": 1}`, `{"_id":"1","f":"x"}`},
		{`{"a.c.e": 1, "_id": 0}`, `{"a":{"c":[{"e":2},{"e":4}]}}`},
		{`{"a.b": true, "g": 1}`, `{"_id":"1","a":{"b":1},"g":[1,2]}`},
		{`{"a.c.d": 0, "g": false}`, `{"_id":"1","a":{"b":1,"c":[{"e":2},3,{"e":4}]},"f":"x"}`},
		{`{"_id": 0}`, `{"a":{"b":1,"c":[{"d":1,"e":2},3,{"e":4}]},"f":"x","g":[1,2]}`},
		{`{"_id": 1}`, `{"_id":"1"}`},
		{`{"f": 0, "_id": 1}`, `{"_id":"1","a":{"b":1,"c":[{"d":1,"e":2},3,{"e":4}]},"g":[1,2]}`},
		{`{"f.z": 1}`, `{"_id":"1"}`},
	}
	for _, c := range cases {
		p, err := projectParam(url.Values{"project": {c.project}})
		if err != nil {
			t.Fatalf("%s: %v", c.project, err)
		}
		got := doc
		if p != nil {
			if got, err = p.apply(doc); err != nil {
				t.Fatal(err)
			}
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.project, got, c.want)
		}
	}
	for _, bad := range []string{`{"a": 1, "f": 0}`, `{"a": 1, "a.b": 1}`, `{"a.": 1}`, `{"$a": 1}`, `{"a": "yes"}`, `[]`} {
		if _, err := projectParam(url.Values{"project": {bad}}); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
