package rawbson_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/internal/rawbson"
)

// Every type is read with the key, type and bytes bsoncore reads.
func TestElementsEveryType(t *testing.T) {
	doc := everyType()
	want, err := bsoncore.Document(doc).Elements()
	if err != nil {
		t.Fatal(err)
	}
	it := rawbson.Elements(doc)
	n := 0
	for {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		w := want[n].Value()
		if string(k) != want[n].Key() || v.Type != w.Type || string(v.Data) != string(w.Data) {
			t.Errorf("element %d: %q %v, want %q %v", n, k, v.Type, want[n].Key(), w.Type)
		}
		n++
	}
	if err := it.Err(); err != nil || n != len(want) || n != 21 {
		t.Errorf("read %d of %d elements, err %v", n, len(want), err)
	}
	if err := rawbson.Validate(doc); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// Each shape of malformed input is reported by every reader that reaches
// it, as ErrMalformed, and never read as an absent field. Every case
// damages the length prefix, the first element or the terminator, which a
// reader looking for an absent field passes.
func TestMalformedInput(t *testing.T) {
	doc := everyType()
	for _, c := range malformedCases(doc) {
		t.Run(c.name, func(t *testing.T) {
			if err := rawbson.Validate(c.doc); !errors.Is(err, rawbson.ErrMalformed) {
				t.Errorf("Validate = %v, want ErrMalformed", err)
			}
			it := rawbson.Elements(c.doc)
			for {
				if _, _, ok := it.Next(); !ok {
					break
				}
			}
			if !it.Malformed() || !errors.Is(it.Err(), rawbson.ErrMalformed) {
				t.Errorf("Iter: Malformed %v, Err %v", it.Malformed(), it.Err())
			}
			if v, err := rawbson.Lookup(c.doc, "nothing"); !errors.Is(err, rawbson.ErrMalformed) || !v.Missing() {
				t.Errorf("Lookup = %v, %v; want a missing value and ErrMalformed", v, err)
			}
			called := false
			_, err := rawbson.Walk(c.doc, rawbson.ParsePath("nothing"), rawbson.LeafTraverse, func(rawbson.Value) bool {
				called = true
				return false
			})
			if !errors.Is(err, rawbson.ErrMalformed) || called {
				t.Errorf("Walk: err %v, value presented %v; want ErrMalformed and none", err, called)
			}
		})
	}
}

// Damage is reported where it is: Validate names the path; Lookup finds a
// field before it and reports it for a field after it.
func TestMalformedNested(t *testing.T) {
	doc, err := bson.Marshal(bson.D{
		{Key: "first", Value: 1},
		{Key: "a", Value: bson.D{{Key: "b", Value: bson.D{{Key: "c", Value: "x"}}}}},
		{Key: "last", Value: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(doc), "c\x00")
	doc[at] = 0xff // a.b's key "c" is no longer UTF-8
	err = rawbson.Validate(doc)
	var e *rawbson.Error
	if !errors.As(err, &e) || e.Path != "a.b" || !strings.Contains(e.Reason, "UTF-8") {
		t.Fatalf("Validate = %v, want the damage at a.b", err)
	}
	if v, err := rawbson.Lookup(doc, "last"); err != nil || v.Int32() != 2 {
		t.Errorf("Lookup past damage it does not read = %v, %v", v, err)
	}
	for _, p := range []string{"a.b.c", "a.b.d"} {
		if _, err := rawbson.Walk(doc, rawbson.ParsePath(p), rawbson.LeafTraverse, func(rawbson.Value) bool { return false }); !errors.Is(err, rawbson.ErrMalformed) {
			t.Errorf("Walk(%s) = %v, want ErrMalformed", p, err)
		}
	}
	if _, err := rawbson.Walk(doc, rawbson.ParsePath("first"), rawbson.LeafTraverse, func(rawbson.Value) bool { return false }); err != nil {
		t.Errorf("Walk(first) = %v", err)
	}
}

func TestValidateDepth(t *testing.T) {
	nested := func(depth int) []byte {
		d := bsoncore.NewDocumentBuilder().AppendInt32("x", 1).Build()
		for i := 0; i < depth; i++ {
			d = bsoncore.NewDocumentBuilder().AppendDocument("a", d).Build()
		}
		return d
	}
	if err := rawbson.Validate(nested(rawbson.MaxDepth)); err != nil {
		t.Errorf("nested %d deep: %v", rawbson.MaxDepth, err)
	}
	if err := rawbson.Validate(nested(rawbson.MaxDepth + 1)); !errors.Is(err, rawbson.ErrMalformed) {
		t.Errorf("nested %d deep: %v, want ErrMalformed", rawbson.MaxDepth+1, err)
	}
}

// Walk follows MongoDB's array traversal.
func TestWalk(t *testing.T) {
	cases := []struct {
		doc  bson.D
		path string
		leaf rawbson.Leaf
		want string // the values presented, in order; "-" for missing
	}{
		{bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: 1}}}}, "a.b", rawbson.LeafTraverse, "1"},
		{bson.D{{Key: "a", Value: 1}}, "a.b", rawbson.LeafTraverse, "-"},
		{bson.D{}, "a", rawbson.LeafTraverse, "-"},
		{bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: 1}}, bson.D{{Key: "b", Value: 2}}, 3}}}, "a.b", rawbson.LeafTraverse, "1 2"},
		{bson.D{{Key: "a", Value: bson.A{1, bson.A{2, 3}}}}, "a", rawbson.LeafTraverse, "1 [2 3] [1 [2 3]]"},
		{bson.D{{Key: "a", Value: bson.A{1, bson.A{2, 3}}}}, "a", rawbson.LeafWhole, "[1 [2 3]]"},
		{bson.D{{Key: "a", Value: bson.A{1, bson.A{2, 3}}}}, "a", rawbson.LeafElements, "1 [2 3]"},
		{bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: 1}}, bson.D{{Key: "b", Value: 2}}}}}, "a.1.b", rawbson.LeafTraverse, "- - 2"}, // each document element continues with the whole path, where "1" is missing,
		{bson.D{{Key: "a", Value: bson.A{bson.A{7, 8}, 9}}}, "a.0", rawbson.LeafTraverse, "[7 8]"},
		{bson.D{{Key: "a", Value: bson.A{bson.A{7, 8}, 9}}}, "a.0", rawbson.LeafElements, "7 8"},
		{bson.D{{Key: "a", Value: bson.A{5, 6}}}, "a.01", rawbson.LeafTraverse, ""},
		{bson.D{{Key: "a", Value: bson.D{{Key: "0", Value: "zero"}}}}, "a.0", rawbson.LeafTraverse, "zero"},
	}
	for _, c := range cases {
		doc, err := bson.Marshal(c.doc)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		stopped, err := rawbson.Walk(doc, rawbson.ParsePath(c.path), c.leaf, func(v rawbson.Value) bool {
			got = append(got, show(v))
			return false
		})
		if err != nil || stopped {
			t.Errorf("Walk(%v, %s): stopped %v, err %v", c.doc, c.path, stopped, err)
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("Walk(%v, %s, %d) presented %q, want %q", c.doc, c.path, c.leaf, g, c.want)
		}
	}
}

// show renders the values of TestWalk's documents.
func show(v rawbson.Value) string {
	switch v.Type {
	case 0:
		return "-"
	case bsontype.Int32:
		return fmt.Sprint(v.Int32())
	case bsontype.String:
		s, _ := v.StringOK()
		return string(s)
	case bsontype.Array:
		var parts []string
		for it := rawbson.Elements(v.Data); ; {
			_, e, ok := it.Next()
			if !ok {
				break
			}
			parts = append(parts, show(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return v.Type.String()
}

// Walk stops when the callback says so.
func TestWalkStops(t *testing.T) {
	doc, _ := bson.Marshal(bson.D{{Key: "a", Value: bson.A{1, 2, 3}}})
	n := 0
	stopped, err := rawbson.Walk(doc, rawbson.ParsePath("a"), rawbson.LeafTraverse, func(rawbson.Value) bool {
		n++
		return n == 2
	})
	if !stopped || err != nil || n != 2 {
		t.Errorf("stopped %v, err %v after %d values; want stopped after 2", stopped, err, n)
	}
}

// Reading allocates nothing.
func TestReadersDoNotAllocate(t *testing.T) {
	pool := benchPool()
	p := rawbson.ParsePath("statement.context.contextActivities.parent.id")
	fn := func(rawbson.Value) bool { return false }
	allocs := testing.AllocsPerRun(100, func() {
		for _, d := range pool[:8] {
			_ = rawbson.Validate(d)
			_, _ = rawbson.Lookup(d, "stored")
			_, _ = rawbson.Walk(d, p, rawbson.LeafTraverse, fn)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}
