package processor

// Reproduce (macro benchmarks: one op is a whole scenario):
//
//	go test -run='^$' -bench=BenchmarkLiveDuringRecalculation -benchtime=1x ./processor/
//	go test -run='^$' -bench=BenchmarkCoalescedRecalculation -benchtime=1x ./processor/
//	go test -run='^$' -bench=BenchmarkPushdownLungo -benchtime=1x ./processor/

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/xapitest"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/state"
)

// synthScanner is an lrs.Scanner over n synthetic statements (the engine
// benchmark's pool, each copy given its own _id and stored time), for
// measuring the pipeline's side of a recalculation over millions of
// statements without a database that holds them. It ignores pushdown
// filters, as a Scanner may.
type synthScanner struct {
	pool   []bson.Raw
	n      int
	base   int64 // stored time of statement 0 (Unix ms)
	idOff  []int
	stoOff []int
}

func newSynthScanner(tb testing.TB, org primitive.ObjectID, journeys, n int) *synthScanner {
	s := &synthScanner{pool: benchStatements(org, journeys), n: n, base: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()}
	for _, doc := range s.pool {
		id := bytes.Index(doc, []byte("\x07_id\x00"))
		st := bytes.LastIndex(doc, []byte("\x09stored\x00"))
		if id < 0 || st < 0 {
			tb.Fatal("pool statement without _id or stored")
		}
		s.idOff, s.stoOff = append(s.idOff, id+5), append(s.stoOff, st+8)
	}
	return s
}

// doc returns statement i in buf.
func (s *synthScanner) doc(buf []byte, i int) bson.Raw {
	k := i % len(s.pool)
	buf = append(buf[:0], s.pool[k]...)
	stored := s.base + int64(i)
	binary.BigEndian.PutUint32(buf[s.idOff[k]:], uint32(stored/1000))
	binary.BigEndian.PutUint64(buf[s.idOff[k]+4:], uint64(i))
	binary.LittleEndian.PutUint64(buf[s.stoOff[k]:], uint64(stored))
	return buf
}

func (s *synthScanner) Scan(ctx context.Context, q lrs.ScanQuery, fn func(bson.Raw) error) error {
	start := 0
	if q.After != (lrs.Position{}) {
		start = int(q.After.Stored-s.base) + 1
	}
	var buf []byte
	for i := max(start, 0); i < s.n; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		buf = s.doc(buf, i)
		if err := fn(buf); err != nil {
			return err
		}
	}
	return nil
}

func (s *synthScanner) Count(context.Context, lrs.ScanQuery) (int64, error) { return int64(s.n), nil }

// LocalReads implements lrs.LocalReads: it reads from memory, as the
// embedded statement log reads locally.
func (s *synthScanner) LocalReads() bool { return true }

func (s *synthScanner) LatestStored(context.Context) (int64, error) {
	return s.base + int64(s.n) - 1, nil
}

// benchPipeline runs a pipeline over an in-memory lungo engine (the live
// stream) and a synced Pebble store on disk.
type benchPipeline struct {
	db     lungo.IDatabase
	store  *state.Store
	p      *Pipeline
	cancel context.CancelFunc
	done   chan error
	// durable receives the owner key of every delivery the pipeline hands
	// on, once the commit that queued it is durable (OnDurable).
	durable chan string
}

func startBenchPipeline(b *testing.B, db lungo.IDatabase, sc lrs.Scanner, noPushdown bool) *benchPipeline {
	b.Helper()
	st, err := state.Open(b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	durable := make(chan string, 1024)
	onDurable := func(ds []outbox.Delivery) {
		for _, d := range ds {
			select {
			case durable <- string(d.Owner):
			default: // nobody is waiting for it
			}
		}
	}
	p, err := NewPipeline(PipelineConfig{Store: st, DB: db, Scanner: sc, NoPushdown: noPushdown, SkewMargin: time.Minute, OnDurable: onDurable})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bp := &benchPipeline{db: db, store: st, p: p, cancel: cancel, done: make(chan error, 1), durable: durable}
	go func() { bp.done <- p.Run(ctx) }()
	for p.Ready() != nil {
		time.Sleep(time.Millisecond)
	}
	return bp
}

func (bp *benchPipeline) stop(b *testing.B) {
	bp.cancel()
	if err := <-bp.done; err != nil {
		b.Fatal(err)
	}
	bp.store.Close()
}

// waitRecalculated waits until n recalculations started and none runs,
// and returns how long that took from start.
func (bp *benchPipeline) waitRecalculated(b *testing.B, n uint64, start time.Time) time.Duration {
	s := bp.p.Stats()
	for s.Recalculations.Load() < n || s.RecalcRunning.Load() != 0 {
		time.Sleep(200 * time.Microsecond)
	}
	return time.Since(start)
}

func newBenchLungo(b *testing.B) lungo.IDatabase {
	client, engine, err := lungo.Open(context.Background(), lungo.Options{Store: lungo.NewMemoryStore()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(engine.Close)
	return client.Database("lrs")
}

func insertJourneys(b *testing.B, db lungo.IDatabase, js []*journey.Journey) {
	docs := make([]any, len(js))
	for i, j := range js {
		docs[i] = j
	}
	if _, err := db.Collection("journeys").InsertMany(context.Background(), docs); err != nil {
		b.Fatal(err)
	}
}

// probeLatencies inserts probe statements one at a time, each for a new
// owner of the probe journey (which completes at once and queues a
// callback), and measures two latencies per probe: from the insert's
// acknowledgement by the LRS to the pipeline's notice that the commit
// holding the probe's progress is durable (OnDurable, as the callback
// dispatcher is told), and the same from the start of the insert
// (lungo's insert included: one lock serialises lungo's writes, so an
// insert also waits for the recalculation status writes to the journeys
// collection, which MongoDB would run beside it). It stops after max
// probes or when until reports false.
func probeLatencies(b *testing.B, bp *benchPipeline, org primitive.ObjectID, first, max int, until func() bool) (fromAck, fromStart []time.Duration) {
	// Stored now: completions by statements stored before the journey
	// was created are quiet (no callback), see Engine.SetJourney.
	g := xapitest.New(int64(99+first), xapitest.Options{Organisation: org, Actors: 100000, Start: time.Now()})
	for i := first; i < first+max && until(); i++ {
		doc := g.Make(xapitest.Spec{Actor: g.Actor(i), Verb: "http://example.com/verbs/probe", Object: "http://example.com/probe"})
		owner, _ := journey.AppendOwnerKey(nil, doc, journey.TrackByActor)
		start := time.Now()
		if _, err := bp.db.Collection("statements").InsertOne(context.Background(), doc); err != nil {
			b.Fatal(err)
		}
		acked := time.Now()
		timeout := time.After(time.Minute)
	wait:
		for {
			select {
			case o := <-bp.durable:
				if o == string(owner) {
					break wait
				}
			case <-timeout:
				b.Fatalf("probe %d: progress not durable after a minute", i)
			}
		}
		done := time.Now()
		fromAck, fromStart = append(fromAck, done.Sub(acked)), append(fromStart, done.Sub(start))
		time.Sleep(5 * time.Millisecond)
	}
	return fromAck, fromStart
}

// cpuTime returns the CPU time (user and system) the process has used: on
// a machine shared with other work, CPU time per scenario is steadier than
// wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func probeJourneyDoc(org primitive.ObjectID) *journey.Journey {
	return &journey.Journey{
		ID: primitive.NewObjectID(), Organisation: org, IsActive: true, IsRepeatable: true, TrackBy: journey.TrackByActor,
		// The callback is never called here (no dispatcher runs): its
		// delivery tells the benchmark that the progress is durable.
		Outcomes: []journey.Outcome{{ID: primitive.NewObjectID(), IsActive: true, Type: journey.OutcomeCallback, Callback: "http://127.0.0.1:9/probe"}},
		Waypoints: []journey.Waypoint{{ID: primitive.NewObjectID(), IsActive: true, Count: 1,
			Conditions: `{"statement.verb.id": "http://example.com/verbs/probe"}`}},
	}
}

// BenchmarkLiveDuringRecalculation measures live insert→progress-durable
// latency for a journey that is not recalculating, idle and while another
// journey recalculates over 1,000,000 statements (synthetic scanner; the
// live stream is lungo's change stream; progress on a synced Pebble
// store). The headline figures (idle-p99-ms, busy-p99-ms) count from the
// insert's acknowledgement; the ins- figures from the insert's start. Idle
// is a warm pipeline: 150 probes before the recalculation (after 50
// discarded) and 150 after it.
func BenchmarkLiveDuringRecalculation(b *testing.B) {
	const n = 1000000
	for i := 0; i < b.N; i++ {
		org := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
		db := newBenchLungo(b)
		probe := probeJourneyDoc(org)
		insertJourneys(b, db, []*journey.Journey{probe})
		bp := startBenchPipeline(b, db, newSynthScanner(b, org, 100, n), false)
		bp.waitRecalculated(b, 1, time.Now())
		// Idle: after 50 warm-up probes (discarded), 150 before the
		// recalculation and 150 after it, so that the baseline is a
		// warm pipeline's, not a fresh one's.
		always := func() bool { return true }
		probeLatencies(b, bp, org, 0, 50, always)
		idle, idleIns := probeLatencies(b, bp, org, 50, 150, always)

		big := benchJourneys(org, 100)[:1]
		start := time.Now()
		insertJourneys(b, db, big)
		for bp.p.Stats().RecalcRunning.Load() == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		busy, busyIns := probeLatencies(b, bp, org, 1000, 100000, func() bool { return bp.p.Stats().RecalcRunning.Load() > 0 })
		took := bp.waitRecalculated(b, 2, start)
		after, afterIns := probeLatencies(b, bp, org, 90000, 150, always)
		idle, idleIns = append(idle, after...), append(idleIns, afterIns...)
		bp.stop(b)
		ms := func(ds []time.Duration, p float64) float64 { return float64(percentile(ds, p).Microseconds()) / 1000 }
		b.ReportMetric(ms(idle, 0.5), "idle-p50-ms")
		b.ReportMetric(ms(idle, 0.99), "idle-p99-ms")
		b.ReportMetric(ms(busy, 0.5), "busy-p50-ms")
		b.ReportMetric(ms(busy, 0.99), "busy-p99-ms")
		b.ReportMetric(ms(busy, 0.99)/ms(idle, 0.99), "p99-ratio")
		b.ReportMetric(ms(idleIns, 0.99), "ins-idle-p99-ms")
		b.ReportMetric(ms(busyIns, 0.99), "ins-busy-p99-ms")
		b.ReportMetric(float64(len(busy)), "busy-probes")
		b.ReportMetric(took.Seconds(), "recalc-s")
		b.ReportMetric(n/took.Seconds(), "scan-stmts/s")
	}
}

// BenchmarkCoalescedRecalculation measures the recalculation of one
// journey, and of 1,000 journeys created at once, over the same
// statements (synthetic scanner): coalesced, the 1,000 share one scan.
func BenchmarkCoalescedRecalculation(b *testing.B) {
	const n = 1000000
	for _, k := range []int{1, 1000} {
		b.Run(fmt.Sprintf("journeys=%d", k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				org := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
				db := newBenchLungo(b)
				bp := startBenchPipeline(b, db, newSynthScanner(b, org, 1000, n), false)
				start, cpu := time.Now(), cpuTime(b)
				insertJourneys(b, db, benchJourneys(org, 1000)[:k])
				took := bp.waitRecalculated(b, uint64(k), start)
				cpu = cpuTime(b) - cpu
				passes := bp.p.Stats().ScanPasses.Load()
				bp.stop(b)
				b.ReportMetric(took.Seconds(), "recalc-s")
				b.ReportMetric(cpu.Seconds(), "cpu-s")
				b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/stmt")
				b.ReportMetric(float64(passes), "passes")
			}
		})
	}
}

// BenchmarkPushdownLungo measures a recalculation's scan on lungo (the
// MongoScanner against the in-memory engine) over 10,000 statements for a
// journey that matches 1% of them, with and without the pushed filter.
// (Inserting the statements into lungo takes most of the run.)
func BenchmarkPushdownLungo(b *testing.B) {
	const n = 10000
	for _, push := range []bool{true, false} {
		b.Run(fmt.Sprintf("pushdown=%v", push), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				org := primitive.NewObjectIDFromTimestamp(time.Unix(1, 0))
				db := newBenchLungo(b)
				g := xapitest.New(3, xapitest.Options{Organisation: org, Actors: 1000})
				docs := make([]any, 0, 1000)
				for s := 0; s < n; s++ {
					spec := xapitest.Spec{Actor: g.Actor(s % 1000), Verb: benchVerbs[s%len(benchVerbs)]}
					if s%100 == 0 {
						spec.Verb = "http://example.com/verbs/rare"
					}
					docs = append(docs, g.Make(spec))
					if len(docs) == cap(docs) {
						if _, err := db.Collection("statements").InsertMany(context.Background(), docs); err != nil {
							b.Fatal(err)
						}
						docs = docs[:0]
					}
				}
				bp := startBenchPipeline(b, db, lrs.NewMongoScanner(db, "statements"), !push)
				j := probeJourneyDoc(org)
				j.Waypoints[0].Conditions = `{"statement.verb.id": "http://example.com/verbs/rare"}`
				start := time.Now()
				insertJourneys(b, db, []*journey.Journey{j})
				took := bp.waitRecalculated(b, 1, start)
				scanned := bp.p.Stats().Scanned.Load()
				bp.stop(b)
				b.ReportMetric(took.Seconds(), "recalc-s")
				b.ReportMetric(n/took.Seconds(), "stmts/s")
				b.ReportMetric(float64(scanned), "read")
			}
		})
	}
}
