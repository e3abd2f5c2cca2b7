package rawbson_test

// Run the fuzzer with (CI runs it for 20 s, see .ci/run):
//
//	go test -run=^$ -fuzz=FuzzRawBSON -fuzztime=2m ./internal/rawbson/
//
// Every plain `go test` replays the seeds below and the committed corpus in
// testdata/fuzz/FuzzRawBSON, where the fuzzer also writes the inputs that
// fail.

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/internal/rawbson"
	"github.com/journeys/journeys/internal/xapitest"
)

// fuzzPaths are walked over every input, so that the fuzzer reaches array
// traversal and numeric segments.
var fuzzPaths = []rawbson.Path{
	rawbson.ParsePath("statement.verb.id"),
	rawbson.ParsePath("statement.context.contextActivities.parent.id"),
	rawbson.ParsePath("a"),
	rawbson.ParsePath("a.b"),
	rawbson.ParsePath("a.0"),
	rawbson.ParsePath("a.0.b"),
	rawbson.ParsePath("a.b.1.c"),
	rawbson.ParsePath(""),
}

// FuzzRawBSON checks rawbson against the driver's bsoncore: on every input
// the readers neither panic nor read outside the input (each value they
// return lies inside it, and a complete iteration accounts for every
// byte), and report damage only as ErrMalformed; a document Validate
// accepts has no damage for Walk to meet, and is one bsoncore accepts at every
// level, read as the same elements; and a document bsoncore accepts at
// every level, whose length prefix is exact, whose keys are UTF-8 and which
// is not nested too deeply, Validate accepts.
func FuzzRawBSON(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(body)
}

func body(t *testing.T, doc []byte) {
	{
		readAll(t, doc, doc, 0)
		walkErr := false
		for _, p := range fuzzPaths {
			for _, leaf := range []rawbson.Leaf{rawbson.LeafTraverse, rawbson.LeafWhole, rawbson.LeafElements} {
				_, err := rawbson.Walk(doc, p, leaf, func(v rawbson.Value) bool {
					inside(t, doc, v.Data)
					useValue(v)
					return false
				})
				if err != nil && !errors.Is(err, rawbson.ErrMalformed) {
					t.Fatalf("Walk(%s): error %v is not ErrMalformed", p, err)
				}
				walkErr = walkErr || err != nil
			}
		}
		for _, k := range []string{"a", "_id", "statement", ""} {
			v, err := rawbson.Lookup(doc, k)
			inside(t, doc, v.Data)
			if err != nil && !errors.Is(err, rawbson.ErrMalformed) {
				t.Fatalf("Lookup(%q): error %v is not ErrMalformed", k, err)
			}
		}

		err := rawbson.Validate(doc)
		if err != nil && !errors.Is(err, rawbson.ErrMalformed) {
			t.Fatalf("Validate: error %v is not ErrMalformed", err)
		}
		coreErr := coreValidate(doc, 0)
		if err == nil {
			if walkErr {
				t.Fatalf("Walk reports damage in a document Validate accepts: %x", doc)
			}
			if coreErr != nil {
				t.Fatalf("Validate accepts what bsoncore rejects (%v): %x", coreErr, doc)
			}
			sameElements(t, doc, 0)
			return
		}
		if coreErr == nil && extraRulesHold(doc, 0) {
			t.Fatalf("Validate rejects (%v) a document bsoncore accepts: %x", err, doc)
		}
	}
}

// readAll iterates doc and, recursively, every document in it, checking
// that values lie inside the input and that a complete iteration accounts
// for every byte of the document.
func readAll(t *testing.T, input, doc []byte, depth int) {
	if depth > rawbson.MaxDepth+1 {
		return
	}
	it := rawbson.Elements(doc)
	used := 5
	for {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		inside(t, input, k)
		inside(t, input, v.Data)
		used += 2 + len(k) + len(v.Data)
		useValue(v)
		switch v.Type {
		case bsontype.EmbeddedDocument, bsontype.Array:
			readAll(t, input, v.Data, depth+1)
		case bsontype.CodeWithScope:
			code, scope := v.CodeWithScope()
			inside(t, input, code)
			inside(t, input, scope)
			readAll(t, input, scope, depth+1)
		}
	}
	if !it.Malformed() && used != len(doc) {
		t.Fatalf("complete iteration read %d of %d bytes: %x", used, len(doc), doc)
	}
	if it.Malformed() != (it.Err() != nil) {
		t.Fatal("Malformed and Err disagree")
	}
	rawbson.Count(doc)
}

// useValue calls every accessor, which must not panic on values a reader
// returned.
func useValue(v rawbson.Value) {
	_ = v.Missing()
	_ = v.Str()
	_, _ = v.StringOK()
	_ = v.Double()
	_ = v.Int32()
	_ = v.Int64()
	_ = v.Uint64()
	_ = v.Boolean()
	_, _ = v.DateTime()
	_, _ = v.ObjectID()
	_, _ = v.Document()
	_, _ = v.Array()
	_, _ = v.Regex()
	_, _ = v.CodeWithScope()
	_, _, _ = v.Timestamp()
}

// inside fails unless b is empty or lies within input.
func inside(t *testing.T, input, b []byte) {
	t.Helper()
	if len(b) == 0 {
		return
	}
	// b aliases input: its first and last bytes are at offsets within it.
	for off := 0; off+len(b) <= len(input); off++ {
		if &input[off] == &b[0] {
			return
		}
	}
	t.Fatalf("value of %d bytes lies outside the %d-byte input", len(b), len(input))
}

// coreValidate validates doc with bsoncore at every level, turning a panic
// (bsoncore.Document.Validate panics on some malformed input) into an
// error.
func coreValidate(doc []byte, depth int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bsoncore panicked: %v", r)
		}
	}()
	if err := bsoncore.Document(doc).Validate(); err != nil {
		return err
	}
	elems, err := bsoncore.Document(doc).Elements()
	if err != nil {
		return err
	}
	for _, e := range elems {
		v := e.Value()
		switch v.Type {
		case bsontype.EmbeddedDocument, bsontype.Array:
			if err := coreValidate(v.Data, depth+1); err != nil {
				return err
			}
		case bsontype.CodeWithScope:
			_, scope, ok := v.CodeWithScopeOK()
			if !ok {
				return errors.New("bad code with scope")
			}
			if err := coreValidate(scope, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// extraRulesHold reports whether doc, which bsoncore accepts, also meets
// the rules rawbson adds: exact length prefixes, UTF-8 keys, strings that
// end in their NUL, and a nesting limit.
func extraRulesHold(doc []byte, depth int) bool {
	if depth > rawbson.MaxDepth {
		return false
	}
	n, _, _ := bsoncore.ReadLength(doc)
	if int(n) != len(doc) {
		return false
	}
	elems, _ := bsoncore.Document(doc).Elements()
	for _, e := range elems {
		if !utf8.Valid(e.KeyBytes()) {
			return false
		}
		v := e.Value()
		switch v.Type {
		case bsontype.String, bsontype.JavaScript, bsontype.Symbol:
			if !nulTerminated(v.Data) {
				return false
			}
		case bsontype.DBPointer:
			if !nulTerminated(v.Data[:len(v.Data)-12]) {
				return false
			}
		case bsontype.EmbeddedDocument, bsontype.Array:
			if !extraRulesHold(v.Data, depth+1) {
				return false
			}
		case bsontype.CodeWithScope:
			_, scope, _ := v.CodeWithScopeOK()
			n, _, _ := bsoncore.ReadLength(v.Data[4:])
			if !nulTerminated(v.Data[4:4+4+n]) || !extraRulesHold(scope, depth+1) {
				return false
			}
			// The scope ends exactly at the declared total (bsoncore
			// takes the total on trust and reads the scope by its own
			// length).
			if 4+4+int(n)+len(scope) != len(v.Data) {
				return false
			}
		}
	}
	return true
}

// nulTerminated reports whether the string value s (int32 length, bytes)
// ends with the NUL its length counts; bsoncore does not check it.
func nulTerminated(s []byte) bool { return len(s) > 4 && s[len(s)-1] == 0 }

// sameElements checks that rawbson and bsoncore read the same elements from
// a document both accept, at every level.
func sameElements(t *testing.T, doc []byte, depth int) {
	t.Helper()
	elems, err := bsoncore.Document(doc).Elements()
	if err != nil {
		t.Fatalf("bsoncore Elements: %v", err)
	}
	it := rawbson.Elements(doc)
	for i, e := range elems {
		k, v, ok := it.Next()
		if !ok {
			t.Fatalf("rawbson stopped after %d of %d elements: %v", i, len(elems), it.Err())
		}
		cv := e.Value()
		if !bytes.Equal(k, e.KeyBytes()) || v.Type != cv.Type || !bytes.Equal(v.Data, cv.Data) {
			t.Fatalf("element %d: rawbson %q %v %x, bsoncore %q %v %x", i, k, v.Type, v.Data, e.KeyBytes(), cv.Type, cv.Data)
		}
		compareAccessors(t, v, cv)
		if v.Type == bsontype.EmbeddedDocument || v.Type == bsontype.Array {
			sameElements(t, v.Data, depth+1)
		}
		if got, err := rawbson.Lookup(doc, string(k)); err != nil || got.Type != bsoncore.Document(doc).Lookup(string(k)).Type {
			t.Fatalf("Lookup(%q) = %v, %v; bsoncore says type %v", k, got.Type, err, bsoncore.Document(doc).Lookup(string(k)).Type)
		}
	}
	if _, _, ok := it.Next(); ok || it.Err() != nil {
		t.Fatalf("rawbson reads more than bsoncore's %d elements, or fails: %v", len(elems), it.Err())
	}
}

// compareAccessors checks the typed accessors against bsoncore's.
func compareAccessors(t *testing.T, v rawbson.Value, cv bsoncore.Value) {
	t.Helper()
	fail := func(what string, got, want any) {
		t.Fatalf("%s of %v %x: rawbson %v, bsoncore %v", what, v.Type, v.Data, got, want)
	}
	switch v.Type {
	case bsontype.String:
		if s, _ := v.StringOK(); string(s) != cv.StringValue() {
			fail("string", string(s), cv.StringValue())
		}
	case bsontype.Double:
		if got, want := v.Double(), cv.Double(); got != want && (got == got || want == want) {
			fail("double", got, want)
		}
	case bsontype.Int32:
		if v.Int32() != cv.Int32() {
			fail("int32", v.Int32(), cv.Int32())
		}
	case bsontype.Int64:
		if v.Int64() != cv.Int64() {
			fail("int64", v.Int64(), cv.Int64())
		}
	case bsontype.DateTime:
		if got, _ := v.DateTime(); got != cv.DateTime() {
			fail("date", got, cv.DateTime())
		}
	case bsontype.Boolean:
		if v.Boolean() != cv.Boolean() {
			fail("boolean", v.Boolean(), cv.Boolean())
		}
	case bsontype.ObjectID:
		if got, _ := v.ObjectID(); got != [12]byte(cv.ObjectID()) {
			fail("ObjectId", got, cv.ObjectID())
		}
	case bsontype.Timestamp:
		gt, gi, _ := v.Timestamp()
		wt, wi := cv.Timestamp()
		if gt != wt || gi != wi {
			fail("timestamp", [2]uint32{gt, gi}, [2]uint32{wt, wi})
		}
	case bsontype.Regex:
		p, o := v.Regex()
		wp, wo := cv.Regex()
		if string(p) != wp || string(o) != wo {
			fail("regex", string(p)+"/"+string(o), wp+"/"+wo)
		}
	case bsontype.CodeWithScope:
		code, scope := v.CodeWithScope()
		wc, ws := cv.CodeWithScope()
		if string(code) != wc || !bytes.Equal(scope, ws) {
			fail("code with scope", string(code), wc)
		}
	}
}

// fuzzSeeds are generated statements, hand-built documents of every type,
// and the malformed shapes of the policy.
func fuzzSeeds() [][]byte {
	g := xapitest.New(3, xapitest.Options{Actors: 5})
	var seeds [][]byte
	for i := 0; i < 3; i++ {
		seeds = append(seeds, g.Next())
	}
	every := everyType()
	seeds = append(seeds, every, []byte{5, 0, 0, 0, 0}, nil, []byte{0, 0, 0, 0}, []byte("not bson"))
	for _, c := range malformedCases(every) {
		seeds = append(seeds, c.doc)
	}
	return seeds
}
