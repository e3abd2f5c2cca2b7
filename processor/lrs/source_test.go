package lrs

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/source"
)

// TestIngestReachesTheSource checks the embedded daemon's loop: what Ingest
// stores arrives, byte for byte, through a change stream on the LRS, and a
// journey written to the configured collection arrives as a journey.
func TestIngestReachesTheSource(t *testing.T) {
	ctx := testContext(t)
	l, err := Open(ctx, Config{Database: "lrs", Statements: "stmts", Journeys: "jrn"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	s, err := source.Open(ctx, source.Config{DB: l.DB, Statements: l.Statements, Journeys: l.Journeys}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)

	ids := ingest(t, l, primitive.NewObjectID(), primitive.NewObjectID(), "["+minimalStatement+","+fullStatement+"]")
	jid := primitive.NewObjectID()
	if _, err := l.DB.Collection(l.Journeys).InsertOne(ctx, bson.D{{Key: "_id", Value: jid}}); err != nil {
		t.Fatal(err)
	}
	docs := storedDocs(t, l)
	for i := range ids {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != source.KindStatementInsert || !bytes.Equal(ev.Doc, docs[i]) {
			t.Fatalf("event %d: %v, doc equal to stored: %v", i, ev.Kind, bytes.Equal(ev.Doc, docs[i]))
		}
	}
	if ev, err := s.Next(ctx); err != nil || ev.Kind != source.KindJourneyUpsert || ev.ID != jid {
		t.Fatalf("journey insert: %v %v %v", ev.Kind, ev.ID, err)
	}
}

// BenchmarkPrepare measures Ingest's work per statement before the write:
// JSON to BSON, validation, shaping and the stored document, for bodies of
// 100 statements: "full" uses every part Prepare rewrites (context
// activities, extensions, a team, a result), "typical" the statements of
// the end-to-end benchmark (cmd/journeysd). cpu-ns/statement is the
// process's CPU time (getrusage: garbage collection included), which a
// shared machine does not inflate as it does ns/op; statements/s/core is
// its inverse.
func BenchmarkPrepare(b *testing.B) {
	typical := `{"id":"00000000-0000-4000-8000-%012x","actor":{"objectType":"Agent","mbox":"mailto:learner00042@example.com"},` +
		`"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"objectType":"Activity","id":"http://example.com/course/7",` +
		`"definition":{"type":"http://adlnet.gov/expapi/activities/course"}},"timestamp":"2026-01-01T00:00:00Z"}`
	for _, bc := range []struct {
		name, stmt string
		reuse      bool // the memory is reused (a Scratch), as the statement log does
	}{{"full", fullStatement, false}, {"typical", typical, false}, {"typical, scratch reused", typical, true}} {
		b.Run(bc.name, func(b *testing.B) {
			parts := make([]string, 100)
			for i := range parts {
				parts[i] = bc.stmt
				if strings.Contains(bc.stmt, "%012x") {
					parts[i] = fmt.Sprintf(bc.stmt, i)
				}
			}
			body := []byte("[" + strings.Join(parts, ",") + "]")
			org, store, now := primitive.NewObjectID(), primitive.NewObjectID(), time.Now()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var sc *Scratch
			if bc.reuse {
				sc = new(Scratch)
			}
			cpu0 := cpuTime()
			for b.Loop() {
				p, err := prepare(org, store, body, now, sc)
				if err != nil {
					b.Fatal(err)
				}
				if sc != nil {
					*sc = p.scratch
				}
			}
			cpu := float64((cpuTime() - cpu0).Nanoseconds()) / float64(b.N) / 100
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/statement")
			b.ReportMetric(cpu, "cpu-ns/statement")
			b.ReportMetric(1e9/cpu, "statements/s/core")
		})
	}
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngestEmbedded measures a 100-statement Ingest into the
// in-memory embedded store holding 1000 statements (lungo's write cost
// grows with the collection).
func BenchmarkIngestEmbedded(b *testing.B) {
	ctx := context.Background()
	l, err := Open(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(ctx)
	org, store := primitive.NewObjectID(), primitive.NewObjectID()
	body := []byte("[" + strings.Repeat(fullStatement+",", 99) + fullStatement + "]")
	for range 10 {
		if _, err := l.Ingest(ctx, org, store, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Ingest(ctx, org, store, body); err != nil {
			b.Fatal(err)
		}
	}
}
