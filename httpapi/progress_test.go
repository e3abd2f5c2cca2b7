package httpapi

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/outbox"
)

// recordingReplayer is a DeliveryControl that records replayed ids.
type recordingReplayer struct {
	mu  sync.Mutex
	ids []string
}

func (r *recordingReplayer) Replay(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

// progressFixture is a harness whose state store holds the progress the
// real engine computed for generated traffic, with the expected outcome
// computed independently.
type progressFixture struct {
	*harness
	replayer *recordingReplayer
	gen      *xapitest.Generator
	// unordered is a journey needing 2 comments and 1 completion, with a
	// callback; sequential needs a launch then a completion.
	unordered, sequential apiJourney
	// comments and completions count, per actor index, the statements that
	// counted toward the unordered journey; done marks completion.
	comments, completions map[int]int
	done                  map[int]bool
	// seqOwners are the actors with progress in the sequential journey.
	seqOwners map[int]bool
}

const actors = 16

func newProgressFixture(t *testing.T) *progressFixture {
	t.Helper()
	f := &progressFixture{replayer: &recordingReplayer{}}
	f.harness = newHarness(t, func(c *Config) { c.Deliveries = f.replayer })
	f.unordered = f.create(credA, `{"description": "comment twice and complete", "isPublic": true, "waypoints": [
		{"description": "comment", "conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCommented+`\"}", "count": 2},
		{"description": "complete", "conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCompleted+`\"}"}],
		"outcomes": [{"type": "callback", "callback": "http://example.org/hook"}]}`)
	f.sequential = f.create(credA, `{"description": "launch then complete", "isSequential": true, "waypoints": [
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbCompleted+`\"}", "order": 2},
		{"conditions": "{\"statement.verb.id\": \"`+xapitest.VerbLaunched+`\"}", "order": 1}]}`)

	e := processor.NewEngine(f.store, processor.Options{})
	for _, j := range []apiJourney{f.unordered, f.sequential} {
		e.SetJourney(compileStored(t, f.db, j.ID), 0)
	}

	f.gen = xapitest.New(3, xapitest.Options{Organisation: orgA, Store: storeA, Actors: actors})
	f.comments, f.completions, f.done, f.seqOwners = map[int]int{}, map[int]int{}, map[int]bool{}, map[int]bool{}
	rng := rand.New(rand.NewPCG(4, 5))
	verbs := []string{xapitest.VerbCommented, xapitest.VerbCompleted, xapitest.VerbLaunched, xapitest.VerbAttempted}
	for range 400 {
		a, verb := rng.IntN(actors), verbs[rng.IntN(len(verbs))]
		if _, err := e.Statement(f.gen.Make(xapitest.Spec{Actor: f.gen.Actor(a), Verb: verb})); err != nil {
			t.Fatal(err)
		}
		if !f.done[a] {
			switch verb {
			case xapitest.VerbCommented:
				f.comments[a] = min(f.comments[a]+1, 2)
			case xapitest.VerbCompleted:
				f.completions[a] = 1
			}
			f.done[a] = f.comments[a] == 2 && f.completions[a] == 1
		}
		if verb == xapitest.VerbLaunched {
			f.seqOwners[a] = true // the first waypoint in evaluation order
		}
	}
	if err := e.Commit(nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// owners returns the actors with progress in the unordered journey.
func (f *progressFixture) owners() []int {
	var out []int
	for a := range actors {
		if f.comments[a] > 0 || f.completions[a] > 0 {
			out = append(out, a)
		}
	}
	return out
}

// identQuery is the owner parameters selecting actor a.
func (f *progressFixture) identQuery(a int) url.Values {
	act := f.gen.Actor(a)
	switch {
	case act.Mbox != "":
		return url.Values{"mbox": {act.Mbox}}
	case act.MboxSHA1Sum != "":
		return url.Values{"mbox_sha1sum": {act.MboxSHA1Sum}}
	case act.OpenID != "":
		return url.Values{"openid": {act.OpenID}}
	}
	return url.Values{"account.homePage": {act.Account.HomePage}, "account.name": {act.Account.Name}}
}

// progressDoc is a progress document decoded for assertions.
type progressDoc struct {
	ID      string `json:"_id"`
	Journey string `json:"journey"`
	Owner   struct {
		TrackBy string         `json:"trackBy"`
		Ident   map[string]any `json:"ident"`
	} `json:"owner"`
	Completions []struct {
		Waypoints map[string]struct {
			Statements  []struct{ Statement, Timestamp string }
			IsCompleted bool `json:"isCompleted"`
		} `json:"waypoints"`
		IsCompleted bool `json:"isCompleted"`
	} `json:"completions"`
}

func TestProgressDocuments(t *testing.T) {
	f := newProgressFixture(t)
	j := f.unordered
	var docs []progressDoc
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=1000&journey="+j.ID, credA, "", &docs)
	if len(docs) != len(f.owners()) || len(docs) == 0 {
		t.Fatalf("%d progress documents, want %d", len(docs), len(f.owners()))
	}
	for _, a := range f.owners() {
		var one []progressDoc
		q := f.identQuery(a)
		q.Set("journey", j.ID)
		f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?"+q.Encode(), credA, "", &one)
		if len(one) != 1 {
			t.Fatalf("actor %d (%v): %d documents", a, q, len(one))
		}
		d := one[0]
		for k, v := range q {
			if k == "journey" {
				continue
			}
			got := d.Owner.Ident[k]
			if acc, ok := d.Owner.Ident["account"].(map[string]any); ok {
				got = acc[k[len("account."):]]
			}
			if got != v[0] {
				t.Errorf("actor %d: ident %v does not hold %s=%s", a, d.Owner.Ident, k, v[0])
			}
		}
		if d.Journey != j.ID || d.Owner.TrackBy != "actor" || len(d.Completions) != 1 {
			t.Fatalf("actor %d: %+v", a, d)
		}
		c := d.Completions[0]
		comment, complete := c.Waypoints[j.Waypoints[0].ID], c.Waypoints[j.Waypoints[1].ID]
		if c.IsCompleted != f.done[a] || len(comment.Statements) != f.comments[a] || len(complete.Statements) != f.completions[a] ||
			comment.IsCompleted != (f.comments[a] == 2) || complete.IsCompleted != (f.completions[a] == 1) {
			t.Errorf("actor %d: attempt %+v, want comments %d completions %d done %v", a, c, f.comments[a], f.completions[a], f.done[a])
		}
	}

	// Selection errors and empty selections.
	for _, tc := range []struct{ q, field string }{
		{"journey=xyz", "journey"}, {"mbox=a&openid=b", "mbox, openid"}, {"account.name=only", "account.name"},
		{"persona=nope", "persona"}, {"persona=" + orgA.Hex() + "&mbox=x", "persona"}, {"limit=0", "limit"},
	} {
		var e errorResponse
		f.expect(http.StatusBadRequest, http.MethodGet, "/api/v2/journeyprogress?"+tc.q, credA, "", &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != tc.field {
			t.Errorf("%s: errors %+v, want one naming %s", tc.q, e.Errors, tc.field)
		}
	}
	var none []progressDoc
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?journey="+j.ID+"&persona="+orgA.Hex(), credA, "", &none)
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress", credB, "", &none)
	if len(none) != 0 {
		t.Errorf("organisation B sees %d progress documents", len(none))
	}
}

// TestProgressConnectionWalk: paging through every journey's progress,
// forwards and backwards, yields the v2 list.
func TestProgressConnectionWalk(t *testing.T) {
	f := newProgressFixture(t)
	var all []progressDoc
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journeyprogress?limit=1000", credA, "", &all)
	if want := len(f.owners()) + len(f.seqOwners); len(all) != want {
		t.Fatalf("%d documents, want %d", len(all), want)
	}
	var want []string
	for _, d := range all {
		want = append(want, d.ID)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(want)))) != len(want) {
		t.Fatal("duplicate progress ids")
	}
	type conn struct {
		Edges []struct {
			Cursor string
			Node   progressDoc
		}
		PageInfo struct {
			StartCursor, EndCursor *string
			HasNextPage            bool
			HasPreviousPage        bool
		}
	}
	var fwd []string
	after := ""
	for i := 0; ; i++ {
		var c conn
		f.expect(http.StatusOK, http.MethodGet, "/api/connection/journeyProgress?first=5&after="+url.QueryEscape(after), credA, "", &c)
		if c.PageInfo.HasPreviousPage != (i > 0) {
			t.Fatalf("page %d: hasPreviousPage %v", i, c.PageInfo.HasPreviousPage)
		}
		for _, e := range c.Edges {
			fwd = append(fwd, e.Node.ID)
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		after = *c.PageInfo.EndCursor
	}
	if !slices.Equal(fwd, want) {
		t.Errorf("forward walk differs from the list:\n%v\n%v", fwd, want)
	}
	var back []string
	before := ""
	for i := 0; ; i++ {
		var c conn
		f.expect(http.StatusOK, http.MethodGet, "/api/connection/journeyProgress?last=4&before="+url.QueryEscape(before), credA, "", &c)
		if c.PageInfo.HasNextPage != (i > 0) {
			t.Fatalf("page %d: hasNextPage %v", i, c.PageInfo.HasNextPage)
		}
		var chunk []string
		for _, e := range c.Edges {
			chunk = append(chunk, e.Node.ID)
		}
		back = append(chunk, back...)
		if !c.PageInfo.HasPreviousPage {
			break
		}
		before = *c.PageInfo.StartCursor
	}
	if !slices.Equal(back, want) {
		t.Errorf("backward walk differs from the list:\n%v\n%v", back, want)
	}
	// A journey cursor is not a progress cursor.
	var jc struct{ PageInfo struct{ EndCursor string } }
	f.expect(http.StatusOK, http.MethodGet, "/api/connection/journey", credA, "", &jc)
	f.expect(http.StatusBadRequest, http.MethodGet, "/api/connection/journeyProgress?after="+url.QueryEscape(jc.PageInfo.EndCursor), credA, "", nil)
}

func TestFunnel(t *testing.T) {
	f := newProgressFixture(t)
	var got struct {
		Journey           string
		Owners            int
		InProgress        int
		Completed         int
		CompletedAttempts int
		Waypoints         []struct {
			Waypoint    string
			Description string
			Completed   int
		}
	}
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+f.unordered.ID+"/funnel", credA, "", &got)
	owners, done, comment, complete := len(f.owners()), 0, 0, 0
	for _, a := range f.owners() {
		if f.done[a] {
			done++
		}
		if f.comments[a] == 2 {
			comment++
		}
		complete += f.completions[a]
	}
	if got.Journey != f.unordered.ID || got.Owners != owners || got.Completed != done || got.InProgress != owners-done || got.CompletedAttempts != done {
		t.Errorf("funnel %+v, want owners %d completed %d", got, owners, done)
	}
	if len(got.Waypoints) != 2 || got.Waypoints[0].Completed != comment || got.Waypoints[1].Completed != complete ||
		got.Waypoints[0].Waypoint != f.unordered.Waypoints[0].ID || got.Waypoints[0].Description != "comment" {
		t.Errorf("funnel waypoints %+v, want %d and %d", got.Waypoints, comment, complete)
	}
	// The sequential journey's waypoints come in evaluation order.
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+f.sequential.ID+"/funnel", credA, "", &got)
	if got.Waypoints[0].Waypoint != f.sequential.Waypoints[1].ID || got.Owners != len(f.seqOwners) {
		t.Errorf("sequential funnel %+v", got)
	}
}

func TestDeliveries(t *testing.T) {
	f := newProgressFixture(t)
	type delivery struct {
		ID      string
		Status  string
		Journey string
		Owner   struct{ Ident map[string]any }
		Attempt int
		URL     string
		DeadAt  *string
	}
	done := 0
	for _, d := range f.done {
		if d {
			done++
		}
	}
	var pending []delivery
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+f.unordered.ID+"/deliveries", credA, "", &pending)
	if len(pending) != done || done == 0 {
		t.Fatalf("%d deliveries, want one per completion (%d)", len(pending), done)
	}
	for _, d := range pending {
		if d.Status != statusPending || d.Journey != f.unordered.ID || d.URL != "http://example.org/hook" || d.Attempt != 1 || d.Owner.Ident["objectType"] != "Agent" {
			t.Errorf("delivery %+v", d)
		}
	}

	// Dead-letter one, as the dispatcher would.
	v, ok, err := f.store.Dead([]byte(pending[0].ID))
	if err != nil || ok {
		t.Fatalf("dead letter before: %v %v", ok, err)
	}
	var rec *outbox.Delivery
	err = f.store.ScanOutbox(func(id, value []byte) error {
		if string(id) == pending[0].ID {
			rec, err = outbox.Decode(value)
			return err
		}
		return nil
	})
	if err != nil || rec == nil {
		t.Fatalf("outbox record: %v", err)
	}
	now := time.Now()
	rec.DeadAt = &now
	if v, err = rec.Encode(); err != nil {
		t.Fatal(err)
	}
	b := f.store.NewBatch()
	b.DeleteOutbox([]byte(rec.ID))
	b.PutDead([]byte(rec.ID), v)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}

	var dead, all []delivery
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/deliveries?status=dead", credA, "", &dead)
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/deliveries?limit=1000", credA, "", &all)
	if len(dead) != 1 || dead[0].ID != rec.ID || dead[0].DeadAt == nil || len(all) != done {
		t.Errorf("dead %+v, all %d", dead, len(all))
	}
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/journey/"+f.unordered.ID+"/deliveries?status=pending&skip=1&limit=2", credA, "", &all)
	if len(all) != min(2, done-2) {
		t.Errorf("paged pending deliveries: %d", len(all))
	}
	f.expect(http.StatusBadRequest, http.MethodGet, "/api/v2/deliveries?status=sent", credA, "", nil)

	// Replay: only dead letters of the principal's organisation.
	f.expect(http.StatusAccepted, http.MethodPost, "/api/v2/deliveries/"+rec.ID+"/replay", credA, "", nil)
	f.expect(http.StatusNotFound, http.MethodPost, "/api/v2/deliveries/"+pending[1].ID+"/replay", credA, "", nil)
	f.expect(http.StatusNotFound, http.MethodPost, "/api/v2/deliveries/"+rec.ID+"/replay", credB, "", nil)
	f.expect(http.StatusForbidden, http.MethodPost, "/api/v2/deliveries/"+rec.ID+"/replay", credReader, "", nil)
	if !slices.Equal(f.replayer.ids, []string{rec.ID}) {
		t.Errorf("replayed %v", f.replayer.ids)
	}

	// Other organisations and restricted principals see nothing of them.
	var none []delivery
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/deliveries", credB, "", &none)
	if len(none) != 0 {
		t.Errorf("organisation B sees %d deliveries", len(none))
	}
	f.expect(http.StatusOK, http.MethodPatch, "/api/v2/journey/"+f.unordered.ID, credA, `{"isPublic": false}`, nil)
	f.expect(http.StatusOK, http.MethodGet, "/api/v2/deliveries", credViewer, "", &none)
	if len(none) != 0 {
		t.Errorf("a viewer sees %d deliveries of a private journey", len(none))
	}
	f.expect(http.StatusNotFound, http.MethodGet, "/api/v2/journey/"+f.unordered.ID+"/deliveries", credViewer, "", nil)
}
