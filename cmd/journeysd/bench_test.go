package main

// Reproduce (each runs once; the figures are custom metrics):
//
//	go test -run '^$' -bench 'BenchmarkInsertToProgress|BenchmarkRecalculationScan' -benchtime 1x ./cmd/journeysd/

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/journey"
)

// benchDaemon starts the daemon in-process on the embedded statement log;
// edit, when given, adjusts its configuration first.
func benchDaemon(b *testing.B, edit ...func(*serveConfig)) (*daemon, *apiClient, context.CancelFunc) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := serveConfig{
		DataDir: b.TempDir(), Listen: "127.0.0.1:0", MongoDB: "learninglocker_v2",
		AdminKey: testAdminKey, AdminSecret: testAdminSecret, AdminOrg: testOrg,
		CallbackTimeout: time.Second, CallbackRetryWindow: time.Minute, CallbackConcurrency: 4,
		BatchSize: 1000, ProgressCache: defaultProgressCache, ShutdownBudget: 10 * time.Second,
	}
	for _, f := range edit {
		f(&cfg)
	}
	d, err := startDaemon(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	if err := waitReady(ctx, d); err != nil {
		b.Fatal(err)
	}
	return d, &apiClient{base: "http://" + d.Addr(), key: testAdminKey, secret: testAdminSecret}, func() {
		cancel()
		d.Wait()
	}
}

// BenchmarkInsertToProgress measures, on the embedded statement log at
// 1,000 statements/s, the time from the start of a statement's POST to the
// moment its effect is durable in the state store: ingest (one synced log
// write, shared with concurrent ones), the log's reader, matching,
// progress, commit. Statements are posted in batches of 10, 100 times a
// second.
func BenchmarkInsertToProgress(b *testing.B) {
	const rate, n, batch = 1000, 5000, 10
	d, api, stop := benchDaemon(b)
	defer stop()
	ctx := context.Background()
	var created struct {
		ID string `json:"_id"`
	}
	if err := api.do(ctx, "POST", "/api/v2/journey", map[string]any{
		"description": "latency probe",
		"waypoints":   []any{map[string]any{"conditions": `{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed"}`}},
	}, &created); err != nil {
		b.Fatal(err)
	}
	jid, _ := primitive.ObjectIDFromHex(created.ID)
	type probe struct {
		owner []byte
		start time.Time // the POST started
		done  time.Time // the POST returned: the statement is stored
	}
	sent := make(chan probe, n)
	errs := make(chan error, 1)
	var posts []time.Duration
	b.ResetTimer()
	// The sender keeps the rate whatever the latency: statements are not
	// held back until the previous one counted.
	go func() {
		defer close(sent)
		tick := time.NewTicker(time.Second * batch / rate)
		defer tick.Stop()
		for i := 0; i < n; i += batch {
			<-tick.C
			var stmts []map[string]any
			var probes []probe
			for k := i; k < i+batch; k++ {
				mbox := fmt.Sprintf("mailto:probe%05d@example.com", k)
				owner, err := journey.OwnerKeyFromIdent(journey.TrackByActor, map[string]any{"mbox": mbox})
				if err != nil {
					errs <- err
					return
				}
				stmts = append(stmts, statement(fmt.Sprintf("00000000-0000-4000-8000-%012x", k), mbox, verbCompleted, "http://example.com/course/1", typeCourse, time.Now()))
				probes = append(probes, probe{owner: owner})
			}
			start := time.Now()
			if err := api.do(ctx, "POST", "/data/xAPI/statements", stmts, nil); err != nil {
				errs <- err
				return
			}
			done := time.Now()
			posts = append(posts, done.Sub(start))
			for _, p := range probes {
				p.start, p.done = start, done
				sent <- p
			}
		}
	}()
	var lat, after []time.Duration
	var pending []probe
	for open := true; open || len(pending) > 0; {
		select {
		case err := <-errs:
			b.Fatal(err)
		case p, ok := <-sent:
			if !ok {
				open, sent = false, nil
				continue
			}
			pending = append(pending, p)
		case <-time.After(100 * time.Microsecond):
		}
		kept := pending[:0]
		for _, p := range pending {
			_, ok, err := d.store.Progress(jid, p.owner)
			if err != nil {
				b.Fatal(err)
			}
			switch {
			case ok:
				lat = append(lat, time.Since(p.start))
				after = append(after, time.Since(p.done))
			case time.Since(p.start) > 30*time.Second:
				b.Fatal("a statement never counted")
			default:
				kept = append(kept, p)
			}
		}
		pending = kept
	}
	b.StopTimer()
	sortDurations(lat)
	sortDurations(posts)
	sortDurations(after)
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(posts[len(posts)/2]), "post-p50-ms")
	b.ReportMetric(ms(after[len(after)/2]), "stored-to-progress-p50-ms")
	b.ReportMetric(ms(after[len(after)*99/100]), "stored-to-progress-p99-ms")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "stmts/s")
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRecalculationScan measures how fast a recalculation covers
// stored statements: a journey created over 5,000 statements. The rate is
// over the 5,000 statements stored; the scan reads only those its pushdown
// filter selects (recalculateStatus.totalCount).
func BenchmarkRecalculationScan(b *testing.B) {
	const n = 5000
	_, api, stop := benchDaemon(b)
	defer stop()
	ctx := context.Background()
	stmts := crashTraffic(5, n, 500)
	for i := 0; i < n; i += 500 {
		if err := api.do(ctx, "POST", "/data/xAPI/statements", stmts[i:i+500], nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var rate, read float64
	for _, j := range crashJourneys()[:3] {
		var created struct {
			ID string `json:"_id"`
		}
		if err := api.do(ctx, "POST", "/api/v2/journey", j, &created); err != nil {
			b.Fatal(err)
		}
		var doc struct {
			Status struct {
				InProgress bool      `json:"inProgress"`
				TotalCount int64     `json:"totalCount"`
				StartedAt  time.Time `json:"startedAt"`
				FinishedAt time.Time `json:"finishedAt"`
			} `json:"recalculateStatus"`
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if err := api.do(ctx, "GET", "/api/v2/journey/"+created.ID, nil, &doc); err != nil {
				b.Fatal(err)
			}
			if !doc.Status.InProgress && !doc.Status.FinishedAt.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("recalculation did not finish")
			}
			time.Sleep(10 * time.Millisecond)
		}
		took := doc.Status.FinishedAt.Sub(doc.Status.StartedAt).Seconds()
		if doc.Status.TotalCount <= 0 || doc.Status.TotalCount > n || took <= 0 {
			b.Fatalf("recalculated %d statements in %fs", doc.Status.TotalCount, took)
		}
		read += float64(doc.Status.TotalCount) / 3
		rate += float64(n) / took / 3
	}
	b.ReportMetric(rate, "stmts/s")
	b.ReportMetric(read, "read/journey")
}
