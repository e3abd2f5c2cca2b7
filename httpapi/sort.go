package httpapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// sortSpec is a validated sort: columns ending with the _id tie-break, so
// that the order is total and pages never repeat or skip a document.
type sortSpec struct {
	cols []bsonkit.Column
	// text is the canonical form, bound into cursors so that a cursor is
	// only used with the sort that produced it.
	text string
}

// sortParam parses the sort parameter in the forms Learning Locker's
// clients send through express-restify-mongoose to mongoose's
// Query.prototype.sort: an Extended JSON object {path: direction} whose
// directions are 1, -1, "asc", "ascending", "desc" or "descending"; an
// array of [path, direction] pairs; or a list of path / -path (/ +path)
// separated by spaces, as mongoose writes it ("a -b"), or by commas. The default is ascending _id, which is
// creation order.
func sortParam(q url.Values) (sortSpec, error) {
	s := strings.TrimSpace(q.Get("sort"))
	var cols []bsonkit.Column
	var err error
	switch {
	case s == "":
	case s[0] == '{':
		cols, err = sortObject(s)
	case s[0] == '[':
		cols, err = sortArray(s)
	default:
		cols, err = sortList(s)
	}
	if err != nil {
		return sortSpec{}, err
	}
	if len(cols) > maxSortColumns {
		return sortSpec{}, errBadRequest("sort", fmt.Sprintf("at most %d fields", maxSortColumns))
	}
	hasID := false
	for i, c := range cols {
		if err := checkPath(c.Path); err != nil {
			return sortSpec{}, errBadRequest("sort", err.Error())
		}
		for _, prev := range cols[:i] {
			if overlaps(prev.Path, c.Path) {
				return sortSpec{}, errBadRequest("sort", fmt.Sprintf("fields %q and %q overlap", prev.Path, c.Path))
			}
		}
		hasID = hasID || c.Path == "_id"
	}
	if !hasID {
		cols = append(cols, bsonkit.Column{Path: "_id"})
	}
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		if c.Reverse {
			b.WriteByte('-')
		}
		b.WriteString(c.Path)
	}
	return sortSpec{cols: cols, text: b.String()}, nil
}

// sortObject parses {path: direction, …}.
func sortObject(s string) ([]bsonkit.Column, error) {
	doc, err := jsonObjectParam("sort", s)
	if err != nil {
		return nil, err
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, errBadRequest("sort", "invalid document: "+err.Error())
	}
	cols := make([]bsonkit.Column, 0, len(elems))
	for _, e := range elems {
		reverse, ok := sortDirection(e.Value())
		if !ok {
			return nil, errBadRequest("sort", fmt.Sprintf(`the direction of %q must be 1, -1, "asc" or "desc"`, e.Key()))
		}
		cols = append(cols, bsonkit.Column{Path: e.Key(), Reverse: reverse})
	}
	return cols, nil
}

// sortArray parses mongoose's array form [["path", direction], …].
func sortArray(s string) ([]bsonkit.Column, error) {
	var pairs [][]json.RawMessage
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, errBadRequest("sort", `a JSON array must hold [field, direction] pairs, as in [["description", 1], ["createdAt", -1]]`)
	}
	cols := make([]bsonkit.Column, 0, len(pairs))
	for _, p := range pairs {
		var path string
		if len(p) != 2 || json.Unmarshal(p[0], &path) != nil {
			return nil, errBadRequest("sort", `a JSON array must hold [field, direction] pairs, as in [["description", 1], ["createdAt", -1]]`)
		}
		doc, err := jsonObjectParam("sort", `{"d":`+string(p[1])+`}`)
		if err != nil {
			return nil, err
		}
		reverse, ok := sortDirection(doc.Lookup("d"))
		if !ok {
			return nil, errBadRequest("sort", fmt.Sprintf(`the direction of %q must be 1, -1, "asc" or "desc"`, path))
		}
		cols = append(cols, bsonkit.Column{Path: path, Reverse: reverse})
	}
	return cols, nil
}

// sortDirection reads a direction as mongoose does: 1 or -1, or the names
// asc, ascending, desc and descending (in any case).
func sortDirection(v bson.RawValue) (reverse, ok bool) {
	if s, isStr := v.StringValueOK(); isStr {
		switch strings.ToLower(s) {
		case "asc", "ascending":
			return false, true
		case "desc", "descending":
			return true, true
		}
		return false, false
	}
	d, ok := direction(v)
	if !ok || d != 1 && d != -1 {
		return false, false
	}
	return d == -1, true
}

// sortList parses "path -path +path", separated by spaces or commas.
func sortList(s string) ([]bsonkit.Column, error) {
	var cols []bsonkit.Column
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		c := bsonkit.Column{Path: f}
		switch {
		case strings.HasPrefix(f, "-"):
			c = bsonkit.Column{Path: f[1:], Reverse: true}
		case strings.HasPrefix(f, "+"):
			c.Path = f[1:]
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// sortKey is a document's position in a sort: per column, the value the
// column orders by.
type sortKey []any

// keyOf returns the sort key of a stored document, with MongoDB's rules as
// lungo implements them: a missing field orders as null, and an array by
// its smallest element ascending and its largest descending.
func (ss sortSpec) keyOf(raw bson.Raw) (sortKey, error) {
	key := make(sortKey, len(ss.cols))
	for i, c := range ss.cols {
		v, err := valueAt(raw, c.Path)
		if err != nil {
			return nil, err
		}
		v = reduce(v, c.Reverse)
		if !orderable(v) {
			// Types outside MongoDB's comparison order (JavaScript, MinKey,
			// …) never occur in journeys the API writes; ordering them as
			// null keeps a foreign document from failing the request.
			v = nil
		}
		key[i] = v
	}
	return key, nil
}

// valueAt returns the value at a dotted path of doc the way bsonkit.Get
// finds it (numeric segments index arrays; arrays are not traversed), as
// the Go value bsonkit compares, or nil when there is none. Only that value
// is decoded, not the document.
func valueAt(doc bson.Raw, path string) (any, error) {
	cur := bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: doc}
	for seg := range strings.SplitSeq(path, ".") {
		var err error
		switch idx, isIndex := bsonkit.ParseIndex(seg); {
		case cur.Type == bsontype.EmbeddedDocument:
			cur, err = bsoncore.Document(cur.Data).LookupErr(seg)
		case cur.Type == bsontype.Array && isIndex:
			cur, err = bsoncore.Array(cur.Data).IndexErr(uint(idx))
		default:
			return nil, nil
		}
		if err != nil {
			return nil, nil // absent, or malformed: ordered as missing
		}
	}
	// Scalars convert directly; documents and arrays take bsonkit's decoding.
	switch cur.Type {
	case bsontype.String:
		if v, ok := cur.StringValueOK(); ok {
			return v, nil
		}
	case bsontype.ObjectID:
		if v, ok := cur.ObjectIDOK(); ok {
			return v, nil
		}
	case bsontype.Boolean:
		if v, ok := cur.BooleanOK(); ok {
			return v, nil
		}
	case bsontype.DateTime:
		if v, ok := cur.DateTimeOK(); ok {
			return primitive.DateTime(v), nil
		}
	case bsontype.Null:
		return nil, nil
	}
	wrapped := bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "v", cur))
	d, err := bsonkit.Transform(bson.Raw(wrapped))
	if err != nil {
		return nil, fmt.Errorf("decode sort value at %q: %w", path, err)
	}
	return (*d)[0].Value, nil
}

// reduce returns the element of an array that orders it: the smallest
// ascending, the largest descending. Other values are returned as they are.
func reduce(v any, reverse bool) any {
	arr, ok := v.(bson.A)
	if !ok || len(arr) == 0 || !orderable(v) {
		return v
	}
	best := arr[0]
	for _, e := range arr[1:] {
		if c := bsonkit.Compare(e, best); reverse && c > 0 || !reverse && c < 0 {
			best = e
		}
	}
	return best
}

// orderable reports whether bsonkit.Compare can order v, which it panics
// on otherwise.
func orderable(v any) bool {
	switch v := v.(type) {
	case nil, primitive.Null, int32, int64, float64, primitive.Decimal128, string,
		primitive.Binary, primitive.ObjectID, bool, primitive.DateTime, primitive.Timestamp, primitive.Regex:
		return true
	case bson.D:
		for _, e := range v {
			if !orderable(e.Value) {
				return false
			}
		}
		return true
	case bson.A:
		for _, e := range v {
			if !orderable(e) {
				return false
			}
		}
		return true
	}
	return false
}

// compare orders two keys of the same sort.
func (ss sortSpec) compare(a, b sortKey) int {
	for i, c := range ss.cols {
		r := bsonkit.Compare(a[i], b[i])
		if c.Reverse {
			r = -r
		}
		if r != 0 {
			return r
		}
	}
	return 0
}
