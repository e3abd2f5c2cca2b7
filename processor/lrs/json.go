package lrs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/processor/journey"
)

// jsonReader converts a JSON body to BSON token by token, without an
// intermediate tree: key order is kept as sent (MongoDB compares embedded
// documents in key order) and numbers take the types Learning Locker's
// Node.js driver gives them. A null is an error (xAPI 1.0.3 Data §2.2:
// "The LRS MUST reject Statements with any null values (except inside
// extensions)"); inside extensions nulls are dropped, as Learning Locker's
// removeNulls step does. Strings and keys are copied from the body into
// the BSON once, never held as Go strings: a statement costs no
// allocation beyond the buffer it is written to.
type jsonReader struct {
	dec *lexer
	// index and path locate the value being read, for FieldErrors.
	index int
	path  []pathSegment
	errs  []FieldError
}

// pathSegment is one step of a jsonReader's path: an object key (index
// -1), or an array index.
type pathSegment struct {
	key   []byte
	index int
}

// parseBody reads an Ingest body: one JSON value that is a statement object
// or an array of them. It returns the BSON value of each statement (a
// non-object element is returned as read, for validation to reject) and
// the FieldErrors conversion found (duplicate keys, NUL in keys, numbers
// out of range). A body that is not JSON yields a *journey.SyntaxError.
// The values share one buffer.
func parseBody(data []byte) ([]bsoncore.Value, []FieldError, error) {
	vals, errs, _, err := parseBodyInto(data, nil)
	return vals, errs, err
}

// parseBodyInto is parseBody building the values in buf (its contents
// overwritten; grown, or allocated when too small), which it returns.
func parseBodyInto(data, buf []byte) ([]bsoncore.Value, []FieldError, []byte, error) {
	// A first pass finds syntax errors, trailing data included, and
	// encoding/json's offset for them; the token pass below then only sees
	// valid JSON.
	if !json.Valid(data) {
		return nil, nil, buf, syntaxError(data, json.Unmarshal(data, new(json.RawMessage)))
	}
	r := &jsonReader{dec: &lexer{data: data}, path: make([]pathSegment, 0, 16)}
	tok, _, err := r.token()
	if err != nil {
		return nil, nil, buf, err
	}
	// The BSON is rarely larger than the JSON it comes from.
	if want := len(data) + len(data)/8; cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	buf = buf[:0]
	type span struct {
		start, end int
		t          bsontype.Type
	}
	var spans []span
	switch tok {
	case '[':
		for r.dec.More() {
			r.index = len(spans)
			start := len(buf)
			var t bsontype.Type
			if buf, t, err = r.value(buf); err != nil {
				return nil, nil, buf, err
			}
			spans = append(spans, span{start, len(buf), t})
		}
		if _, _, err := r.token(); err != nil { // ']'
			return nil, nil, buf, err
		}
	case '{':
		if buf, err = r.object(buf); err != nil {
			return nil, nil, buf, err
		}
		spans = append(spans, span{0, len(buf), bsontype.EmbeddedDocument})
	default:
		return nil, []FieldError{{Index: -1, Message: "the body must be a statement object or an array of statements"}}, buf, nil
	}
	vals := make([]bsoncore.Value, len(spans))
	for i, sp := range spans {
		vals[i] = bsoncore.Value{Type: sp.t, Data: buf[sp.start:sp.end:sp.end]}
	}
	return vals, r.errs, buf, nil
}

// token reads the next token of the (already validated) body.
func (r *jsonReader) token() (byte, []byte, error) {
	kind, b, err := r.dec.next()
	if err != nil {
		return 0, nil, fmt.Errorf("lrs: read JSON: %w", err)
	}
	return kind, b, nil
}

// syntaxError returns err, an encoding/json error, as a
// *journey.SyntaxError, the type the HTTP API reports with its offset.
func syntaxError(data []byte, err error) error {
	offset := int64(len(data))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = max(0, min(se.Offset, offset))
	}
	// The offset counts the offending byte: it sits at offset-1.
	prefix := data[:max(0, offset-1)]
	return &journey.SyntaxError{
		Offset: offset,
		Line:   bytes.Count(prefix, []byte{'\n'}) + 1,
		Column: len(prefix) - bytes.LastIndexByte(prefix, '\n'),
		Msg:    err.Error(),
	}
}

// value reads the next JSON value, appends its BSON form to dst and
// returns the grown dst and the value's type.
func (r *jsonReader) value(dst []byte) ([]byte, bsontype.Type, error) {
	kind, b, err := r.token()
	if err != nil {
		return nil, 0, err
	}
	switch kind {
	case '[':
		dst, err = r.array(dst)
		return dst, bsontype.Array, err
	case '{':
		dst, err = r.object(dst)
		return dst, bsontype.EmbeddedDocument, err
	case tokString:
		return appendStringBytes(dst, b), bsontype.String, nil
	case tokNumber:
		return r.number(dst, b)
	case tokTrue, tokFalse:
		return bsoncore.AppendBoolean(dst, kind == tokTrue), bsontype.Boolean, nil
	}
	return dst, bsontype.Null, nil
}

// appendStringBytes appends the BSON string s.
func appendStringBytes(dst, s []byte) []byte {
	dst = bsoncore.AppendInt32(dst, int32(len(s)+1))
	dst = append(dst, s...)
	return append(dst, 0)
}

// object appends the document whose '{' was just read.
func (r *jsonReader) object(dst []byte) ([]byte, error) {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	// Objects are small; a linear scan for duplicate keys beats a map
	// until they are not (a 1 MiB body could otherwise cost quadratic
	// time).
	var small [32][]byte
	keys := small[:0]
	var seen map[string]bool // from the 33rd key on
	for r.dec.More() {
		_, key, err := r.token() // the body is valid: a key is a string
		if err != nil {
			return nil, err
		}
		r.path = append(r.path, pathSegment{key: key, index: -1})
		dup := false
		if len(keys) < len(small) {
			for _, k := range keys {
				dup = dup || bytes.Equal(k, key)
			}
			keys = append(keys, key)
		} else {
			if seen == nil {
				seen = make(map[string]bool, 2*len(keys))
				for _, k := range keys {
					seen[string(k)] = true
				}
			}
			dup = seen[string(key)]
			seen[string(key)] = true
		}
		nul := bytes.IndexByte(key, 0) >= 0
		switch {
		case dup:
			r.fail("duplicate key")
		case nul:
			r.fail("keys must not contain NUL")
		}
		mark := len(dst)
		dst = append(dst, 0) // the element's type, set below
		dst = append(append(dst, key...), 0)
		var t bsontype.Type
		errs := len(r.errs)
		if dst, t, err = r.value(dst); err != nil {
			return nil, err
		}
		dst[mark] = byte(t)
		if t == bsontype.Null && len(r.errs) == errs && !dup && !nul {
			r.null()
		}
		if dup || nul || t == bsontype.Null {
			// Dropped: nulls inside extensions as Learning Locker's
			// removeNulls does; the others are errors already recorded.
			dst = dst[:mark]
		}
		r.path = r.path[:len(r.path)-1]
	}
	if _, _, err := r.token(); err != nil { // '}'
		return nil, err
	}
	return bsoncore.AppendDocumentEnd(dst, idx)
}

// array appends the array whose '[' was just read.
func (r *jsonReader) array(dst []byte) ([]byte, error) {
	idx, dst := bsoncore.AppendArrayStart(dst)
	for i, n := 0, 0; r.dec.More(); i++ {
		r.path = append(r.path, pathSegment{index: i})
		mark := len(dst)
		dst = append(dst, 0) // the element's type, set below
		// The stored index: null elements are dropped.
		dst = append(appendIndexKey(dst, n), 0)
		var t bsontype.Type
		var err error
		errs := len(r.errs)
		if dst, t, err = r.value(dst); err != nil {
			return nil, err
		}
		dst[mark] = byte(t)
		if t == bsontype.Null {
			if len(r.errs) == errs {
				r.null()
			}
			dst = dst[:mark]
		} else {
			n++
		}
		r.path = r.path[:len(r.path)-1]
	}
	if _, _, err := r.token(); err != nil { // ']'
		return nil, err
	}
	return bsoncore.AppendArrayEnd(dst, idx)
}

// number appends the JSON number n as Node.js's MongoDB driver would store
// the JavaScript number it parses to: an int32 when the value is an
// integer in int32 range, a double otherwise.
func (r *jsonReader) number(dst []byte, n []byte) ([]byte, bsontype.Type, error) {
	if v, ok := smallInt(n); ok {
		return bsoncore.AppendInt32(dst, v), bsontype.Int32, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil { // the body is valid JSON: only the range can fail
		r.fail("number out of range")
		return dst, bsontype.Null, nil
	}
	if f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 && !(f == 0 && math.Signbit(f)) {
		return bsoncore.AppendInt32(dst, int32(f)), bsontype.Int32, nil
	}
	return bsoncore.AppendDouble(dst, f), bsontype.Double, nil
}

// smallInt parses a JSON number written as an integer of at most nine
// digits (so within int32 range), the common case, without ParseFloat.
// "-0" is not one: JavaScript's -0 is stored as a double.
func smallInt(n []byte) (int32, bool) {
	neg := len(n) > 0 && n[0] == '-'
	digits := n
	if neg {
		digits = n[1:]
	}
	if len(digits) == 0 || len(digits) > 9 {
		return 0, false
	}
	var v int32
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int32(c-'0')
	}
	if neg {
		if v == 0 {
			return 0, false
		}
		v = -v
	}
	return v, true
}

// null records a null at the current path, unless it is inside extensions.
func (r *jsonReader) null() {
	for _, seg := range r.path[:len(r.path)-1] {
		if seg.index < 0 && string(seg.key) == "extensions" {
			return
		}
	}
	r.fail("must not be null (xAPI 1.0.3 Data §2.2)")
}

// fail records a FieldError at the current path.
func (r *jsonReader) fail(msg string) {
	r.errs = append(r.errs, FieldError{Index: r.index, Field: joinPath(r.path), Message: msg})
}

// joinPath formats path segments: keys joined by dots, indices appended
// in brackets.
func joinPath(segs []pathSegment) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.index >= 0:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case i > 0:
			b.WriteByte('.')
			fallthrough
		default:
			b.Write(s.key)
		}
	}
	return b.String()
}
