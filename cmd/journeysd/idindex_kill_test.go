package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/statementlog"
)

// sentStatement is one statement a client of TestIdIndexAcrossKill sent:
// its content, whether its batch was acknowledged, and the voiding
// statement that targets it (nil when none does).
type sentStatement struct {
	doc     map[string]any
	acked   bool
	voiding bool
	voided  *sentStatement // the voiding statement that targets this one
}

// id returns the statement's id.
func (s *sentStatement) id() string { return s.doc["id"].(string) }

// voidingOf builds a voiding statement of target.
func voidingOf(id, target string) map[string]any {
	return map[string]any{
		"id":     id,
		"actor":  map[string]any{"mbox": "mailto:admin@example.com"},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided"},
		"object": map[string]any{"objectType": "StatementRef", "id": target},
	}
}

// TestIdIndexAcrossKill is the id index's crash property, on the real
// daemon: clients post batches of statements concurrently (some with a
// voiding statement of an acknowledged statement, some with a voiding
// statement of a statement not posted yet, a pending void), the daemon is
// SIGKILLed at random moments, also right after a restart, and restarted.
// Afterwards every acknowledged statement is found by id (GET
// ?statementId=, or ?voidedStatementId= when an acknowledged voiding
// statement targets it); a repost of the same content succeeds; an altered
// repost is a 409; a pending void acknowledged before the kills voids its
// target when it arrives; and the log holds each statement id once, every
// acknowledged one exactly once.
func TestIdIndexAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon as a subprocess")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 10))
	dir := filepath.Join(t.TempDir(), "live")

	var (
		mu      sync.Mutex
		batches [][]*sentStatement
		targets []*sentStatement // acknowledged, not voiding, not targeted yet
		pending []*sentStatement // targets of pending voids, posted at the end
	)
	const rounds = 4
	for round := range rounds {
		d := startProc(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range 4 {
			cr := rand.New(rand.NewPCG(seed, uint64(round*16+c)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					prefix := fmt.Sprintf("%02x%02x%04x", round, c, n)
					var batch []*sentStatement
					for i := range 1 + cr.IntN(8) {
						id := fmt.Sprintf("%s-0000-4000-8000-%012x", prefix, i)
						doc := statement(id, fmt.Sprintf("mailto:learner%02d@example.com", cr.IntN(20)), verbLaunched, "http://example.com/course/1", typeCourse, time.Now())
						batch = append(batch, &sentStatement{doc: doc})
					}
					mu.Lock()
					switch cr.IntN(4) {
					case 0: // void an acknowledged statement
						if len(targets) > 0 {
							k := cr.IntN(len(targets))
							target := targets[k]
							targets = append(targets[:k], targets[k+1:]...)
							v := &sentStatement{doc: voidingOf(prefix+"-0000-4000-9000-000000000000", target.id()), voiding: true}
							target.voided = v
							batch = append(batch, v)
						}
					case 1: // void a statement not posted yet
						tid := prefix + "-0000-4000-a000-000000000000"
						target := &sentStatement{doc: statement(tid, "mailto:late@example.com", verbLaunched, "http://example.com/course/1", typeCourse, time.Now())}
						v := &sentStatement{doc: voidingOf(prefix+"-0000-4000-9000-000000000000", tid), voiding: true}
						target.voided = v
						pending = append(pending, target)
						batch = append(batch, v)
					}
					batches = append(batches, batch)
					mu.Unlock()
					docs := make([]map[string]any, len(batch))
					for i, s := range batch {
						docs[i] = s.doc
					}
					code, _ := d.do("POST", "/data/xAPI/statements", docs, nil)
					if code == http.StatusOK {
						mu.Lock()
						for _, s := range batch {
							s.acked = true
							if !s.voiding {
								targets = append(targets, s)
							}
						}
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(200+r.IntN(800)) * time.Millisecond)
		d.kill()
		cancel()
		wg.Wait()
		// A kill at a random moment of the next open, while the daemon
		// may be catching up.
		d = startProc(t, dir)
		time.Sleep(time.Duration(r.IntN(40)) * time.Millisecond)
		d.kill()
	}

	d := startProc(t, dir)
	defer func() {
		if d != nil {
			d.stop()
		}
	}()
	get := func(param, id string) (map[string]any, int) {
		var out map[string]any
		code, err := d.do("GET", "/data/xAPI/statements?"+param+"="+id, nil, &out)
		if err != nil && code != http.StatusNotFound {
			t.Fatalf("GET %s=%s: %v", param, id, err)
		}
		return out, code
	}
	// found checks that s is found by id, voided or not as its voiding
	// statement's acknowledgement says.
	found := func(s *sentStatement) {
		t.Helper()
		plain, pcode := get("statementId", s.id())
		voided, vcode := get("voidedStatementId", s.id())
		switch {
		case pcode == http.StatusOK && vcode == http.StatusOK:
			t.Errorf("%s is found both voided and not", s.id())
		case pcode == http.StatusOK:
			if plain["id"] != s.id() {
				t.Errorf("GET statementId=%s returned %v", s.id(), plain["id"])
			}
			if s.voided != nil && s.voided.acked {
				t.Errorf("%s is not voided, but its voiding statement was acknowledged", s.id())
			}
		case vcode == http.StatusOK:
			if voided["id"] != s.id() {
				t.Errorf("GET voidedStatementId=%s returned %v", s.id(), voided["id"])
			}
			if s.voiding || s.voided == nil {
				t.Errorf("%s is voided, but no voiding statement of it was sent", s.id())
			}
		default:
			t.Errorf("acknowledged statement %s is not found (%d, %d)", s.id(), pcode, vcode)
		}
	}
	acked, ackedBatches := 0, 0
	for _, b := range batches {
		if b[0].acked {
			ackedBatches++
		}
		for _, s := range b {
			if s.acked {
				acked++
				found(s)
			}
		}
	}
	t.Logf("%d batches sent, %d acknowledged (%d statements), %d pending voids", len(batches), ackedBatches, acked, len(pending))
	if ackedBatches == 0 {
		t.Fatal("no batch was acknowledged: nothing tested")
	}

	// Reposts: the same content succeeds (an acknowledged batch stores
	// nothing; another is stored whole or had been), other content with a
	// stored id is a conflict.
	for _, k := range r.Perm(len(batches))[:min(60, len(batches))] {
		b := batches[k]
		docs := make([]map[string]any, len(b))
		for i, s := range b {
			docs[i] = s.doc
		}
		if code, err := d.do("POST", "/data/xAPI/statements", docs, nil); code != http.StatusOK {
			t.Errorf("repost of batch %s (acknowledged %v): %d %v", b[0].id(), b[0].acked, code, err)
		}
		for _, s := range b {
			s.acked = true // stored now
		}
		s := b[0]
		altered := statement(s.id(), "mailto:someone-else@example.com", verbProgressed, "http://example.com/course/2", typeCourse, time.Now())
		if code, _ := d.do("POST", "/data/xAPI/statements", []any{altered}, nil); code != http.StatusConflict {
			t.Errorf("altered repost of %s: %d, want 409", s.id(), code)
		}
	}

	// The targets of pending voids arrive: those whose voiding statement
	// was acknowledged (before the kills) are stored voided.
	for i := 0; i < len(pending); i += 50 {
		var docs []map[string]any
		for _, s := range pending[i:min(i+50, len(pending))] {
			docs = append(docs, s.doc)
		}
		d.mustDo("POST", "/data/xAPI/statements", docs, nil)
	}
	pendingVoided := 0
	for _, s := range pending {
		s.acked = true
		found(s)
		if s.voided.acked {
			pendingVoided++
		}
	}
	t.Logf("%d pending voids acknowledged", pendingVoided)

	// The log holds every statement id at most once, every acknowledged
	// one exactly once.
	d.stop()
	d = nil
	sl, err := statementlog.Open(filepath.Join(dir, statementlog.Dir), statementlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	org, err := primitive.ObjectIDFromHex(testOrg)
	if err != nil {
		t.Fatal(err)
	}
	times := map[string]int{}
	err = sl.Scanner().Scan(context.Background(), lrs.ScanQuery{Organisation: org}, func(doc bson.Raw) error {
		id, ok := doc.Lookup("statement", "id").StringValueOK()
		if !ok {
			return fmt.Errorf("a stored statement without statement.id: %s", doc)
		}
		times[id]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range times {
		if n != 1 {
			t.Errorf("statement %s is stored %d times", id, n)
		}
	}
	for _, b := range append(batches, pending) {
		for _, s := range b {
			if s.acked && times[s.id()] != 1 {
				t.Errorf("acknowledged statement %s is stored %d times", s.id(), times[s.id()])
			}
		}
	}
}
