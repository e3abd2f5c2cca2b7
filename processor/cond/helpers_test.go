package cond

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// mustDoc parses a relaxed Extended JSON document.
func mustDoc(t testing.TB, ext string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(ext), false, &d); err != nil {
		t.Fatalf("bad test document %s: %v", ext, err)
	}
	return d
}

// mustCompile compiles an Extended JSON query or fails the test.
func mustCompile(t testing.TB, query string) *Matcher {
	t.Helper()
	m, err := CompileString(query)
	if err != nil {
		t.Fatalf("CompileString(%s): %v", query, err)
	}
	return m
}

// matchCase is one row of a matching table: whether query matches doc.
type matchCase struct {
	query, doc string
	want       bool
}

// runMatchTable checks every row of a matching table.
func runMatchTable(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		m, err := CompileString(c.query)
		if err != nil {
			t.Errorf("CompileString(%s): %v", c.query, err)
			continue
		}
		if got := m.Match(mustDoc(t, c.doc)); got != c.want {
			t.Errorf("%s on %s: got %v, want %v", c.query, c.doc, got, c.want)
		}
	}
}
