package lrs

import (
	"bytes"
	"context"
	"strings"
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
// JSON to BSON, validation, shaping and the stored document.
func BenchmarkPrepare(b *testing.B) {
	body := []byte("[" + strings.Repeat(fullStatement+",", 99) + fullStatement + "]")
	org, store, now := primitive.NewObjectID(), primitive.NewObjectID(), time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := prepare(org, store, body, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/statement")
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
