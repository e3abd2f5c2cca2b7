package lrs

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

func withID(n int) string {
	return fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012x",`, n) + minimalStatement[1:]
}

// Concurrent Ingest calls store every statement exactly once, and an id
// sent by two concurrent calls is stored by exactly one of them.
func TestIngestConcurrent(t *testing.T) {
	l := openMemory(t)
	ctx := testContext(t)
	org, store := primitive.NewObjectID(), primitive.NewObjectID()
	const callers, each = 16, 10
	var wg sync.WaitGroup
	var conflicts, stored atomic.Int64
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Callers 0 and 1 send the same ids: one of each pair wins.
				n := c*each + i
				if c == 1 {
					n = i
				}
				_, err := l.Ingest(ctx, org, store, []byte(withID(n)))
				var ce *ConflictError
				switch {
				case errors.As(err, &ce):
					conflicts.Add(1)
				case err != nil:
					t.Error(err)
				default:
					stored.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	docs := storedDocs(t, l)
	if got, want := len(docs), (callers-1)*each; got != want || int(stored.Load()) != want || conflicts.Load() != each {
		t.Fatalf("stored %d documents (%d calls succeeded, %d conflicts); want %d and %d conflicts", got, stored.Load(), conflicts.Load(), want, each)
	}
	ids := map[string]bool{}
	for _, d := range docs {
		id := d.Lookup("statement", "id").StringValue()
		if ids[id] {
			t.Fatalf("statement %s stored twice", id)
		}
		ids[id] = true
	}
}
