package lrs

import (
	"errors"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestTieReverser(t *testing.T) {
	// Statements as (stored, _id) pairs, in the order LL's index serves
	// them: stored ascending, _id descending within a stored time.
	id := func(n byte) primitive.ObjectID { return primitive.ObjectID{11: n} }
	type st struct {
		stored int64
		id     byte
	}
	in := []st{{1, 9}, {1, 4}, {1, 2}, {2, 7}, {3, 8}, {3, 1}}
	var want []Position
	for _, s := range in {
		want = append(want, Position{Stored: s.stored, ID: id(s.id)})
	}
	slices.SortFunc(want, func(a, b Position) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})

	var got []Position
	r := NewTieReverser(func(doc bson.Raw) error {
		got = append(got, Position{Stored: int64(doc.Lookup("stored").DateTime()), ID: doc.Lookup("_id").ObjectID()})
		return nil
	})
	buf := []byte{}
	for _, s := range in {
		// The caller's buffer is reused, as a cursor's is.
		buf, _ = bson.MarshalAppend(buf[:0], bson.D{{Key: "_id", Value: id(s.id)}, {Key: "stored", Value: primitive.DateTime(s.stored)}})
		if err := r.Add(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}

	stop := errors.New("stop")
	r = NewTieReverser(func(bson.Raw) error { return stop })
	d1, _ := bson.Marshal(bson.D{{Key: "stored", Value: primitive.DateTime(1)}})
	d2, _ := bson.Marshal(bson.D{{Key: "stored", Value: primitive.DateTime(2)}})
	if err := r.Add(d1); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(d2); !errors.Is(err, stop) {
		t.Fatalf("Add: %v, want fn's error", err)
	}
}
