package journey

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
)

// TestOwnerFilter: the filter of an owner key, evaluated with MongoDB
// semantics (package cond), selects the documents whose owner key it is and
// not the others'.
func TestOwnerFilter(t *testing.T) {
	persona, other := primitive.NewObjectID(), primitive.NewObjectID()
	doc := func(actor bson.D, person any) bson.Raw {
		d := bson.D{{Key: "statement", Value: bson.D{{Key: "actor", Value: actor}}}}
		if person != nil {
			d = append(d, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: person}, {Key: "display", Value: "P"}}})
		}
		raw, _ := bson.Marshal(d)
		return raw
	}
	docs := []bson.Raw{
		doc(bson.D{{Key: "mbox", Value: "mailto:a@x"}}, persona),
		doc(bson.D{{Key: "mbox", Value: "mailto:b@x"}}, other),
		doc(bson.D{{Key: "mbox_sha1sum", Value: "ab12"}}, nil),
		doc(bson.D{{Key: "openid", Value: "http://id/a"}}, nil),
		doc(bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "http://h"}, {Key: "name", Value: "n"}}}}, nil),
		doc(bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "http://h"}, {Key: "name", Value: "m"}}}}, nil),
		doc(bson.D{{Key: "name", Value: "anonymous"}}, nil),
	}
	for _, by := range []TrackBy{TrackByActor, TrackByPersona} {
		for i, d := range docs {
			key, ok := AppendOwnerKey(nil, d, by)
			if !ok {
				continue
			}
			f, err := OwnerFilter(key)
			if err != nil {
				t.Fatalf("OwnerFilter(%q): %v", key, err)
			}
			q, _ := bson.Marshal(f)
			m, err := cond.Compile(q)
			if err != nil {
				t.Fatalf("compile %v: %v", f, err)
			}
			for k, e := range docs {
				ek, eok := AppendOwnerKey(nil, e, by)
				want := eok && string(ek) == string(key)
				if got := m.Match(e); got != want {
					t.Errorf("%v owner of doc %d: filter %v on doc %d = %v, want %v", by, i, f, k, got, want)
				}
			}
		}
	}
	for _, bad := range [][]byte{nil, {keyPersona, 1}, {keyAccount, 'h'}, {'z', 1}} {
		if _, err := OwnerFilter(bad); err == nil {
			t.Errorf("OwnerFilter(%q) accepted", bad)
		}
	}
	if got := PersonaKey(persona); string(got) != string(mustKey(t, docs[0], TrackByPersona)) {
		t.Errorf("PersonaKey = %q", got)
	}
}

func mustKey(t *testing.T, doc bson.Raw, by TrackBy) []byte {
	k, ok := AppendOwnerKey(nil, doc, by)
	if !ok {
		t.Fatal("no owner key")
	}
	return k
}
