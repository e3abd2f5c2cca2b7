package cond

import (
	"testing"
)

// $regex and regex values with options i, m, s, x on RE2; only strings and
// symbols match, and regex values with the same pattern and options.
// https://www.mongodb.com/docs/manual/reference/operator/query/regex/
// https://www.pcre.org/original/doc/html/pcrepattern.html (anchors, /x)
func TestMatchRegex(t *testing.T) {
	runMatchTable(t, []matchCase{
		{`{"a": {"$regex": "^ab"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "^ab"}}`, `{"a": "ABC"}`, false},
		{`{"a": {"$regex": "^ab", "$options": "i"}}`, `{"a": "ABC"}`, true},
		{`{"a": {"$options": "i", "$regex": "^ab"}}`, `{"a": "ABC"}`, true},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "^ab", "options": "i"}}}}`, `{"a": "ABC"}`, true},
		{`{"a": {"$regularExpression": {"pattern": "^ab", "options": "i"}}}`, `{"a": "ABC"}`, true},
		{`{"a": {"$regex": "é", "$options": "i"}}`, `{"a": "CAFÉ"}`, true},
		{`{"a": {"$regex": "b"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "1"}}`, `{"a": 1}`, false},
		{`{"a": {"$regex": "x"}}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": {"$regex": "x"}}`, `{"a": {"$code": "x"}}`, false},
		{`{"a": {"$regex": "x"}}`, `{}`, false},
		{`{"a": {"$regex": "^x"}}`, `{"a": ["y", "xz"]}`, true},
		{`{"a.b": {"$regex": "^x"}}`, `{"a": [{"b": "y"}, {"b": "xz"}]}`, true},
		// m: ^ and $ at line boundaries.
		{`{"a": {"$regex": "^b"}}`, `{"a": "a\nb"}`, false},
		{`{"a": {"$regex": "^b", "$options": "m"}}`, `{"a": "a\nb"}`, true},
		{`{"a": {"$regex": "a$", "$options": "m"}}`, `{"a": "a\nb"}`, true},
		{`{"a": {"$regex": "(?m)a$"}}`, `{"a": "a\nb"}`, true},
		// Without m, PCRE's $ (and \Z) also match before a final newline.
		{`{"a": {"$regex": "b$"}}`, `{"a": "ab\n"}`, true},
		{`{"a": {"$regex": "b$"}}`, `{"a": "ab\nc"}`, false},
		{`{"a": {"$regex": "a$"}}`, `{"a": "a\nb"}`, false},
		{`{"a": {"$regex": "b\\Z"}}`, `{"a": "ab\n"}`, true},
		{`{"a": {"$regex": "b\\z"}}`, `{"a": "ab\n"}`, false},
		{`{"a": {"$regex": "b[$]"}}`, `{"a": "ab$"}`, true},
		{`{"a": {"$regex": "b\\$"}}`, `{"a": "ab$"}`, true},
		// s: dot matches newline.
		{`{"a": {"$regex": "a.b"}}`, `{"a": "a\nb"}`, false},
		{`{"a": {"$regex": "a.b", "$options": "s"}}`, `{"a": "a\nb"}`, true},
		// x: whitespace and #-comments ignored outside classes and escapes.
		{`{"a": {"$regex": "a b # comment\n c", "$options": "x"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "a b", "$options": "x"}}`, `{"a": "a b"}`, false},
		{`{"a": {"$regex": "a\\ b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "a[ ]b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "a\\#b", "$options": "x"}}`, `{"a": "a#b"}`, true},
		{`{"a": {"$regex": "a[#]b # c", "$options": "x"}}`, `{"a": "a#b"}`, true},
		{`{"a": {"$regex": "a[]# ]b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "a[[:space:]]b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "\\Qa b\\E", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "^a  b $", "$options": "xi"}}`, `{"a": "AB"}`, true},
		{`{"a": {"$regex": "x", "$options": "u"}}`, `{"a": "x"}`, true},
		// Regex operands of implicit equality, $in and $all match; of $eq
		// they compare as values.
		{`{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, false},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": "x"}`, false},
		{`{"a": {"$regex": "x"}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
	})
}

// The legacy {"$regex", "$options"} form and the canonical Extended JSON
// regex value must match identically.
func TestRegexFormsAgree(t *testing.T) {
	forms := [][2]string{
		{`{"a": {"$regex": "^ab", "$options": "i"}}`, `{"a": {"$regularExpression": {"pattern": "^ab", "options": "i"}}}`},
		{`{"a": {"$regex": "^b$", "$options": "m"}}`, `{"a": {"$regex": {"$regularExpression": {"pattern": "^b$", "options": "m"}}}}`},
		{`{"a": {"$regex": "a . b", "$options": "sx"}}`, `{"a": {"$regularExpression": {"pattern": "a . b", "options": "sx"}}}`},
	}
	docs := []string{
		`{"a": "abc"}`, `{"a": "ABC"}`, `{"a": "xab"}`, `{"a": "a\nb"}`, `{"a": "b"}`,
		`{"a": "a\nb\nc"}`, `{"a": ["x", "AB"]}`, `{"a": 1}`, `{}`, `{"a": {"$symbol": "ab"}}`,
	}
	for _, f := range forms {
		legacy, canonical := mustCompile(t, f[0]), mustCompile(t, f[1])
		matched := 0
		for _, d := range docs {
			doc := mustDoc(t, d)
			l, c := legacy.Match(doc), canonical.Match(doc)
			if l != c {
				t.Errorf("%s and %s disagree on %s: %v vs %v", f[0], f[1], d, l, c)
			}
			if l {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%s matched none of the documents; the comparison proves nothing", f[0])
		}
	}
}

// Extended JSON operand forms, canonical and relaxed.
// https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/
func TestMatchExtendedJSONValues(t *testing.T) {
	const stored = `{"_id": {"$oid": "650000000000000000000001"},
		"stored": {"$date": {"$numberLong": "1704164645123"}},
		"n": {"$numberLong": "5"}, "d": {"$numberDouble": "2.5"}, "i": 7}`
	runMatchTable(t, []matchCase{
		{`{"_id": {"$oid": "650000000000000000000001"}}`, stored, true},
		{`{"_id": {"$oid": "650000000000000000000002"}}`, stored, false},
		{`{"_id": "650000000000000000000001"}`, stored, false},
		{`{"stored": {"$date": "2024-01-02T03:04:05.123Z"}}`, stored, true},
		{`{"stored": {"$date": "2024-01-02T04:04:05.123+01:00"}}`, stored, true},
		{`{"stored": {"$date": {"$numberLong": "1704164645123"}}}`, stored, true},
		{`{"stored": {"$date": "2024-01-02T03:04:05Z"}}`, stored, false},
		{`{"stored": {"$gte": {"$date": "2024-01-01T00:00:00Z"}, "$lt": {"$date": "2024-02-01T00:00:00Z"}}}`, stored, true},
		{`{"stored": {"$gt": {"$date": "2024-01-02T03:04:05.124Z"}}}`, stored, false},
		{`{"stored": {"$numberLong": "1704164645123"}}`, stored, false},
		{`{"n": {"$numberLong": "5"}}`, stored, true},
		{`{"n": {"$numberInt": "5"}}`, stored, true},
		{`{"n": {"$numberDouble": "5.0"}}`, stored, true},
		{`{"n": {"$numberDecimal": "5.00"}}`, stored, true},
		{`{"n": 5}`, stored, true},
		{`{"d": {"$numberDecimal": "2.50"}}`, stored, true},
		{`{"d": 2.5}`, stored, true},
		{`{"i": {"$numberLong": "7"}}`, stored, true},
		{`{"i": {"$in": [{"$numberDecimal": "7.0"}]}}`, stored, true},
	})
}
