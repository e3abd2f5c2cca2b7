package cond

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// Learning Locker's query markers, as its query builder writes them and its
// server converts them before querying MongoDB
// (LearningLocker/learninglocker lib/helpers/parseQuery.js, which applies
// convert$oid.js, convert$dte.js and convert$personaIdent.js):
//
//	convert$dte: if (_.has(value, '$dte')) return new Date(_.get(value, '$dte'))
//	convert$oid: if (_.has(value, '$oid')) return objectId(_.get(value, '$oid'))
//
// The statements are LL's stored shape; the timestamps are BSON dates.
func TestLearningLockerMarkersMatch(t *testing.T) {
	doc := `{"statement": {"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}},
		"timestamp": {"$date": "2017-06-01T10:00:00Z"},
		"stored": {"$date": "2017-06-01T10:00:01.250Z"},
		"person": {"_id": {"$oid": "5a0000000000000000000042"}, "display": "Ann"},
		"lrs_id": {"$oid": "5a00000000000000000000a1"}}`
	runMatchTable(t, []matchCase{
		// The query builder's date comparisons: a $dte is a date, compared
		// with the stored date (before the fix it was a document and never
		// matched).
		{`{"timestamp": {"$gte": {"$dte": "2017-06-01T00:00:00.000Z"}}}`, doc, true},
		{`{"timestamp": {"$lt": {"$dte": "2017-06-01T00:00:00.000Z"}}}`, doc, false},
		{`{"timestamp": {"$gte": {"$dte": "2017-06-01T10:00:00Z"}, "$lte": {"$dte": "2017-06-01T10:00:00Z"}}}`, doc, true},
		{`{"stored": {"$dte": "2017-06-01T10:00:01.250Z"}}`, doc, true},
		// Date-only forms are midnight UTC, as new Date("2017-06-01") is.
		{`{"timestamp": {"$gt": {"$dte": "2017-06-01"}}}`, doc, true},
		{`{"timestamp": {"$gt": {"$dte": "2017-06-02"}}}`, doc, false},
		// Offsets are honoured: 12:00+02:00 is 10:00Z.
		{`{"timestamp": {"$dte": "2017-06-01T12:00:00+02:00"}}`, doc, true},
		// Inside $and/$or and $in arrays, as the builder nests them.
		{`{"$and": [{"timestamp": {"$gte": {"$dte": "2017-01-01"}}}, {"timestamp": {"$lt": {"$dte": "2018-01-01"}}}]}`, doc, true},
		{`{"timestamp": {"$in": [{"$dte": "2016-01-01"}, {"$dte": "2017-06-01T10:00:00Z"}]}}`, doc, true},
		// $oid is an ObjectId (also plain Extended JSON).
		{`{"person._id": {"$oid": "5a0000000000000000000042"}}`, doc, true},
		{`{"lrs_id": {"$in": [{"$oid": "5a00000000000000000000a1"}]}}`, doc, true},
		{`{"person._id": {"$oid": "5a0000000000000000000043"}}`, doc, false},
	})
}

// ParseISODate reads what JavaScript's Date reads for the ISO forms
// (ECMA-262 "Date Time String Format"); the expected values are what
// node prints for new Date(s).toISOString().
func TestParseISODate(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2017-06-01", "2017-06-01T00:00:00.000Z"},
		{"2017-06", "2017-06-01T00:00:00.000Z"},
		{"2017", "2017-01-01T00:00:00.000Z"},
		{"2017-06-01T10:20", "2017-06-01T10:20:00.000Z"},
		{"2017-06-01T10:20:30", "2017-06-01T10:20:30.000Z"},
		{"2017-06-01T10:20:30.5Z", "2017-06-01T10:20:30.500Z"},
		{"2017-06-01T10:20:30.123456Z", "2017-06-01T10:20:30.123Z"},
		{"2017-06-01T10:20:30-05:30", "2017-06-01T15:50:30.000Z"},
		{"2017-06-01T24:00:00Z", "2017-06-02T00:00:00.000Z"},
		{"2017-06-01 10:20:30Z", "2017-06-01T10:20:30.000Z"},
		{"+020000-01-01T00:00:00Z", "20000-01-01T00:00:00.000Z"},
		{"2016-02-29", "2016-02-29T00:00:00.000Z"},
	} {
		ms, err := ParseISODate(c.in)
		if err != nil {
			t.Errorf("ParseISODate(%q): %v", c.in, err)
			continue
		}
		if got := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"); got != c.want {
			t.Errorf("ParseISODate(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	// new Date(s) is an Invalid Date for these in the ISO grammar; the
	// non-ISO ones V8 reads heuristically are refused rather than guessed.
	for _, in := range []string{"", "2017-13-01", "2017-02-30", "2017-06-01T25:00", "2017-06-01T24:01",
		"2017-06-01T10", "2017-06-01T10:20:30.Z", "2017-06-01T10:20+0200", "-000000-01-01", "June 1, 2017",
		"2017-06-01T10:20:30Zjunk", "17-06-01", "2017-6-1"} {
		if ms, err := ParseISODate(in); err == nil {
			t.Errorf("ParseISODate(%q) = %d, want an error", in, ms)
		}
	}
}

// Markers LL would convert but journeysd cannot, or that are malformed,
// are compile errors naming the marker.
func TestLearningLockerMarkerErrors(t *testing.T) {
	for _, c := range []struct{ query, op, path, reason string }{
		// LL asks its persona service; journeysd points to person._id.
		{`{"person._id": {"$personaIdent": {"key": "statement.actor.mbox", "value": "mailto:a@b.c"}}}`, "$personaIdent", "person._id", "person._id"},
		{`{"$or": [{"a": 1}, {"person._id": {"$personaIdent": {}}}]}`, "$personaIdent", "$or.1.person._id", "person._id"},
		{`{"timestamp": {"$gt": {"$dte": "last tuesday"}}}`, "$dte", "timestamp.$gt", "ISO 8601"},
		{`{"timestamp": {"$gt": {"$dte": 1496311200000}}}`, "$dte", "timestamp.$gt", "ISO 8601 date string"},
		{`{"timestamp": {"$gt": {"$dte": "2017-06-01", "x": 1}}}`, "$dte", "timestamp.$gt", "only member"},
		{`{"timestamp": {"$dte": "2017-02-30"}}`, "$dte", "timestamp", "ISO 8601"},
	} {
		_, err := CompileString(c.query)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want *Error", c.query, err)
			continue
		}
		if ce.Operator != c.op || ce.Path != c.path || !strings.Contains(ce.Reason, c.reason) {
			t.Errorf("%s: got {%q %q %q}, want operator %q path %q reason containing %q", c.query, ce.Operator, ce.Path, ce.Reason, c.op, c.path, c.reason)
		}
	}
}

// LL's convert$oid falls back to the string when the hex does not parse,
// which then silently matches nothing an ObjectId field holds; here it is
// an error naming the problem.
func TestLearningLockerBadOID(t *testing.T) {
	_, err := CompileString(`{"person._id": {"$oid": "not-an-id"}}`)
	if err == nil || !strings.Contains(err.Error(), "ObjectID") {
		t.Errorf("err = %v, want an invalid ObjectID error", err)
	}
}

// A query without markers is returned unchanged, byte for byte, also when
// a string value spells a marker.
func TestConvertMarkersUnchanged(t *testing.T) {
	q := mustDoc(t, `{"a": {"$gt": {"$date": "2017-01-01T00:00:00Z"}}, "b": [{"c": "$dte"}]}`)
	got, err := ConvertMarkers(q)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, q) {
		t.Errorf("ConvertMarkers changed a query without markers:\n%s\n%s", q, got)
	}
}
