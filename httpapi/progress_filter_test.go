package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
)

// progressIDs lists the ids of the progress documents a list request
// returns.
func (f *progressFixture) progressIDs(t *testing.T, path string) []string {
	t.Helper()
	var docs []progressDoc
	f.expect(http.StatusOK, http.MethodGet, path, credA, "", &docs)
	ids := []string{}
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids
}

// TestProgressFilter: filter (or query) selects progress documents by _id,
// journey, owner.*, createdAt, updatedAt and completion state, checked
// against the fixture's independent count of who completed what; the
// count and connection routes agree with the list.
func TestProgressFilter(t *testing.T) {
	f := newProgressFixture(t)
	j := f.unordered
	q := url.QueryEscape
	var docs []progressDoc
	// Every progress document before journey k below exists; byActor maps
	// an actor to its progress id in the unordered journey.
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=1000", credA, "", &docs)
	byActor := map[int]string{}
	var all, unordered []string
	for _, d := range docs {
		all = append(all, d.ID)
		if d.Journey != j.ID {
			continue
		}
		unordered = append(unordered, d.ID)
		for _, a := range f.owners() {
			if identMatches(f, a, d) {
				byActor[a] = d.ID
			}
		}
	}
	if len(byActor) != len(f.owners()) {
		t.Fatalf("%d of %d owners found in the list", len(byActor), len(f.owners()))
	}
	// A journey of its own for the completion state: actor a comments a
	// times and the journey needs 4, so actors 4 to 7 are done, 1 to 3 not.
	k := f.create(credA, `{"description": "comment 4 times", "waypoints": [
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCommented+`\"}", "count": 4}]}`)
	e := processor.NewEngine(f.store, processor.Options{})
	e.SetJourney(compileStored(t, f.db, k.ID), 0)
	for a := range 8 {
		for range a {
			if _, err := e.Statement(f.gen.Make(xapitest.Spec{Actor: f.gen.Actor(a), Verb: xapitest.VerbCommented})); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}
	var kDocs []progressDoc
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?journey="+k.ID, credA, "", &kDocs)
	var done, notDone []string
	for _, d := range kDocs {
		for a := range 8 {
			if identMatches(f, a, d) {
				if a >= 4 {
					done = append(done, d.ID)
				} else {
					notDone = append(notDone, d.ID)
				}
			}
		}
	}
	if len(done) != 4 || len(notDone) != 3 {
		t.Fatalf("journey %s: %d owners done, %d not; want 4 and 3", k.ID, len(done), len(notDone))
	}
	all = append(all, done...)
	all = append(all, notDone...)

	// One actor with an mbox, for owner.ident filters.
	mboxActor := -1
	for _, a := range f.owners() {
		if f.gen.Actor(a).Mbox != "" {
			mboxActor = a
			break
		}
	}
	if mboxActor < 0 {
		t.Fatal("no actor with an mbox")
	}
	mbox := f.gen.Actor(mboxActor).Mbox
	var mboxDocs []string
	var withK []progressDoc
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=1000", credA, "", &withK)
	for _, d := range withK {
		if d.Owner.Ident["mbox"] == mbox {
			mboxDocs = append(mboxDocs, d.ID)
		}
	}
	// And one with an account, for nested ident paths.
	var homePage, accName string
	for a := range actors {
		if acc := f.gen.Actor(a).Account; acc != nil && homePage == "" {
			homePage, accName = acc.HomePage, acc.Name
		}
	}
	var accountDocs []string
	for _, d := range withK {
		if acc, ok := d.Owner.Ident["account"].(map[string]any); ok && acc["homePage"] == homePage && acc["name"] == accName {
			accountDocs = append(accountDocs, d.ID)
		}
	}
	if len(accountDocs) == 0 {
		t.Fatal("no progress of an actor with an account")
	}

	// createdAt of the median document, for range filters.
	var created []string
	createdOf := map[string]string{}
	var full []struct {
		ID        string `json:"_id"`
		CreatedAt string `json:"createdAt"`
	}
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=1000", credA, "", &full)
	for _, d := range full {
		created = append(created, d.CreatedAt)
		createdOf[d.ID] = d.CreatedAt
	}
	slices.Sort(created)
	median := created[len(created)/2]
	var since []string
	for _, id := range all {
		if createdOf[id] >= median {
			since = append(since, id)
		}
	}

	for _, c := range []struct {
		name, filter string
		want         []string
	}{
		{"journey as a 24-hex string", `{"journey": "` + j.ID + `"}`, unordered},
		{"journey as $oid", `{"journey": {"$oid": "` + j.ID + `"}}`, unordered},
		{"journey $in", `{"journey": {"$in": ["` + j.ID + `", "` + f.sequential.ID + `", "` + k.ID + `"]}}`, all},
		{"_id", `{"_id": "` + unordered[0] + `"}`, unordered[:1]},
		{"completed", `{"journey": "` + k.ID + `", "completions.isCompleted": true}`, done},
		{"not completed", `{"completions.isCompleted": {"$ne": true}, "journey": "` + k.ID + `"}`, notDone},
		{"completed, cast from a string as mongoose casts", `{"journey": "` + k.ID + `", "completions.isCompleted": "true"}`, done},
		{"completedAt set", `{"journey": "` + k.ID + `", "completions.completedAt": {"$ne": null}}`, done},
		{"completedAt after 2000", `{"journey": "` + k.ID + `", "completions.completedAt": {"$gt": "2000-01-01"}}`, done},
		{"completions $elemMatch", `{"journey": "` + k.ID + `", "completions": {"$elemMatch": {"isCompleted": true, "attempt": 1}}}`, done},
		{"owner.ident.mbox", `{"owner.ident.mbox": "` + mbox + `"}`, mboxDocs},
		{"owner.ident.account", `{"owner.ident.account.homePage": "` + homePage + `", "owner.ident.account.name": "` + accName + `"}`, accountDocs},
		{"owner.ident.account as a document", `{"owner.ident.account": {"homePage": "` + homePage + `", "name": "` + accName + `"}}`, accountDocs},
		{"owner.trackBy", `{"owner.trackBy": "persona"}`, []string{}},
		{"createdAt from an ISO string", `{"createdAt": {"$gte": "` + median + `"}}`, since},
		{"createdAt $dte", `{"createdAt": {"$gte": {"$dte": "` + median + `"}}}`, since},
		{"updatedAt before 2000", `{"updatedAt": {"$lt": "2000-01-01"}}`, []string{}},
		{"$or", `{"$or": [{"_id": "` + unordered[0] + `"}, {"_id": "` + unordered[1] + `"}]}`, unordered[:2]},
	} {
		for _, param := range []string{"filter", "query"} {
			got := f.progressIDs(t, "/api/v2/journeyprogress?limit=1000&"+param+"="+q(c.filter))
			if !sameSet(got, c.want) {
				t.Errorf("%s (%s): got %d documents, want %d\n got %v\nwant %v", c.name, param, len(got), len(c.want), got, c.want)
			}
		}
		var n struct{ Count int }
		f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress/count?filter="+q(c.filter), credA, "", &n)
		if n.Count != len(c.want) {
			t.Errorf("%s: count %d, want %d", c.name, n.Count, len(c.want))
		}
		// The connection pages through the same documents.
		var conn struct {
			Edges    []struct{ Node progressDoc }
			PageInfo struct {
				EndCursor   *string
				HasNextPage bool
			}
		}
		var paged []string
		for after := ""; ; {
			f.expect(http.StatusOK, http.MethodGet, "/api/connection/journeyprogress?first=3&filter="+q(c.filter)+"&after="+q(after), credA, "", &conn)
			for _, e := range conn.Edges {
				paged = append(paged, e.Node.ID)
			}
			if !conn.PageInfo.HasNextPage {
				break
			}
			after = *conn.PageInfo.EndCursor
		}
		if !sameSet(paged, c.want) {
			t.Errorf("%s: connection pages %v, want %v", c.name, paged, c.want)
		}
	}
	// Filters combine with the selection parameters.
	got := f.progressIDs(t, "/api/v2/journeyprogress?journey="+f.sequential.ID+"&filter="+q(`{"journey": "`+j.ID+`"}`))
	if len(got) != 0 {
		t.Errorf("journey parameter and a filter on another journey: %v", got)
	}
	// Another organisation's filter sees nothing of A's.
	var none []progressDoc
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?filter="+q(`{"journey": "`+j.ID+`"}`), credB, "", &none)
	if len(none) != 0 {
		t.Errorf("organisation B: %d documents", len(none))
	}

	// Any other field is a 400 naming it, also nested in $or and
	// $elemMatch; so are values that cannot be cast.
	for _, c := range []struct{ filter, reason string }{
		{`{"statement.verb.id": "x"}`, `"statement.verb.id"`},
		{`{"$or": [{"journey": "` + j.ID + `"}, {"isCompleted": true}]}`, `"isCompleted"`},
		{`{"completions.waypoints": {"$exists": true}}`, `"completions.waypoints"`},
		{`{"completions": {"$elemMatch": {"statements": 1}}}`, `"completions.statements"`},
		{`{"completions": {"$not": {"$elemMatch": {"x": 1}}}}`, `"completions.x"`},
		{`{"journey": "nope"}`, `cast to ObjectId failed for value "nope" at path "journey"`},
		{`{"createdAt": {"$gt": "soon"}}`, `cast to date failed`},
		{`{"owner.ident.persona": "p"}`, `cast to ObjectId failed`},
		{`{"$where": "1"}`, `$where`},
	} {
		var e errorResponse
		f.expect(http.StatusBadRequest, http.MethodGet, "/api/v2/journeyprogress?filter="+q(c.filter), credA, "", &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != "filter" || !strings.Contains(e.Errors[0].Message, c.reason) {
			t.Errorf("%s: %+v, want a 400 on filter saying %s", c.filter, e, c.reason)
		}
	}
}

// TestProgressByID: every listed progress document is served at
// /api/v2/journeyprogress/:id exactly as listed; ids of nothing, of another
// organisation or malformed are 404.
func TestProgressByID(t *testing.T) {
	f := newProgressFixture(t)
	r := f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=1000", credA, "", nil)
	var listed []json.RawMessage
	if err := json.Unmarshal(r.body, &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) == 0 {
		t.Fatal("no progress")
	}
	for _, raw := range listed {
		var d progressDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		one := f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress/"+d.ID, credA, "", nil)
		if compact(t, one.body) != compact(t, raw) {
			t.Errorf("%s:\n got %s\nwant %s", d.ID, one.body, raw)
		}
	}
	var first progressDoc
	_ = json.Unmarshal(listed[0], &first)
	f.expect(http.StatusOK, http.MethodGet, "/API/V2/JourneyProgress/"+first.ID+"/?journey="+first.Journey, credA, "", nil)
	f.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journeyprogress/"+first.ID+"?journey="+f.sequential.ID, credA, "", nil)
	f.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journeyprogress/"+first.ID, credB, "", nil)
	f.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journeyprogress/65a0000000000000000000ff", credA, "", nil)
	f.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journeyprogress/nope", credA, "", nil)

	// select and project apply to progress documents too.
	var projected map[string]json.RawMessage
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress/"+first.ID+"?select=owner,journey", credA, "", &projected)
	if len(projected) != 3 || projected["owner"] == nil || projected["journey"] == nil {
		t.Errorf("select on a progress document: %v", projected)
	}
	var list []map[string]json.RawMessage
	f.expect(http.StatusBadRequest, http.MethodGet, "/api/v2/journeyprogress?limit=2&project="+url.QueryEscape(`{"who": "$owner.ident", "completions": 0}`), credA, "", nil)
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=2&project="+url.QueryEscape(`{"who": "$owner.ident"}`), credA, "", &list)
	if len(list) != 2 || len(list[0]) != 2 || list[0]["who"] == nil {
		t.Errorf("project rename on progress: %v", list)
	}
}

// identMatches reports whether d is the progress of the fixture's actor a.
func identMatches(f *progressFixture, a int, d progressDoc) bool {
	for k, v := range f.identQuery(a) {
		got := d.Owner.Ident[k]
		if acc, ok := d.Owner.Ident["account"].(map[string]any); ok {
			got = acc[strings.TrimPrefix(k, "account.")]
		}
		if got != v[0] {
			return false
		}
	}
	return true
}

// sameSet reports whether a and b hold the same strings, once each.
func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b) && len(slices.Compact(a)) == len(a)
}

// TestProgressFilterPersona: on a persona-tracked journey the persona id
// is an ObjectId in the filter view, so the hex string the API serves, its
// $oid form and owner.ident.display all select that persona's progress.
func TestProgressFilterPersona(t *testing.T) {
	h := newHarness(t)
	b, _ := json.Marshal(map[string]any{"description": "persona", "trackBy": "persona", "waypoints": []any{
		map[string]any{"conditions": `{"statement.verb.id": "` + xapitest.VerbLaunched + `"}`}}})
	j := h.create(credA, string(b))
	g := xapitest.New(5, xapitest.Options{Organisation: orgA, Store: storeA, Actors: 6})
	seedOwners(t, h, j.ID, g, 6)
	act := g.Actor(3)
	var docs []progressDoc
	q := url.QueryEscape
	for _, filter := range []string{
		`{"owner.ident.persona": "` + act.Person.Hex() + `"}`,
		`{"owner.ident.persona": {"$oid": "` + act.Person.Hex() + `"}}`,
		`{"owner.ident.persona": {"$in": ["` + act.Person.Hex() + `"]}, "owner.trackBy": "persona"}`,
	} {
		h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?filter="+q(filter), credA, "", &docs)
		if len(docs) != 1 || docs[0].Owner.Ident["persona"] != act.Person.Hex() {
			t.Errorf("%s: %+v", filter, docs)
		}
	}
	// Display names are not unique: every persona showing it.
	sameName := 0
	for i := range 6 {
		if g.Actor(i).Name == act.Name {
			sameName++
		}
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?filter="+q(`{"owner.ident.display": "`+act.Name+`", "journey": "`+j.ID+`"}`), credA, "", &docs)
	if len(docs) != sameName {
		t.Errorf("display %q: %d documents, want %d", act.Name, len(docs), sameName)
	}
	h.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?filter="+q(`{"owner.ident.mbox": "`+act.Mbox+`"}`), credA, "", &docs)
	if len(docs) != 0 {
		t.Errorf("an actor IFI selects persona progress: %+v", docs)
	}
}
