package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Cursors are opaque to clients: base64url of a small BSON document naming
// the cursor's kind and the position of an edge. A journey cursor holds the
// edge's sort key and the sort it belongs to; a progress cursor holds the
// (journey, owner) pair. Positions are values, not offsets, so a cursor
// stays meaningful when documents are added or removed before it.

// maxCursorLen bounds a cursor parameter before it is decoded.
const maxCursorLen = 8 << 10

// Cursor kinds.
const (
	cursorJourney  = "j"
	cursorProgress = "p"
)

type journeyCursor struct {
	Kind string `bson:"t"`
	Sort string `bson:"s"`
	Key  bson.A `bson:"k"`
}

type progressCursor struct {
	Kind    string             `bson:"t"`
	Journey primitive.ObjectID `bson:"j"`
	Owner   []byte             `bson:"o"`
}

// encodeCursor encodes a cursor document.
func encodeCursor(v any) (string, error) {
	b, err := bson.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor decodes parameter name into v, whose kind must be kind.
func decodeCursor(name, s, kind string, v any) error {
	bad := errBadRequest(name, "not a cursor of this list")
	if len(s) > maxCursorLen {
		return bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad
	}
	var probe struct {
		Kind string `bson:"t"`
	}
	if bson.Unmarshal(b, &probe) != nil || probe.Kind != kind || bson.Unmarshal(b, v) != nil {
		return bad
	}
	return nil
}

// cursor returns the cursor of an edge with key under ss.
func (ss sortSpec) cursor(key sortKey) (string, error) {
	return encodeCursor(journeyCursor{Kind: cursorJourney, Sort: ss.text, Key: bson.A(key)})
}

// decodeKey decodes a journey cursor parameter into a sort key of ss.
func (ss sortSpec) decodeKey(name, s string) (sortKey, error) {
	var c journeyCursor
	if err := decodeCursor(name, s, cursorJourney, &c); err != nil {
		return nil, err
	}
	if c.Sort != ss.text || len(c.Key) != len(ss.cols) || !orderable(c.Key) {
		return nil, errBadRequest(name, "the cursor belongs to another sort")
	}
	return sortKey(c.Key), nil
}

// pageArgs are a connection request's pagination arguments.
type pageArgs struct {
	first, last   int    // 0 when not given
	after, before string // cursors, "" when not given
}

// pageParams parses first, last, after and before. Without first and last
// the page holds the first defaultFirst edges.
func pageParams(q url.Values) (pageArgs, error) {
	var a pageArgs
	var err error
	if a.first, err = intParam(q, "first", 0, 1, maxLimit); err != nil {
		return a, err
	}
	if a.last, err = intParam(q, "last", 0, 1, maxLimit); err != nil {
		return a, err
	}
	if a.first > 0 && a.last > 0 {
		return a, errBadRequest("last", "first and last cannot be combined")
	}
	if a.first == 0 && a.last == 0 {
		a.first = defaultFirst
	}
	a.after, a.before = q.Get("after"), q.Get("before")
	return a, nil
}

// window selects the page of a sorted list of n edges: the edges strictly
// after the after cursor and strictly before the before cursor, then the
// first or last of those. afterIdx and beforeIdx are the indexes of the
// first edge after the after cursor and of the first edge at or after the
// before cursor (0 and n without cursors). hasPrev and hasNext say whether
// the full list continues beyond the page, whichever direction the client
// pages in.
func (a pageArgs) window(n, afterIdx, beforeIdx int) (start, end int, hasPrev, hasNext bool) {
	lo, hi := afterIdx, max(beforeIdx, afterIdx)
	start, end = lo, hi
	if a.last > 0 {
		start = max(lo, hi-a.last)
	} else {
		end = min(hi, lo+a.first)
	}
	return start, end, start > 0, end < n
}

// searchAfter returns the index of the first of n sorted edges for which
// cmp (the edge compared with a cursor) is positive, or at least zero when
// inclusive.
func searchAfter(n int, inclusive bool, cmp func(i int) int) int {
	return sort.Search(n, func(i int) bool {
		c := cmp(i)
		return c > 0 || inclusive && c == 0
	})
}

// connection is the response of the connection routes.
type connection struct {
	Edges    []edge   `json:"edges"`
	PageInfo pageInfo `json:"pageInfo"`
}

type edge struct {
	Cursor string `json:"cursor"`
	Node   any    `json:"node"`
}

type pageInfo struct {
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
}

// newConnection builds the response from its edges and page flags.
func newConnection(edges []edge, hasPrev, hasNext bool) connection {
	c := connection{Edges: edges, PageInfo: pageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}}
	if c.Edges == nil {
		c.Edges = []edge{}
	}
	if len(edges) > 0 {
		c.PageInfo.StartCursor = &edges[0].Cursor
		c.PageInfo.EndCursor = &edges[len(edges)-1].Cursor
	}
	return c
}
