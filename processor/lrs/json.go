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
// removeNulls step does.
type jsonReader struct {
	dec *lexer
	// index and path locate the value being read, for FieldErrors.
	index int
	path  []string
	errs  []FieldError
}

// parseBody reads an Ingest body: one JSON value that is a statement object
// or an array of them. It returns the BSON value of each statement (a
// non-object element is returned as read, for validation to reject) and
// the FieldErrors conversion found (duplicate keys, NUL in keys, numbers
// out of range). A body that is not JSON yields a *journey.SyntaxError.
func parseBody(data []byte) ([]bsoncore.Value, []FieldError, error) {
	// A first pass finds syntax errors, trailing data included, and
	// encoding/json's offset for them; the token pass below then only sees
	// valid JSON.
	if !json.Valid(data) {
		return nil, nil, syntaxError(data, json.Unmarshal(data, new(json.RawMessage)))
	}
	r := &jsonReader{dec: &lexer{data: data}}
	tok, err := r.token()
	if err != nil {
		return nil, nil, err
	}
	var vals []bsoncore.Value
	switch tok {
	case json.Delim('['):
		for r.dec.More() {
			r.index = len(vals)
			b, t, err := r.value(nil)
			if err != nil {
				return nil, nil, err
			}
			vals = append(vals, bsoncore.Value{Type: t, Data: b})
		}
		if _, err := r.token(); err != nil { // ']'
			return nil, nil, err
		}
	case json.Delim('{'):
		b, err := r.object(nil)
		if err != nil {
			return nil, nil, err
		}
		vals = append(vals, bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: b})
	default:
		return nil, []FieldError{{Index: -1, Message: "the body must be a statement object or an array of statements"}}, nil
	}
	return vals, r.errs, nil
}

// token reads the next token of the (already validated) body.
func (r *jsonReader) token() (json.Token, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, fmt.Errorf("lrs: read JSON: %w", err)
	}
	return tok, nil
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
	tok, err := r.token()
	if err != nil {
		return nil, 0, err
	}
	switch v := tok.(type) {
	case json.Delim: // '{' or '[': the decoder reports stray ']' and '}' as errors
		if v == '[' {
			dst, err = r.array(dst)
			return dst, bsontype.Array, err
		}
		dst, err = r.object(dst)
		return dst, bsontype.EmbeddedDocument, err
	case string:
		return bsoncore.AppendString(dst, v), bsontype.String, nil
	case json.Number:
		return r.number(dst, v)
	case bool:
		return bsoncore.AppendBoolean(dst, v), bsontype.Boolean, nil
	}
	return dst, bsontype.Null, nil
}

// object appends the document whose '{' was just read.
func (r *jsonReader) object(dst []byte) ([]byte, error) {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	var keys []string
	seen := map[string]bool{} // only filled for large objects, see below
	for r.dec.More() {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // the decoder only yields strings in key position
		r.path = append(r.path, key)
		// Objects are small; a linear scan beats a map until they are not
		// (a 1 MiB body could otherwise cost quadratic time).
		dup := false
		if len(keys) < 32 {
			for _, k := range keys {
				dup = dup || k == key
			}
			keys = append(keys, key)
		} else {
			if len(seen) == 0 {
				for _, k := range keys {
					seen[k] = true
				}
			}
			dup, seen[key] = seen[key], true
		}
		nul := strings.IndexByte(key, 0) >= 0
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
	if _, err := r.token(); err != nil { // '}'
		return nil, err
	}
	return bsoncore.AppendDocumentEnd(dst, idx)
}

// array appends the array whose '[' was just read.
func (r *jsonReader) array(dst []byte) ([]byte, error) {
	idx, dst := bsoncore.AppendArrayStart(dst)
	for i, n := 0, 0; r.dec.More(); i++ {
		r.path = append(r.path, "["+strconv.Itoa(i)+"]")
		key := strconv.Itoa(n) // the stored index: null elements are dropped
		mark := len(dst)
		dst = append(dst, 0) // the element's type, set below
		dst = append(append(dst, key...), 0)
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
	if _, err := r.token(); err != nil { // ']'
		return nil, err
	}
	return bsoncore.AppendArrayEnd(dst, idx)
}

// number appends n as Node.js's MongoDB driver would store the JavaScript
// number it parses to: an int32 when the value is an integer in int32
// range, a double otherwise.
func (r *jsonReader) number(dst []byte, n json.Number) ([]byte, bsontype.Type, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil { // the decoder validated the syntax: only the range can fail
		r.fail("number out of range")
		return dst, bsontype.Null, nil
	}
	if f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 && !(f == 0 && math.Signbit(f)) {
		return bsoncore.AppendInt32(dst, int32(f)), bsontype.Int32, nil
	}
	return bsoncore.AppendDouble(dst, f), bsontype.Double, nil
}

// null records a null at the current path, unless it is inside extensions.
func (r *jsonReader) null() {
	for _, seg := range r.path[:len(r.path)-1] {
		if seg == "extensions" {
			return
		}
	}
	r.fail("must not be null (xAPI 1.0.3 Data §2.2)")
}

// fail records a FieldError at the current path.
func (r *jsonReader) fail(msg string) {
	r.errs = append(r.errs, FieldError{Index: r.index, Field: joinPath(r.path), Message: msg})
}

// joinPath formats path segments: keys joined by dots, indices appended.
func joinPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
