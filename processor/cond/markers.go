package cond

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/internal/rawbson"
)

// Learning Locker's query builder writes conditions with markers of its
// own, which its server converts before a query reaches MongoDB
// (lib/helpers/parseQuery.js):
//
//   - {"$dte": "<ISO 8601>"} becomes a Date (convert$dte.js:
//     new Date(value.$dte));
//   - {"$oid": "<hex>"} becomes an ObjectId (convert$oid.js), which is also
//     MongoDB Extended JSON and needs nothing beyond it;
//   - {"$personaIdent": {key, value}} becomes {$in: [persona ids]} by asking
//     LL's persona service (convert$personaIdent.js), which journeysd cannot
//     reach: it is refused with a pointer to person._id.
//
// ParseQuery applies the same conversions after the Extended JSON parse, so
// a waypoint saved from LL's query builder matches what LL would match.

// Marker names.
const (
	markerDate    = "$dte"
	markerPersona = "$personaIdent"
)

// ParseQuery parses a MongoDB Extended JSON query string, canonical or
// relaxed, with Learning Locker's query markers converted (see above), into
// a BSON document. Its errors are *Error values. CompileString is
// ParseQuery followed by Compile; callers that send a condition to a
// database (pushdown) use ParseQuery so the server sees what the matcher
// evaluates.
func ParseQuery(s string) (bson.Raw, error) {
	b := []byte(s)
	// The driver's parser stops after the first value; checking plain JSON
	// first rejects trailing garbage and reports where the syntax breaks.
	var probe json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		reason := "invalid JSON: " + err.Error()
		if se, ok := err.(*json.SyntaxError); ok {
			reason = fmt.Sprintf("invalid JSON at offset %d: %v", se.Offset, se)
		}
		return nil, &Error{Reason: reason}
	}
	if probe[0] != '{' {
		return nil, &Error{Reason: "query must be a JSON object"}
	}
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(b, false, &raw); err != nil {
		return nil, &Error{Reason: "invalid Extended JSON: " + err.Error()}
	}
	return ConvertMarkers(raw)
}

// ConvertMarkers returns doc with Learning Locker's query markers
// converted: every embedded document {"$dte": "<ISO 8601>"} becomes a
// date, and any $personaIdent is an *Error that says to use person._id.
// A document without markers is returned as it is.
func ConvertMarkers(doc bson.Raw) (bson.Raw, error) {
	if !bytes.Contains(doc, []byte(markerDate+"\x00")) && !bytes.Contains(doc, []byte(markerPersona+"\x00")) {
		return doc, nil // the common case: no marker key anywhere
	}
	out, err := convertDoc(bsoncore.Document(doc), "", 0)
	if err != nil {
		return nil, err
	}
	return bson.Raw(out), nil
}

// convertDoc rebuilds the document or array doc with its markers
// converted. path is the dotted path of doc in the query, for errors.
func convertDoc(doc bsoncore.Document, path string, depth int) (bsoncore.Document, error) {
	if depth > rawbson.MaxDepth {
		return nil, &Error{Path: path, Reason: fmt.Sprintf("nested more than %d levels deep", rawbson.MaxDepth)}
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, &Error{Path: path, Reason: "invalid BSON: " + err.Error()}
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		key, v := e.Key(), e.Value()
		at := key
		if path != "" {
			at = path + "." + key
		}
		if key == markerPersona {
			return nil, &Error{Operator: markerPersona, Path: path, Reason: "unsupported: Learning Locker resolves it with its persona service, " +
				"which journeysd does not query; match the persona's id at person._id instead, " +
				`e.g. {"person._id": {"$oid": "<persona id>"}}`}
		}
		switch v.Type {
		case bsontype.EmbeddedDocument, bsontype.Array:
			inner := bsoncore.Document(v.Data)
			if v.Type == bsontype.EmbeddedDocument {
				if d, ok, err := dateMarker(inner, at); err != nil {
					return nil, err
				} else if ok {
					out = bsoncore.AppendDateTimeElement(out, key, d)
					continue
				}
			}
			conv, err := convertDoc(inner, at, depth+1)
			if err != nil {
				return nil, err
			}
			if v.Type == bsontype.Array {
				out = bsoncore.AppendArrayElement(out, key, conv)
			} else {
				out = bsoncore.AppendDocumentElement(out, key, conv)
			}
		default:
			out = bsoncore.AppendValueElement(out, key, v)
		}
	}
	out, err = bsoncore.AppendDocumentEnd(out, idx)
	if err != nil {
		return nil, &Error{Path: path, Reason: "invalid BSON: " + err.Error()}
	}
	return out, nil
}

// dateMarker reads a {"$dte": "<ISO 8601>"} document as Unix milliseconds.
// ok is false when doc has no $dte member. LL's convert$dte replaces any
// object holding $dte by the date and drops its other members; here other
// members are an error rather than silently dropped.
func dateMarker(doc bsoncore.Document, path string) (ms int64, ok bool, err error) {
	v, lerr := doc.LookupErr(markerDate)
	if lerr != nil {
		return 0, false, nil
	}
	bad := func(reason string) (int64, bool, error) {
		return 0, false, &Error{Operator: markerDate, Path: path, Reason: reason}
	}
	if n, _ := doc.Elements(); len(n) != 1 {
		return bad("must be the only member of its object, as in {\"$dte\": \"2024-01-31T00:00:00Z\"}")
	}
	s, isStr := v.StringValueOK()
	if !isStr {
		return bad(fmt.Sprintf("needs an ISO 8601 date string, got %s", v.Type))
	}
	ms, perr := ParseISODate(s)
	if perr != nil {
		return bad(fmt.Sprintf("%q: %v", s, perr))
	}
	return ms, true, nil
}
