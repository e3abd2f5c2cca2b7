package journey

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// FuzzDecodeJSON checks that no body panics the decoder and that every
// outcome is one the API can serve: a Journey that validates, compiles and
// encodes, or a *SyntaxError / non-empty *ValidationError.
func FuzzDecodeJSON(f *testing.F) {
	f.Add(readTestdata(f, "seed_example.json"))
	f.Add(readTestdata(f, "seed_example_fixed.json"))
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"isActive": false}`,
		`{"waypoints": [{"conditions": {"a": {"$in": [1, {"$numberDecimal": "1.5"}]}}, "count": 2.0, "order": -1e3}]}`,
		`{"waypoints": [{"conditions": "{\"a\": {\"$regex\": \"^x\", \"$options\": \"i\"}}", "_id": "5f0c8a5e1c9d440000a1b2c3"}],
		  "outcomes": [{"type": "callback", "callback": "https://h:8080/p?q#f"}], "sources": ["5f0c8a5e1c9d440000a1b2c3"]}`,
		`{"waypoints": [{"conditions": {"$oid": "5f0c8a5e1c9d440000a1b2c3"}}, null, 3], "trackBy": "persona"}`,
		`{"waypoints": [{"conditions": {"t": {"$date": {"$numberLong": "-1"}}}, "count": 1e400}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := DecodeJSON(data)
		var se *SyntaxError
		var ve *ValidationError
		switch {
		case err == nil:
			if err := j.Validate(); err != nil {
				t.Fatalf("decoded journey fails Validate: %v\n%s", err, data)
			}
			if _, err := Compile(j); err != nil {
				t.Fatalf("decoded journey does not compile: %v", err)
			}
			if _, err := json.Marshal(j); err != nil {
				t.Fatalf("decoded journey does not encode: %v", err)
			}
		case errors.As(err, &se):
			if se.Offset < 0 || se.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside the input", se.Offset)
			}
		case errors.As(err, &ve):
			if len(ve.Errors) == 0 {
				t.Fatal("empty *ValidationError")
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}

// FuzzAppendOwnerKey checks that arbitrary bytes never panic the owner
// lookup and that every key it produces decodes and re-encodes exactly.
func FuzzAppendOwnerKey(f *testing.F) {
	f.Add([]byte(statementDoc(f, bson.D{{Key: "mbox", Value: "mailto:a@b.c"}})))
	f.Add([]byte(statementDoc(f, bson.D{{Key: "account", Value: bson.D{{Key: "homePage", Value: "h"}, {Key: "name", Value: "n"}}}})))
	f.Add([]byte(statementDoc(f, nil, bson.E{Key: "person", Value: bson.D{{Key: "_id", Value: primitive.NewObjectID()}}})))
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, by := range []TrackBy{TrackByActor, TrackByPersona} {
			key, ok := AppendOwnerKey([]byte("x"), doc, by)
			if !ok {
				if string(key) != "x" {
					t.Fatalf("dst changed on failure: %q", key)
				}
				continue
			}
			key = key[1:]
			ident, err := Ident(key)
			if err != nil {
				t.Fatalf("Ident(%q): %v", key, err)
			}
			back, err := OwnerKeyFromIdent(by, ident)
			if err != nil || !bytes.Equal(back, key) {
				t.Fatalf("round trip of %q gave %q, %v", key, back, err)
			}
			PersonaDisplay(doc)
		}
	})
}
