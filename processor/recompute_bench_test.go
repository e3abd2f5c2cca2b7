package processor

// Reproduce:
//
//	go test -run='^$' -bench=BenchmarkOwnerRecompute -benchtime=50x -count=2 ./processor/
//
// One op is one owner recompute as a Learning Locker persona update causes
// it: the queued recompute of one persona in 10 persona-tracked journeys,
// reading that persona's n statements from lungo (in memory; the
// collection holds only them, so the read is the result), rebuilding the
// 10 progress records and committing them with a synced Pebble commit.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

func BenchmarkOwnerRecompute(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			ctx := context.Background()
			client, engine, err := lungo.Open(ctx, lungo.Options{Store: lungo.NewMemoryStore()})
			if err != nil {
				b.Fatal(err)
			}
			defer engine.Close()
			db := client.Database("lrs")
			persona := oid(21)
			docs := make([]any, n)
			for i := range docs {
				verb := verbAttempted
				if i%10 == 9 {
					verb = verbCompleted
				}
				d := withPerson(llStatement(i, "mailto:ann@example.com", verb), persona)
				d[0].Value = primitive.NewObjectID() // _id: llStmtID has room for 256 only
				docs[i] = d
			}
			if _, err := db.Collection("statements").InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			st, err := state.Open(b.TempDir(), state.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			p, err := NewPipeline(PipelineConfig{Store: st, DB: db})
			if err != nil {
				b.Fatal(err)
			}
			var ids []primitive.ObjectID
			for j := 0; j < 10; j++ {
				jd := llJourney(primitive.NewObjectIDFromTimestamp(time.Unix(int64(j), 0)), journey.TrackByPersona)
				jd.IsRepeatable = true
				c, err := journey.Compile(jd)
				if err != nil {
					b.Fatal(err)
				}
				p.engine.SetJourney(c, 0)
				ids = append(ids, c.ID)
			}
			target := ownerTarget{journey.TrackByPersona, journey.PersonaKey(persona)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, id := range ids {
					p.recomputes.add(modelOrgs[0], target, id)
				}
				if err := p.commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/statement")
			rec, ok, err := st.Progress(ids[0], target.owner)
			if err != nil || !ok || len(rec) == 0 {
				b.Fatalf("no progress rebuilt: %v", err)
			}
		})
	}
}
