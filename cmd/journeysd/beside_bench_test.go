package main

// Live latency beside a recalculation, on the product's default path (the
// embedded statement log, the xAPI resource, a real callback receiver).
// Reproduce:
//
//	JOURNEYS_BENCH_N=1000000 go test -run '^$' -bench BenchmarkLiveBesideRecalculationLog -benchtime 1x -timeout 30m ./cmd/journeysd/

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/outbox"
)

// BenchmarkLiveBesideRecalculationLog stores JOURNEYS_BENCH_N statements
// (default 1,000,000: 10,000 learners, 100 courses) in the daemon's
// statement log, then measures a live journey's latency from the
// acknowledgement of a probe statement's POST (it is durable in the log)
// to its progress being durable (the *-p50/p99-ms figures: the pipeline's
// durable notice, as the callback dispatcher receives it) and to the
// arrival of the completion's callback at a real HTTP receiver (cb-*),
// idle (a warm daemon: 150 probes before the recalculation, after 50
// discarded, and 150 after it) and while a new journey recalculates over
// every stored statement. Probes are posted one at a time, 5 ms apart, each
// by a new learner.
func BenchmarkLiveBesideRecalculationLog(b *testing.B) {
	n := benchN(b)
	arrivals := make(chan []byte, 64)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		arrivals <- body
	}))
	defer recv.Close()
	durable := make(chan string, 64)
	d, api, stop := benchDaemon(b, func(c *serveConfig) {
		c.CallbackAllowPrivate = true
		c.observeDurable = func(ds []outbox.Delivery) {
			for _, del := range ds {
				select {
				case durable <- string(del.Owner):
				default: // nobody waits for it
				}
			}
		}
	})
	defer stop()
	ctx := context.Background()

	// History: n statements from 8 clients in batches of 500.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := benchPost(client, d.Addr(), benchBody(i, min(500, n-i))); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < n; i += 500 {
		next <- i
	}
	close(next)
	wg.Wait()
	stats := d.pipeline.Stats()
	waitIdle := func(what string) {
		deadline := time.Now().Add(10 * time.Minute)
		for d.pipeline.Engine().Stats().Processed.Load() < uint64(n) || stats.RecalcRunning.Load() > 0 {
			if time.Now().After(deadline) {
				b.Fatalf("%s: the pipeline is still busy", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitIdle("history")

	// The probe journey: every probe statement completes it, once per
	// learner, and its callback reaches recv.
	var probeJourney struct {
		ID string `json:"_id"`
	}
	if err := api.do(ctx, "POST", "/api/v2/journey", map[string]any{
		"description": "probe", "isRepeatable": true,
		"waypoints": []any{map[string]any{"conditions": `{"statement.verb.id": "http://example.com/verbs/probe"}`}},
		"outcomes":  []any{map[string]any{"type": "callback", "callback": recv.URL + "/probe"}},
	}, &probeJourney); err != nil {
		b.Fatal(err)
	}
	for stats.Recalculations.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	waitIdle("the probe journey's recalculation")

	// probe posts a statement of a new learner and returns the time from
	// the POST's acknowledgement (the statement is durable in the log) to
	// the commit that makes its progress durable, and to its callback's
	// arrival.
	probe := func(k int) (toProgress, toCallback time.Duration) {
		mbox := fmt.Sprintf("mailto:probe%07d@example.com", k)
		owner, err := journey.OwnerKeyFromIdent(journey.TrackByActor, map[string]any{"mbox": mbox})
		if err != nil {
			b.Fatal(err)
		}
		stmt := statement(fmt.Sprintf("00000000-0000-4000-9000-%012x", k), mbox, "http://example.com/verbs/probe", "http://example.com/probe", typeCourse, time.Now())
		if err := api.do(ctx, "POST", "/data/xAPI/statements", []any{stmt}, nil); err != nil {
			b.Fatal(err)
		}
		acked := time.Now()
		timeout := time.After(time.Minute)
		for toProgress == 0 || toCallback == 0 {
			select {
			case o := <-durable:
				if o == string(owner) {
					toProgress = time.Since(acked)
				}
			case body := <-arrivals:
				if bytes.Contains(body, []byte(mbox[len("mailto:"):])) {
					toCallback = time.Since(acked)
				}
			case <-timeout:
				b.Fatalf("probe %d: no durable progress or callback within a minute", k)
			}
		}
		return toProgress, toCallback
	}
	var idle, busy, idleCB, busyCB []time.Duration
	b.ResetTimer()
	// Idle: after 50 warm-up probes (discarded), 150 before the
	// recalculation and 150 after it (below): a warm daemon's baseline.
	idleProbes := func(from, n int) {
		for k := from; k < from+n; k++ {
			p, c := probe(k)
			if k >= 50 {
				idle, idleCB = append(idle, p), append(idleCB, c)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	idleProbes(0, 200)

	// A second journey over every stored statement: its recalculation
	// reads the whole log while the probes keep coming.
	before := stats.Recalculations.Load()
	start := time.Now()
	if err := api.do(ctx, "POST", "/api/v2/journey", map[string]any{
		"description": "course 7", "isSequential": true,
		"waypoints": []any{
			map[string]any{"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/launched", "statement.object.id": "http://example.com/course/7"}`},
			map[string]any{"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed", "statement.object.id": "http://example.com/course/7"}`},
		},
	}, nil); err != nil {
		b.Fatal(err)
	}
	for stats.Recalculations.Load() == before || stats.RecalcRunning.Load() == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	for k := 1_000_000; stats.RecalcRunning.Load() > 0; k++ {
		p, c := probe(k)
		busy, busyCB = append(busy, p), append(busyCB, c)
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	idleProbes(2_000_000, 150)
	b.StopTimer()
	for _, ds := range [][]time.Duration{idle, busy, idleCB, busyCB} {
		sortDurations(ds)
	}
	if len(busy) == 0 {
		b.Fatal("no probe during the recalculation")
	}
	if len(busy) < 100 {
		b.Logf("only %d probes during the recalculation: the p99 is their maximum", len(busy))
	}
	p99 := func(d []time.Duration) float64 { return ms(d[min(len(d)-1, len(d)*99/100)]) }
	b.ReportMetric(ms(idle[len(idle)/2]), "idle-p50-ms")
	b.ReportMetric(p99(idle), "idle-p99-ms")
	b.ReportMetric(ms(busy[len(busy)/2]), "busy-p50-ms")
	b.ReportMetric(p99(busy), "busy-p99-ms")
	b.ReportMetric(p99(busy)/p99(idle), "p99-ratio")
	b.ReportMetric(p99(idleCB), "cb-idle-p99-ms")
	b.ReportMetric(p99(busyCB), "cb-busy-p99-ms")
	b.ReportMetric(float64(len(busy)), "busy-probes")
	b.ReportMetric(took.Seconds(), "recalc-s")
	b.ReportMetric(float64(n)/took.Seconds(), "scan-stmts/s")
}
