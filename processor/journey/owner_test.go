package journey

import (
	"bytes"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// statementDoc builds a stored statement document around actor (omitted
// when nil) with extra top-level elements.
func statementDoc(t testing.TB, actor any, extra ...bson.E) bson.Raw {
	t.Helper()
	stmt := bson.D{{Key: "id", Value: "3b1bdbd4-5f3c-4bfa-9d55-5c2a4b1d0e6f"}}
	if actor != nil {
		stmt = append(stmt, bson.E{Key: "actor", Value: actor})
	}
	stmt = append(stmt, bson.E{Key: "verb", Value: bson.D{{Key: "id", Value: "http://adlnet.gov/expapi/verbs/completed"}}})
	doc := bson.D{
		{Key: "_id", Value: primitive.NewObjectID()},
		{Key: "lrs_id", Value: primitive.NewObjectID()},
		{Key: "statement", Value: stmt},
	}
	raw, err := bson.Marshal(append(doc, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAppendOwnerKeyActor(t *testing.T) {
	account := bson.D{{Key: "homePage", Value: "https://lms.example.org"}, {Key: "name", Value: "u-42"}}
	tests := []struct {
		name  string
		actor any
		key   string // "" = not tracked
	}{
		{"mbox", bson.D{{Key: "objectType", Value: "Agent"}, {Key: "name", Value: "A"}, {Key: "mbox", Value: "mailto:a@b.c"}}, "mmailto:a@b.c"},
		{"mbox_sha1sum", bson.D{{Key: "mbox_sha1sum", Value: "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}}, "sebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
		{"openid", bson.D{{Key: "openid", Value: "http://openid.example.org/u"}}, "ohttp://openid.example.org/u"},
		{"account", bson.D{{Key: "account", Value: account}, {Key: "objectType", Value: "Agent"}}, "ahttps://lms.example.org\x00u-42"},
		{"identified group", bson.D{{Key: "objectType", Value: "Group"}, {Key: "mbox", Value: "mailto:g@b.c"},
			{Key: "member", Value: bson.A{bson.D{{Key: "mbox", Value: "mailto:m@b.c"}}}}}, "mmailto:g@b.c"},
		{"null member ignored", bson.D{{Key: "mbox", Value: "mailto:a@b.c"}, {Key: "openid", Value: nil}}, "mmailto:a@b.c"},
		{"exact, not normalised", bson.D{{Key: "mbox", Value: "mailto:A@B.C"}}, "mmailto:A@B.C"},
		{"anonymous group", bson.D{{Key: "objectType", Value: "Group"},
			{Key: "member", Value: bson.A{bson.D{{Key: "mbox", Value: "mailto:m@b.c"}}}}}, ""},
		{"no IFI", bson.D{{Key: "name", Value: "A"}}, ""},
		{"two IFIs", bson.D{{Key: "mbox", Value: "mailto:a@b.c"}, {Key: "openid", Value: "http://o/"}}, ""},
		{"mbox and account", bson.D{{Key: "account", Value: account}, {Key: "mbox", Value: "mailto:a@b.c"}}, ""},
		{"repeated mbox", bson.D{{Key: "mbox", Value: "mailto:a@b.c"}, {Key: "mbox", Value: "mailto:a@b.c"}}, ""},
		{"mbox wrong type", bson.D{{Key: "mbox", Value: 5}}, ""},
		{"mbox empty", bson.D{{Key: "mbox", Value: ""}}, ""},
		{"account wrong type", bson.D{{Key: "account", Value: "x"}}, ""},
		{"account without name", bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "https://h"}}}}, ""},
		{"account name wrong type", bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "https://h"}, {Key: "name", Value: 1}}}}, ""},
		{"account homePage with NUL", bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "h\x00x"}, {Key: "name", Value: "n"}}}}, ""},
		{"actor not a document", "mailto:a@b.c", ""},
		{"no actor", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			key, ok := AppendOwnerKey(prefix, statementDoc(t, tt.actor), TrackByActor)
			if ok != (tt.key != "") {
				t.Fatalf("ok = %v for key %q", ok, key)
			}
			if !bytes.HasPrefix(key, prefix) {
				t.Fatalf("key %q does not extend dst", key)
			}
			if got := string(key[len(prefix):]); got != tt.key {
				t.Errorf("key = %q, want %q", got, tt.key)
			}
		})
	}
}

func TestAppendOwnerKeyNameDoesNotSplitOwners(t *testing.T) {
	a, _ := AppendOwnerKey(nil, statementDoc(t, bson.D{{Key: "name", Value: "Ann"}, {Key: "mbox", Value: "mailto:a@b.c"}}), TrackByActor)
	b, _ := AppendOwnerKey(nil, statementDoc(t, bson.D{{Key: "objectType", Value: "Agent"}, {Key: "mbox", Value: "mailto:a@b.c"}, {Key: "name", Value: "Annie"}}), TrackByActor)
	if a == nil || !bytes.Equal(a, b) {
		t.Errorf("keys %q and %q differ", a, b)
	}
}

func TestAppendOwnerKeyPersona(t *testing.T) {
	pid := primitive.NewObjectID()
	actor := bson.D{{Key: "mbox", Value: "mailto:a@b.c"}}
	person := bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: pid}, {Key: "display", Value: "Ann Example"}}}
	key, ok := AppendOwnerKey(nil, statementDoc(t, actor, person), TrackByPersona)
	if !ok || !bytes.Equal(key, append([]byte{'p'}, pid[:]...)) {
		t.Fatalf("key = %q, %v", key, ok)
	}
	if got := PersonaDisplay(statementDoc(t, actor, person)); got != "Ann Example" {
		t.Errorf("PersonaDisplay = %q", got)
	}
	for name, doc := range map[string]bson.Raw{
		"no person":      statementDoc(t, actor),
		"string _id":     statementDoc(t, actor, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: pid.Hex()}}}),
		"person no _id":  statementDoc(t, actor, bson.E{Key: "person", Value: bson.D{{Key: "name", Value: "x"}}}),
		"person not doc": statementDoc(t, actor, bson.E{Key: "person", Value: pid}),
	} {
		if key, ok := AppendOwnerKey(nil, doc, TrackByPersona); ok || key != nil {
			t.Errorf("%s: tracked as %q", name, key)
		}
		if PersonaDisplay(doc) != "" {
			t.Errorf("%s: display %q", name, PersonaDisplay(doc))
		}
	}
	if _, ok := AppendOwnerKey(nil, statementDoc(t, actor, person), "nobody"); ok {
		t.Error("unknown trackBy tracked")
	}
}

func TestAppendOwnerKeyMalformedBSON(t *testing.T) {
	doc := statementDoc(t, bson.D{{Key: "mbox", Value: "mailto:a@b.c"}},
		bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}}})
	for _, by := range []TrackBy{TrackByActor, TrackByPersona} {
		if _, ok := AppendOwnerKey(nil, doc, by); !ok {
			t.Fatalf("%s: well-formed document not tracked", by)
		}
		for n := range len(doc) {
			if key, ok := AppendOwnerKey(nil, doc[:n], by); ok {
				t.Errorf("%s: truncated to %d bytes: tracked as %q", by, n, key)
			}
		}
		// Corrupt every byte in turn (lengths going negative or past the
		// end, types becoming unknown): the result may be anything but a
		// panic.
		for i := range len(doc) {
			for _, b := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff} {
				corrupt := bytes.Clone(doc)
				corrupt[i] = b
				AppendOwnerKey(nil, corrupt, by)
			}
		}
	}
	// An IFI followed by a malformed element, which might have been a
	// second IFI, is not tracked.
	twoIFIs := statementDoc(t, bson.D{{Key: "mbox", Value: "mailto:a@b.c"}, {Key: "openid", Value: "http://o/"}})
	at := bytes.Index(twoIFIs, []byte("openid\x00")) + len("openid\x00")
	twoIFIs[at+3] = 0x7f // the string's length now runs past the actor
	if key, ok := AppendOwnerKey(nil, twoIFIs, TrackByActor); ok {
		t.Errorf("actor with a malformed element tracked as %q", key)
	}
	// A string element with an empty key and declared length -5 passes
	// bsoncore.ReadElement's bounds check yet ends inside its own header.
	negative := []byte{15, 0, 0, 0, 0x02, 0x00, 0xfb, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0}
	for _, by := range []TrackBy{TrackByActor, TrackByPersona} {
		if key, ok := AppendOwnerKey(nil, negative, by); ok {
			t.Errorf("negative length tracked as %q", key)
		}
	}
}

func TestAppendOwnerKeyZeroAlloc(t *testing.T) {
	docs := []bson.Raw{
		statementDoc(t, bson.D{{Key: "objectType", Value: "Agent"}, {Key: "mbox", Value: "mailto:a@b.c"}}),
		statementDoc(t, bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "https://h"}, {Key: "name", Value: "n"}}}}),
		statementDoc(t, nil, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}}}),
	}
	buf := make([]byte, 0, 64)
	for i, by := range []TrackBy{TrackByActor, TrackByActor, TrackByPersona} {
		tracked := true
		allocs := testing.AllocsPerRun(200, func() {
			var ok bool
			buf, ok = AppendOwnerKey(buf[:0], docs[i], by)
			tracked = tracked && ok
		})
		if !tracked || allocs != 0 {
			t.Errorf("doc %d: tracked %v, %v allocations per call", i, tracked, allocs)
		}
	}
}

func TestIdentRoundTrip(t *testing.T) {
	pid := primitive.NewObjectID()
	tests := []struct {
		by    TrackBy
		actor any
		extra []bson.E
		ident map[string]any
	}{
		{TrackByActor, bson.D{{Key: "mbox", Value: "mailto:a@b.c"}}, nil,
			map[string]any{"mbox": "mailto:a@b.c", "objectType": "Agent"}},
		{TrackByActor, bson.D{{Key: "mbox_sha1sum", Value: "abc"}}, nil,
			map[string]any{"mbox_sha1sum": "abc", "objectType": "Agent"}},
		{TrackByActor, bson.D{{Key: "openid", Value: "http://o/"}}, nil,
			map[string]any{"openid": "http://o/", "objectType": "Agent"}},
		{TrackByActor, bson.D{{Key: "account", Value: bson.D{{Key: "name", Value: "n\x00x"}, {Key: "homePage", Value: "https://h"}}}}, nil,
			map[string]any{"account": map[string]any{"homePage": "https://h", "name": "n\x00x"}, "objectType": "Agent"}},
		{TrackByPersona, nil, []bson.E{{Key: "person", Value: bson.D{{Key: "_id", Value: pid}}}},
			map[string]any{"persona": pid.Hex()}},
	}
	for _, tt := range tests {
		key, ok := AppendOwnerKey(nil, statementDoc(t, tt.actor, tt.extra...), tt.by)
		if !ok {
			t.Fatalf("%v not tracked", tt.ident)
		}
		ident, err := Ident(key)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ident, tt.ident) {
			t.Errorf("Ident(%q) = %v, want %v", key, ident, tt.ident)
		}
		back, err := OwnerKeyFromIdent(tt.by, ident)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, key) {
			t.Errorf("OwnerKeyFromIdent(%v) = %q, want %q", ident, back, key)
		}
	}
}

func TestOwnerKeyFromIdentUserInput(t *testing.T) {
	key, err := OwnerKeyFromIdent(TrackByActor, map[string]any{"mbox": "mailto:a@b.c", "name": "Ann", "objectType": "Agent"})
	if err != nil || string(key) != "mmailto:a@b.c" {
		t.Errorf("key = %q, %v", key, err)
	}
	bad := []struct {
		by    TrackBy
		ident map[string]any
	}{
		{TrackByActor, map[string]any{}},
		{TrackByActor, map[string]any{"name": "Ann"}},
		{TrackByActor, map[string]any{"mbox": "mailto:a@b.c", "openid": "http://o/"}},
		{TrackByActor, map[string]any{"mbox": 5}},
		{TrackByActor, map[string]any{"mbox": ""}},
		{TrackByActor, map[string]any{"account": "x"}},
		{TrackByActor, map[string]any{"account": map[string]any{"homePage": "https://h"}}},
		{TrackByActor, map[string]any{"account": map[string]any{"homePage": "h\x00", "name": "n"}}},
		{TrackByActor, map[string]any{"persona": primitive.NewObjectID().Hex()}},
		{TrackByPersona, map[string]any{"mbox": "mailto:a@b.c"}},
		{TrackByPersona, map[string]any{"persona": "xyz"}},
		{"nobody", map[string]any{"mbox": "mailto:a@b.c"}},
	}
	for _, b := range bad {
		if key, err := OwnerKeyFromIdent(b.by, b.ident); err == nil {
			t.Errorf("%s %v: accepted as %q", b.by, b.ident, key)
		}
	}
}

func TestIdentRejectsMalformedKeys(t *testing.T) {
	for _, key := range []string{"", "m", "x-y", "a", "ahomepage", "a\x00name", "ahome\x00", "p123"} {
		if ident, err := Ident([]byte(key)); err == nil {
			t.Errorf("Ident(%q) = %v, want an error", key, ident)
		}
	}
}

func BenchmarkAppendOwnerKey(b *testing.B) {
	doc := statementDoc(b, bson.D{{Key: "objectType", Value: "Agent"}, {Key: "name", Value: "Ann"}, {Key: "mbox", Value: "mailto:a@b.c"}},
		bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "display", Value: "Ann"}}})
	for _, by := range []TrackBy{TrackByActor, TrackByPersona} {
		b.Run(string(by), func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = AppendOwnerKey(buf[:0], doc, by)
			}
		})
	}
}
