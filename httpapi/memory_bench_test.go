package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor"
)

// Targets of docs/design.md §11 that BenchmarkBoundedMemory checks.
const (
	memoryTargetBytes   = 256 << 20
	responseTargetBytes = 1 << 20
)

// BenchmarkBoundedMemory: 1,000,000 learners across 100 journeys (10,000
// each) and one learner with 100,000 completed attempts, applied by the
// real engine to a real Pebble store on disk (unsynced: durability is not
// what is measured), then the largest progress responses served by the
// API. It reports the process's peak RSS and the largest response, and
// fails when they exceed 256 MB and 1 MB. One iteration: run it with
// -benchtime=1x.
func BenchmarkBoundedMemory(b *testing.B) {
	const (
		journeys = 100
		learners = 1_000_000
		attempts = 100_000
		perBatch = 1000
	)
	for range b.N {
		h := newHarness(b)
		ids := make([]string, journeys)
		for k := range journeys {
			ids[k] = h.create(credA, fmt.Sprintf(`{"description": "course %d", "isRepeatable": true, "waypoints": [
				{"conditions": "{\"statement.verb.id\": \"http://adlnet.gov/expapi/verbs/launched\", \"statement.object.id\": \"http://example.org/course/%d\"}"}]}`, k, k)).ID
		}
		e := processor.NewEngine(h.store, processor.Options{})
		for _, id := range ids {
			e.SetJourney(compileStored(b, h.db, id), 0)
		}
		sb := newStatementBuilder()
		apply := func(n int, learner func(i int) int, course func(i int) int) {
			for i := range n {
				if _, err := e.Statement(sb.launched(learner(i), course(i))); err != nil {
					b.Fatal(err)
				}
				if (i+1)%perBatch == 0 {
					if err := e.Commit(nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := e.Commit(nil); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		apply(learners, func(i int) int { return i }, func(i int) int { return i % journeys })
		loaded := time.Since(start)
		// The heavy learner: every launch of course 0 completes an attempt.
		apply(attempts, func(int) int { return learners }, func(int) int { return 0 })
		b.ReportMetric(float64(learners+attempts)/time.Since(start).Seconds(), "statements/s")
		b.Logf("%d learners in %s, then %d attempts of one learner", learners, loaded.Round(time.Millisecond), attempts)

		heavy := "/api/v2/journeyprogress?journey=" + ids[0] + "&mbox=" + sb.mbox(learners)
		largest := 0
		var heavyDoc []struct {
			ID            string                   `json:"_id"`
			Completions   []struct{}               `json:"completions"`
			OlderAttempts *processor.OlderAttempts `json:"olderAttempts"`
		}
		for _, target := range []string{
			heavy,
			"/api/v2/journeyprogress?limit=1000&journey=" + ids[0],
			"/api/connection/journeyProgress?first=1000&journey=" + ids[99],
		} {
			body := get(b, h, target)
			b.Logf("GET %s: %d bytes", target, len(body))
			largest = max(largest, len(body))
			if target == heavy {
				if err := json.Unmarshal(body, &heavyDoc); err != nil || len(heavyDoc) != 1 {
					b.Fatalf("heavy learner's progress: %v %s", err, body[:min(len(body), 300)])
				}
			}
		}
		if n := len(heavyDoc[0].Completions); n != DefaultProgressAttempts || heavyDoc[0].OlderAttempts == nil {
			b.Fatalf("heavy learner's document lists %d attempts (older: %v)", n, heavyDoc[0].OlderAttempts)
		}
		page := get(b, h, "/api/v2/journeyprogress/"+heavyDoc[0].ID+"/attempts?limit=1000&journey="+ids[0])
		b.Logf("a page of 1,000 attempts: %d bytes", len(page))
		largest = max(largest, len(page))

		peak := peakRSS(b)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MB")
		b.ReportMetric(float64(largest)/1024, "largest-response-KB")
		if peak > memoryTargetBytes {
			b.Errorf("peak RSS %d MB, target 256 MB", peak>>20)
		}
		if largest > responseTargetBytes {
			b.Errorf("largest progress response %d bytes, target 1 MB", largest)
		}
	}
}

// get serves an authenticated GET and returns the body of its 200.
func get(b *testing.B, h *harness, target string) []byte {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.SetBasicAuth(credA.key, credA.secret)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

// peakRSS returns the process's peak resident set size (VmHWM).
func peakRSS(b *testing.B) int64 {
	b.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Skip("no VmHWM in /proc/self/status")
	return 0
}

// statementBuilder makes minimal stored statements without keeping
// anything per learner (a generator with a million actors would itself
// weigh more than the daemon's budget).
type statementBuilder struct {
	stored time.Time
}

func newStatementBuilder() *statementBuilder {
	return &statementBuilder{stored: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// mbox is learner's mbox as a query parameter value.
func (s *statementBuilder) mbox(learner int) string {
	return "mailto%3Alearner" + strconv.Itoa(learner) + "%40example.org"
}

// launched is learner's launch of course.
func (s *statementBuilder) launched(learner, course int) bson.Raw {
	s.stored = s.stored.Add(time.Millisecond)
	at := primitive.NewDateTimeFromTime(s.stored)
	raw, err := bson.Marshal(bson.D{
		{Key: "_id", Value: primitive.NewObjectIDFromTimestamp(s.stored)},
		{Key: "organisation", Value: orgA},
		{Key: "lrs_id", Value: storeA},
		{Key: "stored", Value: at},
		{Key: "timestamp", Value: at},
		{Key: "statement", Value: bson.D{
			{Key: "actor", Value: bson.D{{Key: "mbox", Value: "mailto:learner" + strconv.Itoa(learner) + "@example.org"}}},
			{Key: "verb", Value: bson.D{{Key: "id", Value: "http://adlnet.gov/expapi/verbs/launched"}}},
			{Key: "object", Value: bson.D{{Key: "id", Value: "http://example.org/course/" + strconv.Itoa(course)}}},
		}},
	})
	if err != nil {
		panic(err)
	}
	return raw
}
