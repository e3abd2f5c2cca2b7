package xapitest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestDeterministic(t *testing.T) {
	a, b, c := New(7, Options{}), New(7, Options{}), New(8, Options{})
	differ := false
	for i := 0; i < 50; i++ {
		da, db, dc := a.Next(), b.Next(), c.Next()
		if !bytes.Equal(da, db) {
			t.Fatalf("document %d differs between generators with the same seed:\n%s\n%s", i, da, db)
		}
		differ = differ || !bytes.Equal(da, dc)
	}
	if !differ {
		t.Fatal("seeds 7 and 8 generated identical sequences")
	}
}

func TestShape(t *testing.T) {
	g := New(1, Options{Actors: 16})
	ifiKinds := map[string]int{}
	var prevStored primitive.DateTime
	for i := 0; i < 500; i++ {
		doc := g.Next()
		if err := doc.Validate(); err != nil {
			t.Fatalf("document %d is invalid BSON: %v", i, err)
		}
		if n := len(doc); n < 1500 || n > 2500 {
			t.Errorf("document %d is %d bytes, want about 2 KB", i, n)
		}
		for _, key := range []string{"_id", "organisation", "lrs_id", "personaIdentifier"} {
			if typ := doc.Lookup(key).Type; typ != bsontype.ObjectID {
				t.Fatalf("document %d: %s has type %v, want ObjectId", i, key, typ)
			}
		}
		if doc.Lookup("organisation").ObjectID() != g.Options().Organisation || doc.Lookup("lrs_id").ObjectID() != g.Options().Store {
			t.Fatalf("document %d: organisation/lrs_id differ from Options()", i)
		}
		if doc.Lookup("voided").Boolean() || !doc.Lookup("active").Boolean() {
			t.Fatalf("document %d: want voided false, active true", i)
		}

		stored := doc.Lookup("stored").DateTime()
		if primitive.DateTime(stored) <= prevStored {
			t.Fatalf("document %d: stored %d not after previous %d", i, stored, prevStored)
		}
		prevStored = primitive.DateTime(stored)
		storedISO := time.UnixMilli(stored).UTC().Format(isoMillis)
		if got := doc.Lookup("statement", "stored").StringValue(); got != storedISO {
			t.Fatalf("document %d: statement.stored %q, want %q", i, got, storedISO)
		}

		actor := doc.Lookup("statement", "actor").Document()
		var present []string
		for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
			if _, err := actor.LookupErr(k); err == nil {
				present = append(present, k)
			}
		}
		if len(present) != 1 {
			t.Fatalf("document %d: actor has IFIs %v, want exactly one", i, present)
		}
		ifiKinds[present[0]]++

		verb := doc.Lookup("statement", "verb", "id").StringValue()
		if verbs := doc.Lookup("verbs").Array(); verbs.Index(0).Value().StringValue() != verb {
			t.Fatalf("document %d: verbs[0] is not statement.verb.id %q", i, verb)
		}
		for _, ext := range [][]string{
			{"statement", "context", "extensions"},
			{"statement", "object", "definition", "extensions"},
		} {
			elems, err := doc.Lookup(ext...).Document().Elements()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range elems {
				if strings.Contains(e.Key(), ".") {
					t.Fatalf("document %d: extension key %q holds an unencoded dot", i, e.Key())
				}
			}
		}
	}
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
		if ifiKinds[k] == 0 {
			t.Errorf("no actor used IFI %s in 500 documents: %v", k, ifiKinds)
		}
	}
}

func TestMakePinsSpec(t *testing.T) {
	g := New(3, Options{})
	other := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
	actor := g.Actor(7) // index 7: an account IFI
	doc := g.Make(Spec{
		Actor:        actor,
		Verb:         VerbCompleted,
		ActivityType: TypeCourse,
		Store:        other,
		Voided:       true,
	})
	if got := doc.Lookup("statement", "verb", "id").StringValue(); got != VerbCompleted {
		t.Errorf("verb %q, want %q", got, VerbCompleted)
	}
	if got := doc.Lookup("statement", "object", "definition", "type").StringValue(); got != TypeCourse {
		t.Errorf("activity type %q, want %q", got, TypeCourse)
	}
	object := doc.Lookup("statement", "object", "id").StringValue()
	if !strings.HasPrefix(object, ActivityBase+"course/") {
		t.Errorf("object id %q is not a course activity id", object)
	}
	if got := doc.Lookup("statement", "actor", "account", "name").StringValue(); got != actor.Account.Name {
		t.Errorf("account name %q, want %q", got, actor.Account.Name)
	}
	if got := doc.Lookup("person", "_id").ObjectID(); got != actor.Person {
		t.Errorf("person._id %v, want %v", got, actor.Person)
	}
	if got := doc.Lookup("agents").Array().Index(0).Value().StringValue(); got != actor.Ident() {
		t.Errorf("agents[0] %q, want %q", got, actor.Ident())
	}
	if doc.Lookup("lrs_id").ObjectID() != other || !doc.Lookup("voided").Boolean() {
		t.Errorf("Store/Voided not applied: lrs_id %v voided %v", doc.Lookup("lrs_id"), doc.Lookup("voided"))
	}

	doc = g.Make(Spec{Object: "https://example.org/x", Anonymous: true})
	if got := doc.Lookup("statement", "object", "id").StringValue(); got != "https://example.org/x" {
		t.Errorf("object id %q, want the pinned one", got)
	}
	actorDoc := doc.Lookup("statement", "actor").Document()
	if got := actorDoc.Lookup("objectType").StringValue(); got != "Group" {
		t.Errorf("anonymous actor objectType %q, want Group", got)
	}
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
		if _, err := actorDoc.LookupErr(k); err == nil {
			t.Errorf("anonymous group carries IFI %s", k)
		}
	}
	if _, err := doc.LookupErr("person"); err == nil {
		t.Error("anonymous statement has a person")
	}
}

func TestActivityID(t *testing.T) {
	if got, want := ActivityID(TypeModule, 4), "https://lms.example.org/activities/module/4"; got != want {
		t.Fatalf("ActivityID = %q, want %q", got, want)
	}
}
