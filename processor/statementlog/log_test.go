package statementlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/source"
)

var (
	org   = primitive.ObjectID{0xa1}
	store = primitive.ObjectID{0xb1}
)

func openLog(t testing.TB, dir string) *Log {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// stmt returns a statement body with id (empty: none) and actor n.
func stmt(id string, n int) string {
	s := fmt.Sprintf(`{"actor":{"mbox":"mailto:a%d@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.org/act/%d"}`, n, n)
	if id != "" {
		s += `,"id":"` + id + `"`
	}
	return s + "}"
}

func uuid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// scanAll returns every statement document of org in scan order.
func scanAll(t testing.TB, l *Log) []bson.Raw {
	t.Helper()
	var out []bson.Raw
	err := l.Scanner().Scan(context.Background(), lrs.ScanQuery{Organisation: org}, func(doc bson.Raw) error {
		out = append(out, bytes.Clone(doc)) // valid only until fn returns
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func position(doc bson.Raw) lrs.Position {
	stored, _ := doc.Lookup("stored").DateTimeOK()
	id, _ := doc.Lookup("_id").ObjectIDOK()
	return lrs.Position{Stored: stored, ID: id}
}

// TestOrderByConstruction posts concurrently and checks that log order,
// (stored, _id) order and the stream's order are one order, with stored
// and the statement's stored string equal.
func TestOrderByConstruction(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				var parts []string
				for k := range 1 + (c*7+i)%30 {
					parts = append(parts, stmt("", c*10000+i*100+k))
				}
				if _, err := l.Ingest(ctx, org, store, []byte("["+strings.Join(parts, ",")+"]")); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	docs := scanAll(t, l)
	if int64(len(docs)) != l.nstored.Load() || len(docs) < 100 {
		t.Fatalf("scanned %d, count %d", len(docs), l.nstored.Load())
	}
	r, err := l.Open(ctx, Token(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range docs {
		if i > 0 && !position(docs[i-1]).Less(position(doc)) {
			t.Fatalf("statement %d is not after statement %d in (stored, _id) order", i, i-1)
		}
		stored, _ := doc.Lookup("stored").DateTimeOK()
		if s := doc.Lookup("statement", "stored").StringValue(); s != time.UnixMilli(stored).UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("statement.stored %s differs from stored %d", s, stored)
		}
		if s := doc.Lookup("statement", "timestamp").StringValue(); s != doc.Lookup("statement", "stored").StringValue() {
			t.Fatalf("a statement without timestamp has timestamp %s, stored %s", s, doc.Lookup("statement", "stored").StringValue())
		}
		ev, ok, err := r.TryNext(ctx)
		if err != nil || !ok || ev.Kind != source.KindStatementInsert || !bytes.Equal(ev.Doc, doc) {
			t.Fatalf("stream event %d: %v %v %v, not the scanned statement", i, ok, err, ev.Kind)
		}
	}
	if _, ok, _ := r.TryNext(ctx); ok {
		t.Fatal("the stream has more events than the scan")
	}
}

func TestIdempotentRepost(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	body := []byte("[" + stmt(uuid(1), 1) + "," + stmt(uuid(2), 2) + "]")
	if _, err := l.Ingest(ctx, org, store, body); err != nil {
		t.Fatal(err)
	}
	before := l.Last()
	ids, err := l.Ingest(ctx, org, store, body)
	if err != nil || len(ids) != 2 || ids[0] != uuid(1) {
		t.Fatalf("repost: %v %v", ids, err)
	}
	if l.Last() != before {
		t.Fatalf("a repost appended %d entries", l.Last()-before)
	}
	// One known and one new: the new one is stored.
	if _, err := l.Ingest(ctx, org, store, []byte("["+stmt(uuid(2), 2)+","+stmt(uuid(3), 3)+"]")); err != nil {
		t.Fatal(err)
	}
	if got := len(scanAll(t, l)); got != 3 {
		t.Fatalf("%d statements stored, want 3", got)
	}
	// Another store is another id space.
	if _, err := l.Ingest(ctx, org, primitive.ObjectID{0xb2}, body); err != nil {
		t.Fatal(err)
	}
}

func TestConflictingRepost(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	if _, err := l.Ingest(ctx, org, store, []byte(stmt(uuid(1), 1))); err != nil {
		t.Fatal(err)
	}
	before := l.Last()
	_, err := l.Ingest(ctx, org, store, []byte("["+stmt(uuid(5), 5)+","+stmt(uuid(1), 9)+"]"))
	var ce *lrs.ConflictError
	if !errors.As(err, &ce) || len(ce.IDs) != 1 || ce.IDs[0] != uuid(1) {
		t.Fatalf("got %v, want a conflict on %s", err, uuid(1))
	}
	if l.Last() != before {
		t.Fatal("a refused request stored something")
	}
	if _, _, err := l.Statement(ctx, store, uuid(5)); !errors.Is(err, lrs.ErrNotFound) {
		t.Fatalf("the other statement of the refused request: %v", err)
	}
	// Conflicts inside one group commit: two concurrent posts of one id
	// with different content, one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.Ingest(ctx, org, store, []byte(stmt(uuid(7), 70+i)))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent conflicting posts: %v, %v", errs[0], errs[1])
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Ingest(ctx, org, store, []byte("["+stmt(uuid(1), 1)+","+stmt("", 2)+"]")); err != nil {
		t.Fatal(err)
	}
	last, stored := l.Last(), l.stored.Load()
	l.Close()
	l = openLog(t, dir)
	if l.Last() != last || l.stored.Load() != stored || l.nstored.Load() != 2 {
		t.Fatalf("after reopening: last %d stored %d count %d, want %d %d 2", l.Last(), l.stored.Load(), l.nstored.Load(), last, stored)
	}
	if _, err := l.Ingest(ctx, org, store, []byte(stmt(uuid(1), 99))); err == nil {
		t.Fatal("the id index was lost across a restart")
	}
	docs := scanAll(t, l)
	if len(docs) != 2 {
		t.Fatalf("%d statements after restart", len(docs))
	}
}

func TestReaderTokens(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	lungoToken, _ := bson.Marshal(bson.D{{Key: "_data", Value: "x"}})
	for _, tok := range []bson.Raw{Token(5, 0), lungoToken} {
		if _, err := l.Open(ctx, tok); !errors.Is(err, source.ErrHistoryLost) {
			t.Errorf("token %s: %v, want history lost", tok, err)
		}
	}
	r, err := l.Open(ctx, nil) // at the end
	if err != nil {
		t.Fatal(err)
	}
	// Opened at the end: the position is announced once.
	if ev, ok, err := r.TryNext(ctx); err != nil || !ok || ev.Kind != source.KindCheckpoint {
		t.Fatalf("first event at the end: %v %v %v, want a checkpoint", ev.Kind, ok, err)
	}
	if _, ok, _ := r.TryNext(ctx); ok {
		t.Fatal("a second event at the end")
	}
	done := make(chan source.Event)
	go func() {
		ev, err := r.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- ev
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := l.Ingest(ctx, org, store, []byte(stmt("", 1))); err != nil {
		t.Fatal(err)
	}
	var done2 source.Event
	select {
	case ev := <-done:
		done2 = ev
		if seq, _ := ev.Token.Lookup("seq").Int64OK(); seq != 1 {
			t.Fatalf("token %s", ev.Token)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake up on a write")
	}
	if _, err := l.Open(ctx, Token(1, 12345)); !errors.Is(err, source.ErrHistoryLost) {
		t.Errorf("a token of another entry at the same position: %v, want history lost", err)
	}
	r2, err := l.Open(ctx, done2.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r2.TryNext(ctx); ok {
		t.Fatal("a reader resumed at the end returned an event")
	}
}

func TestJourneyStore(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	id := primitive.NewObjectID()
	doc := bson.D{{Key: "_id", Value: id}, {Key: "organisation", Value: org}, {Key: "name", Value: "j"}, {Key: "isActive", Value: true},
		{Key: "recalculateStatus", Value: bson.D{{Key: "inProgress", Value: false}}}}
	if err := l.InsertJourney(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := l.InsertJourney(ctx, doc); !errors.Is(err, lrs.ErrDuplicate) {
		t.Fatalf("second insert: %v", err)
	}
	if _, err := l.Journey(ctx, primitive.ObjectID{0xee}, id); !errors.Is(err, lrs.ErrNotFound) {
		t.Fatalf("another organisation reads it: %v", err)
	}
	ok, err := l.UpdateJourney(ctx, org, id, bson.D{{Key: "isActive", Value: bson.D{{Key: "$ne", Value: false}}}},
		bson.D{{Key: "recalculateStatus.inProgress", Value: true}, {Key: "name", Value: "k"}})
	if err != nil || !ok {
		t.Fatalf("update: %v %v", ok, err)
	}
	if ok, _ := l.UpdateJourney(ctx, org, id, bson.D{{Key: "isActive", Value: false}}, bson.D{{Key: "name", Value: "x"}}); ok {
		t.Fatal("an update whose condition fails matched")
	}
	if err := l.SetRecalculateStatus(ctx, id, journey.RecalculateStatus{TotalCount: 7}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Journey(ctx, org, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lookup("name").StringValue() != "k" || got.Lookup("recalculateStatus", "totalCount").AsInt64() != 7 {
		t.Fatalf("journey after updates: %s", got)
	}
	if ok, err := l.DeleteJourney(ctx, org, id); err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	// The stream: insert, update (not the status), delete.
	r, _ := l.Open(ctx, Token(0, 0))
	var kinds []source.Kind
	for {
		ev, ok, err := r.TryNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if ev.ID != id {
			t.Fatalf("event of %s", ev.ID.Hex())
		}
		kinds = append(kinds, ev.Kind)
	}
	want := []source.Kind{source.KindJourneyUpsert, source.KindJourneyUpsert, source.KindJourneyDelete}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
}

func TestScanAfterAndSources(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	other := primitive.ObjectID{0xb2}
	for i := range 10 {
		s := store
		if i%2 == 1 {
			s = other
		}
		if _, err := l.Ingest(ctx, org, s, []byte(stmt("", i))); err != nil {
			t.Fatal(err)
		}
	}
	all := scanAll(t, l)
	var got []bson.Raw
	err := l.Scanner().Scan(ctx, lrs.ScanQuery{Organisation: org, Sources: []primitive.ObjectID{other}, After: position(all[4])}, func(doc bson.Raw) error {
		got = append(got, bytes.Clone(doc))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !bytes.Equal(got[0], all[5]) || !bytes.Equal(got[1], all[7]) || !bytes.Equal(got[2], all[9]) {
		t.Fatalf("scan after #4 in the other store: %d docs", len(got))
	}
	stop := errors.New("stop")
	n := 0
	err = l.Scanner().Scan(ctx, lrs.ScanQuery{Organisation: org}, func(bson.Raw) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("fn's error: %v after %d", err, n)
	}
}

func TestRecent(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	other := primitive.ObjectID{0xa2}
	for i := range 6 {
		o := org
		if i%3 == 2 {
			o = other
		}
		if _, err := l.Ingest(ctx, o, store, []byte(stmt(uuid(i), i))); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err := l.Recent(ctx, org, 3, func(doc bson.Raw) error {
		got = append(got, doc.Lookup("statement", "id").StringValue())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{uuid(4), uuid(3), uuid(1)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recent %v, want %v (newest first, organisation only)", got, want)
	}
}

// Ingest reuses the memory of a body's BSON and prepared documents for the
// next body once the documents are in the write batch: under concurrent
// posts of bodies of every size — with reposts (stored nothing) and
// conflicts (refused) among them — every statement stored is the one
// posted under its id, and the ids each post is answered with stay its
// own.
func TestIngestReusedBuffersKeepDocuments(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				var parts []string
				for k := range 1 + (c*13+i*7)%40 {
					n := c*100_000 + i*100 + k
					parts = append(parts, stmt(uuid(n), n))
				}
				body := []byte("[" + strings.Join(parts, ",") + "]")
				ids, err := l.Ingest(ctx, org, store, body)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := l.Ingest(ctx, org, store, body); err != nil { // a repost: nothing stored
					t.Error(err)
					return
				}
				n := c*100_000 + i*100 // its id with other content: a conflict
				var conflict *lrs.ConflictError
				if _, err := l.Ingest(ctx, org, store, []byte(stmt(uuid(n), n+1))); !errors.As(err, &conflict) || len(conflict.IDs) != 1 || conflict.IDs[0] != uuid(n) {
					t.Errorf("conflicting repost: %v", err)
					return
				}
				// The ids answered for the first post are still its own
				// after two more bodies went through the same memory.
				for k, id := range ids {
					if id != uuid(c*100_000+i*100+k) {
						t.Errorf("id %d of a post answered as %s", k, id)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	checked := 0
	for c := range 8 {
		for i := range 30 {
			for k := range 1 + (c*13+i*7)%40 {
				n := c*100_000 + i*100 + k
				doc, _, err := l.Statement(ctx, store, uuid(n))
				if err != nil {
					t.Fatalf("statement %d: %v", n, err)
				}
				mbox, _ := doc.Lookup("statement", "actor", "mbox").StringValueOK()
				obj, _ := doc.Lookup("statement", "object", "id").StringValueOK()
				if mbox != fmt.Sprintf("mailto:a%d@example.org", n) || obj != fmt.Sprintf("http://example.org/act/%d", n) {
					t.Fatalf("statement %s holds %s, %s", uuid(n), mbox, obj)
				}
				checked++
			}
		}
	}
	if int64(checked) != l.nstored.Load() {
		t.Fatalf("checked %d statements, the log holds %d", checked, l.nstored.Load())
	}
}

// SetRecalculateStatuses sets every listed journey's status in one write,
// skips a journey that does not exist, and adds no log entry.
func TestSetRecalculateStatuses(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	a, b := primitive.NewObjectID(), primitive.NewObjectID()
	for _, id := range []primitive.ObjectID{a, b} {
		if err := l.InsertJourney(ctx, bson.D{{Key: "_id", Value: id}, {Key: "organisation", Value: org}, {Key: "name", Value: id.Hex()}}); err != nil {
			t.Fatal(err)
		}
	}
	last := l.Last()
	err := l.SetRecalculateStatuses(ctx, map[primitive.ObjectID]journey.RecalculateStatus{
		a:                       {InProgress: true, TotalCount: 10, RemainingCount: 4},
		b:                       {TotalCount: 20},
		primitive.NewObjectID(): {TotalCount: 30}, // no such journey
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[primitive.ObjectID][3]int64{a: {1, 10, 4}, b: {0, 20, 0}} {
		got, err := l.Journey(ctx, org, id)
		if err != nil {
			t.Fatal(err)
		}
		in := int64(0)
		if got.Lookup("recalculateStatus", "inProgress").Boolean() {
			in = 1
		}
		if g := [3]int64{in, got.Lookup("recalculateStatus", "totalCount").AsInt64(), got.Lookup("recalculateStatus", "remainingCount").AsInt64()}; g != want || got.Lookup("name").StringValue() != id.Hex() {
			t.Errorf("journey %s: status %v name %s, want %v", id.Hex(), g, got.Lookup("name"), want)
		}
	}
	n := 0
	if err := l.Journeys(ctx, org, func(bson.Raw) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("journeys listed: %d (%v), want 2", n, err)
	}
	if l.Last() != last {
		t.Errorf("the status writes added log entries: last seq %d, was %d", l.Last(), last)
	}
}

// TestScanResumesAtPosition: a scan after a position the log stamped
// starts reading at that entry (seqOf), not at the log's start, and
// returns what filtering from the start returns.
func TestScanResumesAtPosition(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	for i := range 10 {
		if _, err := l.Ingest(ctx, org, store, []byte(stmt("", i))); err != nil {
			t.Fatal(err)
		}
	}
	all := scanAll(t, l)
	for i, doc := range all {
		pos := position(doc)
		if got, want := l.seqOf(pos), binary.BigEndian.Uint64(pos.ID[4:]); got != want || got == 0 {
			t.Fatalf("statement %d: seqOf %d, want its entry %d", i, got, want)
		}
		var rest []bson.Raw
		if err := l.Scanner().Scan(ctx, lrs.ScanQuery{Organisation: org, After: pos}, func(d bson.Raw) error {
			rest = append(rest, bytes.Clone(d))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(rest) != len(all)-i-1 || (len(rest) > 0 && !bytes.Equal(rest[0], all[i+1])) {
			t.Fatalf("after statement %d: %d statements", i, len(rest))
		}
	}
	forged := position(all[3])
	forged.ID[11] ^= 0xff
	if got := l.seqOf(forged); got != 0 {
		t.Errorf("seqOf a position the log did not stamp: %d, want 0", got)
	}
	if got := l.seqOf(lrs.Position{}); got != 0 {
		t.Errorf("seqOf the zero position: %d", got)
	}
}
