package lrs

import (
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// TestNumberTypes checks the BSON type and value each JSON number takes:
// what Node.js's MongoDB driver stores for the JavaScript number (an int32
// for an integer in int32 range, a double otherwise, -0 a double), on the
// fast path for short integers and on ParseFloat's.
func TestNumberTypes(t *testing.T) {
	for _, tc := range []struct {
		json  string
		typ   bsontype.Type
		value float64
	}{
		{"0", bsontype.Int32, 0},
		{"7", bsontype.Int32, 7},
		{"-12", bsontype.Int32, -12},
		{"123456789", bsontype.Int32, 123456789},      // nine digits: fast path
		{"2147483647", bsontype.Int32, math.MaxInt32}, // ten: ParseFloat
		{"-2147483648", bsontype.Int32, math.MinInt32},
		{"2147483648", bsontype.Double, 2147483648},
		{"-0", bsontype.Double, 0},
		{"1.0", bsontype.Int32, 1},
		{"1e2", bsontype.Int32, 100},
		{"0.5", bsontype.Double, 0.5},
		{"-1.5e-3", bsontype.Double, -0.0015},
	} {
		vals, errs, err := parseBody([]byte(`{"n":` + tc.json + `}`))
		if err != nil || len(errs) != 0 || len(vals) != 1 {
			t.Fatalf("%s: %v %v", tc.json, errs, err)
		}
		v := bsoncore.Document(vals[0].Data).Lookup("n")
		got, _ := number(v)
		if v.Type != tc.typ || got != tc.value {
			t.Errorf("%s: %v %v, want %v %v", tc.json, v.Type, got, tc.typ, tc.value)
		}
		if tc.json == "-0" && !math.Signbit(v.Double()) {
			t.Errorf("-0 lost its sign")
		}
	}
}

// TestConversionErrorPaths checks the fields conversion errors name:
// keys joined by dots, array indices in brackets, nulls inside extensions
// dropped.
func TestConversionErrorPaths(t *testing.T) {
	body := `[{"a":1},{"x":{"y":[1,{"z":null}]},"d":1,"d":2,"e\u0000":1,` +
		`"context":{"extensions":{"k":null,"l":[null]}},"n":1e999}]`
	vals, errs, err := parseBody([]byte(body))
	if err != nil || len(vals) != 2 {
		t.Fatalf("%d values, %v", len(vals), err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+": "+e.Message)
		if e.Index != 1 {
			t.Errorf("%s: index %d, want 1", e.Field, e.Index)
		}
	}
	want := []string{
		"x.y[1].z: must not be null (xAPI 1.0.3 Data §2.2)",
		"d: duplicate key",
		"e\x00: keys must not contain NUL",
		"n: number out of range",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ext := bsoncore.Document(vals[1].Data).Lookup("context", "extensions").Document()
	if ext.Lookup("k").Type != 0 || count(ext.Lookup("l").Array()) != 0 {
		t.Fatalf("nulls inside extensions kept: %v", ext)
	}
}

// TestLanguageTagShortcut checks that the forms isLanguageTag accepts
// without the expression are ones the expression accepts, and that the
// others still go through it.
func TestLanguageTagShortcut(t *testing.T) {
	for _, tag := range []string{"en", "EN", "fr", "deu", "en-US", "en-us", "zh-TW", "es-419", "zh-Hant-TW",
		"sl-rozaj-biske", "x-private", "i", "e1", "en-", "en-U", "en_US", "-en", "12", "en-12", "a-bc", "toolongtag1", ""} {
		if got, want := isLanguageTag([]byte(tag)), languageTag.MatchString(tag); got != want {
			t.Errorf("%q: %v, the expression says %v", tag, got, want)
		}
	}
}
