package httpapi

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// page is a connection response.
type page struct {
	Edges []struct {
		Cursor string     `json:"cursor"`
		Node   apiJourney `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
	} `json:"pageInfo"`
}

func (h *harness) page(query string) page {
	h.t.Helper()
	var p page
	h.expect(http.StatusOK, http.MethodGet, "/api/connection/journey?"+query, credA, "", &p)
	return p
}

// walkForward pages with first/after until the end and returns the ids.
func (h *harness) walkForward(sort string, size int) []string {
	h.t.Helper()
	var ids []string
	after := ""
	for i := 0; ; i++ {
		q := url.Values{"first": {fmt.Sprint(size)}, "sort": {sort}}
		if after != "" {
			q.Set("after", after)
		}
		p := h.page(q.Encode())
		if p.PageInfo.HasPreviousPage != (i > 0) {
			h.t.Fatalf("forward page %d: hasPreviousPage %v", i, p.PageInfo.HasPreviousPage)
		}
		for _, e := range p.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !p.PageInfo.HasNextPage {
			return ids
		}
		if len(p.Edges) != size || *p.PageInfo.EndCursor != p.Edges[size-1].Cursor {
			h.t.Fatalf("forward page %d: %d edges, endCursor mismatch", i, len(p.Edges))
		}
		after = *p.PageInfo.EndCursor
	}
}

// walkBackward pages with last/before from the end and returns the ids in
// list order.
func (h *harness) walkBackward(sort string, size int) []string {
	h.t.Helper()
	var ids []string
	before := ""
	for i := 0; ; i++ {
		q := url.Values{"last": {fmt.Sprint(size)}, "sort": {sort}}
		if before != "" {
			q.Set("before", before)
		}
		p := h.page(q.Encode())
		if p.PageInfo.HasNextPage != (i > 0) {
			h.t.Fatalf("backward page %d: hasNextPage %v", i, p.PageInfo.HasNextPage)
		}
		var chunk []string
		for _, e := range p.Edges {
			chunk = append(chunk, e.Node.ID)
		}
		ids = append(chunk, ids...)
		if !p.PageInfo.HasPreviousPage {
			return ids
		}
		before = *p.PageInfo.StartCursor
	}
}

func TestPaginationWalk(t *testing.T) {
	h := newHarness(t)
	const n = 250
	var all []apiJourney
	for i := range n {
		// Descriptions repeat and creation times come in groups, so the
		// sorts have ties that only the _id tie-break orders.
		all = append(all, h.create(credA, journeyBody(fmt.Sprintf("journey %02d", (i*7)%40), i%3 == 0)))
		if i%10 == 9 {
			h.advance(time.Second)
		}
	}
	ids := func(js []apiJourney) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	sorts := []struct {
		sort string
		cmp  func(a, b apiJourney) int
	}{
		{"", func(a, b apiJourney) int { return cmp.Compare(a.ID, b.ID) }},
		{"description", func(a, b apiJourney) int {
			return cmp.Or(cmp.Compare(a.Description, b.Description), cmp.Compare(a.ID, b.ID))
		}},
		{`{"isPublic": -1, "createdAt": 1}`, func(a, b apiJourney) int {
			pub := func(j apiJourney) int {
				if j.IsPublic {
					return 0
				}
				return 1
			}
			return cmp.Or(cmp.Compare(pub(a), pub(b)), cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
		}},
		{"-description,_id", func(a, b apiJourney) int {
			return cmp.Or(cmp.Compare(b.Description, a.Description), cmp.Compare(a.ID, b.ID))
		}},
	}
	for _, s := range sorts {
		want := ids(slices.SortedFunc(slices.Values(all), s.cmp))
		var list []apiJourney
		h.expect(http.StatusOK, http.MethodGet, "/api/v2/journey?limit=1000&sort="+url.QueryEscape(s.sort), credA, "", &list)
		if got := ids(list); !slices.Equal(got, want) {
			t.Errorf("sort %q: v2 list differs from the expected order", s.sort)
		}
		if got := h.walkForward(s.sort, 7); !slices.Equal(got, want) {
			t.Errorf("sort %q: forward walk (%d ids) differs from the sorted list", s.sort, len(got))
		}
		if got := h.walkBackward(s.sort, 9); !slices.Equal(got, want) {
			t.Errorf("sort %q: backward walk (%d ids) differs from the sorted list", s.sort, len(got))
		}
	}

	// Cursors are positions, not offsets: deleting the edge a cursor came
	// from neither repeats nor skips anything.
	first := h.page("first=5&sort=description")
	cur := first.Edges[4]
	h.expect(http.StatusNoContent, http.MethodDelete, "/api/v2/journey/"+cur.Node.ID, credA, "", nil)
	next := h.page("first=5&sort=description&after=" + url.QueryEscape(cur.Cursor))
	want := ids(slices.SortedFunc(slices.Values(all), sorts[1].cmp))
	if got := next.Edges[0].Node.ID; got != want[5] {
		t.Errorf("after a deleted cursor: first edge %s, want %s", got, want[5])
	}
	// after and before together bound the window.
	mid := h.page("first=3&sort=description&after=" + url.QueryEscape(first.Edges[0].Cursor) + "&before=" + url.QueryEscape(first.Edges[3].Cursor))
	if len(mid.Edges) != 2 || mid.Edges[0].Node.ID != want[1] || mid.Edges[1].Node.ID != want[2] ||
		!mid.PageInfo.HasNextPage || !mid.PageInfo.HasPreviousPage {
		t.Errorf("window between cursors: %+v", mid.PageInfo)
	}

	// A cursor only works with its own sort; garbage is a 400.
	for _, q := range []string{
		"sort=-description&after=" + url.QueryEscape(cur.Cursor),
		"after=" + url.QueryEscape(cur.Cursor),
		"after=@@@",
		"before=bm90IGJzb24",
		"first=2&last=2",
		"first=0",
	} {
		h.expect(http.StatusBadRequest, http.MethodGet, "/api/connection/journey?"+q, credA, "", nil)
	}
	if p := h.page("sort=description"); len(p.Edges) != defaultFirst {
		t.Errorf("default page size %d", len(p.Edges))
	}
}
