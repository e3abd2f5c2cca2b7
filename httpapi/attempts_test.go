package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/journey"
)

// progressPage is the part of a progress document or attempts page the
// paging test reads.
type progressPage struct {
	ID          string `json:"_id"`
	Completions []struct {
		Attempt     uint32 `json:"attempt"`
		IsCompleted bool   `json:"isCompleted"`
	} `json:"completions"`
	Attempts []struct {
		Attempt     uint32 `json:"attempt"`
		IsCompleted bool   `json:"isCompleted"`
	} `json:"attempts"`
	OlderAttempts *struct {
		Before uint32 `json:"before"`
		Href   string `json:"href"`
	} `json:"olderAttempts"`
}

// An owner with many attempts gets a bounded progress document (the
// current attempt and the newest completed ones) and reaches every older
// attempt exactly once by following olderAttempts.
func TestProgressAttemptsArePaged(t *testing.T) {
	const kept, completed = 100, 250
	stats := &journey.LimitStats{}
	h := newHarness(t, func(c *Config) { c.ProgressAttempts, c.LimitStats = kept, stats })
	j := h.create(credA, `{"isRepeatable": true, "waypoints": [
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbLaunched+`\"}"},
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCompleted+`\"}"}]}`)
	// The real engine: each launch+completion completes an attempt; a
	// last launch starts attempt 251.
	g := xapitest.New(1, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 1})
	actor := g.Actor(0)
	e := processor.NewEngine(h.store, processor.Options{})
	e.SetJourney(compileStored(t, h.db, j.ID), 0)
	for range completed {
		for _, verb := range []string{xapitest.VerbLaunched, xapitest.VerbCompleted} {
			if _, err := e.Statement(g.Make(xapitest.Spec{Actor: actor, Verb: verb})); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.Statement(g.Make(xapitest.Spec{Actor: actor, Verb: xapitest.VerbLaunched})); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}

	var docs []progressPage
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?journey="+j.ID, credA, "", &docs)
	if len(docs) != 1 {
		t.Fatalf("%d progress documents, want 1", len(docs))
	}
	doc := docs[0]
	if n := len(doc.Completions); n != kept+1 {
		t.Fatalf("completions lists %d attempts, want %d kept and the current one", n, kept+1)
	}
	seen := map[uint32]int{}
	for i, a := range doc.Completions {
		seen[a.Attempt]++
		if want := uint32(completed - kept + 1 + i); a.Attempt != want || a.IsCompleted != (i < kept) {
			t.Errorf("completions[%d] = attempt %d completed %v, want attempt %d", i, a.Attempt, a.IsCompleted, want)
		}
	}
	if n := stats.ProgressAttempts.Load(); n != 1 {
		t.Errorf("limit hits progress_attempts = %d after one document with older attempts, want 1", n)
	}
	older := doc.OlderAttempts
	pages := 0
	for older != nil {
		if older.Before == 0 || older.Href == "" {
			t.Fatalf("olderAttempts %+v", older)
		}
		// Follow the link with a page size of 60, as a client may.
		u, err := url.Parse(older.Href)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("limit", "60")
		var page progressPage
		r := h.expect(http.StatusOK, http.MethodGet, u.Path+"?"+q.Encode(), credA, "", &page)
		if page.ID != doc.ID || len(page.Attempts) == 0 || len(page.Attempts) > 60 {
			t.Fatalf("page %s", r.body)
		}
		for i, a := range page.Attempts {
			seen[a.Attempt]++
			if !a.IsCompleted || a.Attempt >= older.Before || i > 0 && a.Attempt != page.Attempts[i-1].Attempt+1 {
				t.Fatalf("page before %d lists attempt %d (completed %v) at %d", older.Before, a.Attempt, a.IsCompleted, i)
			}
		}
		older = page.OlderAttempts
		pages++
	}
	if pages != 3 { // 150 older attempts in pages of 60
		t.Errorf("%d pages, want 3", pages)
	}
	for n := uint32(1); n <= completed+1; n++ {
		if seen[n] != 1 {
			t.Errorf("attempt %d seen %d times", n, seen[n])
		}
	}

	// Bad parameters are 400s; another organisation's id is a 404.
	base := "/api/v2/journeyprogress/" + doc.ID + "/attempts"
	for _, bad := range []string{"?before=0", "?before=x", "?before=4294967296", "?limit=0", "?limit=1001"} {
		h.expect(http.StatusBadRequest, http.MethodGet, base+bad, credA, "", nil)
	}
	h.expect(http.StatusNotFound, http.MethodGet, base, credB, "", nil)
	h.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journeyprogress/"+j.ID+"/attempts", credA, "", nil)
	// Without the journey hint the document is found all the same.
	var page progressPage
	h.expect(http.StatusOK, http.MethodGet, base+"?before="+strconv.Itoa(completed-kept+1)+"&limit=1000", credA, "", &page)
	if len(page.Attempts) != completed-kept || page.OlderAttempts != nil {
		b, _ := json.Marshal(page)
		t.Errorf("unhinted page: %s", b)
	}
}
