package journey

import (
	"errors"
	"strings"
	"testing"

	"github.com/journeys/journeys/processor/cond"
)

func TestParseConditions(t *testing.T) {
	for _, tc := range []struct {
		raw, stored, err, operator string
	}{
		{raw: `"{\"statement.verb.id\": \"v\"}"`, stored: `{"statement.verb.id": "v"}`},
		// An object is stored as relaxed Extended JSON, keys in order.
		{raw: `{"b": 1, "a": {"$oid": "5a0000000000000000000001"}}`, stored: `{"b":1,"a":{"$oid":"5a0000000000000000000001"}}`},
		{raw: `"{\"$where\": \"1\"}"`, err: "$where", operator: "$where"},
		{raw: `{"x": {"$near": [1, 2]}}`, err: "$near", operator: "$near"},
		{raw: `"{\"a\": "`, err: "invalid JSON"},
		{raw: `""`, err: "is required"},
		{raw: `null`, err: "is required"},
		{raw: ``, err: "is required"},
		{raw: `[1]`, err: "must be a string or an object, got array"},
		{raw: `"[1]"`, err: "must be a JSON object"},
	} {
		s, m, err := ParseConditions([]byte(tc.raw))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseConditions(%s): error %v, want one containing %q", tc.raw, err, tc.err)
			}
			var ce *cond.Error
			if tc.operator != "" && (!errors.As(err, &ce) || ce.Operator != tc.operator) {
				t.Errorf("ParseConditions(%s): error %#v does not name operator %s", tc.raw, err, tc.operator)
			}
			continue
		}
		if err != nil || m == nil || s != tc.stored {
			t.Errorf("ParseConditions(%s) = %q, %v, %v; want %q", tc.raw, s, m, err, tc.stored)
		}
	}
}
