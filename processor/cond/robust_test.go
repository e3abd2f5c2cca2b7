package cond

import (
	"sync"
	"testing"
)

// Match must survive any bytes: every truncation and single-byte
// corruption of a real document is evaluated without panicking.
func TestMatchMalformedDocuments(t *testing.T) {
	doc := mustDoc(t, statementDoc)
	queries := []*Matcher{
		mustCompile(t, `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`),
		mustCompile(t, `{"statement.result.score": {"$gt": {"raw": 1}}, "statement.object.id": {"$regex": "x"}}`),
		mustCompile(t, `{"statement.context.contextActivities.grouping": {"$elemMatch": {"id": {"$exists": true}}, "$size": 2}}`),
		mustCompile(t, `{"statement.context.extensions.http://example&46;com/ext": {"$mod": [2, 1]}, "x": null}`),
	}
	bad := make([]byte, len(doc))
	for i := range doc {
		for _, m := range queries {
			m.Match(doc[:i])
		}
		for _, b := range []byte{0x00, 0x7f, 0xff, 0x13} {
			copy(bad, doc)
			bad[i] = b
			for _, m := range queries {
				m.Match(bad)
			}
		}
	}
	// The intact document still matches: the loop above ran real work.
	if !queries[0].Match(doc) {
		t.Error("intact document does not match")
	}
}

// A Matcher is used by many goroutines at once.
func TestMatchConcurrent(t *testing.T) {
	m := mustCompile(t, `{"statement.object.id": {"$regex": "module/[0-9]+$"}, "lrs_id": {"$in": [{"$oid": "650000000000000000000003"}]}}`)
	hit, miss := mustDoc(t, statementDoc), mustDoc(t, `{"lrs_id": {"$oid": "650000000000000000000003"}}`)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if !m.Match(hit) || m.Match(miss) {
					errs <- "wrong result under concurrency"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
