package main

// The statement log at scale, on the real binary. Not run by go test ./...
// (benchmarks run only with -bench). Reproduce:
//
//	JOURNEYS_BENCH_N=1000000 go test -run '^$' -bench 'BenchmarkLogEndToEnd' -benchtime 1x -timeout 60m ./cmd/journeysd/
//	go test -run '^$' -bench 'BenchmarkLogSinglePosts' -benchtime 1x ./cmd/journeysd/

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchN returns the statements of a scale run (JOURNEYS_BENCH_N, default
// 1,000,000).
func benchN(b *testing.B) int {
	if s := os.Getenv("JOURNEYS_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("JOURNEYS_BENCH_N=%q: want a number ≥ 1000", s)
		}
		return n
	}
	return 1_000_000
}

// benchBody returns a JSON array of statements first..first+n-1: 10,000
// learners, 100 courses. It is the load generator's inner loop, so it
// appends to one buffer sized up front and writes the varying digits itself
// instead of going through fmt: the benchmark's clients share the daemon's
// two cores, and what they spend is taken from the daemon.
// TestBenchBodyMatchesFormat holds it to the fmt rendering of the same
// statements.
func benchBody(first, n int) []byte {
	buf := make([]byte, 0, 2+n*benchStatementMax)
	buf = append(buf, '[')
	for i := first; i < first+n; i++ {
		if i > first {
			buf = append(buf, ',')
		}
		buf = appendBenchStatement(buf, i)
	}
	return append(buf, ']')
}

// benchStatementMax bounds the bytes of one statement of benchBody.
const benchStatementMax = 400

// benchVerbs are the verbs of benchBody's statements, statement i having
// benchVerbs[i%3].
var benchVerbs = [...]string{"launched", "progressed", "completed"}

// appendBenchStatement appends statement i of benchBody: its id's first
// group is i>>24 in 8 hex digits and its last group i in 12; learner
// i%10,000 in 5 decimal digits; verb benchVerbs[i%3]; course (i/7)%100.
func appendBenchStatement(buf []byte, i int) []byte {
	buf = append(buf, `{"id":"`...)
	buf = appendHex(buf, uint64(i>>24), 8)
	buf = append(buf, `-0000-4000-8000-`...)
	buf = appendHex(buf, uint64(i), 12)
	buf = append(buf, `","actor":{"objectType":"Agent","mbox":"mailto:learner`...)
	buf = appendDec(buf, uint64(i%10_000), 5)
	buf = append(buf, `@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/`...)
	buf = append(buf, benchVerbs[i%3]...)
	buf = append(buf, `"},"object":{"objectType":"Activity","id":"http://example.com/course/`...)
	buf = strconv.AppendInt(buf, int64((i/7)%100), 10)
	return append(buf, `","definition":{"type":"http://adlnet.gov/expapi/activities/course"}},"timestamp":"2026-01-01T00:00:00Z"}`...)
}

// appendHex appends v in exactly width lower-case hex digits (v must fit).
func appendHex(buf []byte, v uint64, width int) []byte {
	for k := width - 1; k >= 0; k-- {
		buf = append(buf, "0123456789abcdef"[(v>>(4*k))&0xf])
	}
	return buf
}

// appendDec appends v in exactly width decimal digits (v must fit).
func appendDec(buf []byte, v uint64, width int) []byte {
	buf = append(buf, make([]byte, width)...)
	for k := len(buf) - 1; k >= len(buf)-width; k-- {
		buf[k] = byte('0' + v%10)
		v /= 10
	}
	return buf
}

// TestBenchBodyMatchesFormat holds benchBody to the statements rendered by
// fmt from their description (the benchmark's bodies before they were
// built by hand), at the start, around the id's 24-bit boundary and far
// beyond it.
func TestBenchBodyMatchesFormat(t *testing.T) {
	for _, first := range []int{0, 9_950, 1_000_000 - 100, 1<<24 - 50, 1<<36 + 12_345} {
		var want bytes.Buffer
		want.WriteByte('[')
		for i := first; i < first+100; i++ {
			if i > first {
				want.WriteByte(',')
			}
			fmt.Fprintf(&want, `{"id":"%08x-0000-4000-8000-%012x","actor":{"objectType":"Agent","mbox":"mailto:learner%05d@example.com"},`+
				`"verb":{"id":"http://adlnet.gov/expapi/verbs/%s"},"object":{"objectType":"Activity","id":"http://example.com/course/%d",`+
				`"definition":{"type":"http://adlnet.gov/expapi/activities/course"}},"timestamp":"2026-01-01T00:00:00Z"}`,
				i>>24, i, i%10_000, [...]string{"launched", "progressed", "completed"}[i%3], (i/7)%100)
		}
		want.WriteByte(']')
		if got := benchBody(first, 100); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("first %d:\n got %s\nwant %s", first, got, want.Bytes())
		}
		if got := benchBody(first, 1); len(got) > 2+benchStatementMax {
			t.Fatalf("statement %d is %d bytes, over benchStatementMax", first, len(got)-2)
		}
	}
}

// post sends one xAPI POST and fails unless it is 200.
func benchPost(client *http.Client, addr string, body []byte) error {
	req, err := http.NewRequest("POST", "http://"+addr+"/data/xAPI/statements", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(testAdminKey, testAdminSecret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %d %s", resp.StatusCode, b)
	}
	return nil
}

// metric returns the value of a Prometheus counter from /metrics. It asks
// for the exposition uncompressed: the scale benchmark polls it every 50 ms,
// and gzip would be the daemon's work on the load generator's behalf.
func metric(addr, name string) (float64, error) {
	req, err := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, name+" ") {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name)), 64)
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}

// cpuSeconds returns the CPU time (user and system) process pid has used,
// from /proc/<pid>/stat, in seconds (clock ticks of 1/100 s, Linux's
// USER_HZ).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// selfCPUSeconds returns the CPU time (user and system) this process — the
// benchmark and its load generator — has used, from getrusage(RUSAGE_SELF).
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// rssMB returns the resident set size of process pid in MiB.
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// benchJourneys creates 100 journeys, one per course: launched, then
// completed, and waits until their first calculation is done.
func benchJourneys(b *testing.B, d *proc) {
	defer func() {
		deadline := time.Now().Add(5 * time.Minute)
		for {
			var js []struct {
				Status struct {
					InProgress bool `json:"inProgress"`
				} `json:"recalculateStatus"`
			}
			d.mustDo("GET", "/api/v2/journey?limit=1000", nil, &js)
			busy := 0
			for _, j := range js {
				if j.Status.InProgress {
					busy++
				}
			}
			if busy == 0 && len(js) == 100 {
				return
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d journeys still calculating", busy)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	for c := range 100 {
		d.createJourney(map[string]any{
			"description": fmt.Sprintf("course %d", c), "isSequential": true, "isRepeatable": true,
			"waypoints": []any{
				map[string]any{"conditions": fmt.Sprintf(`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/launched", "statement.object.id": "http://example.com/course/%d"}`, c)},
				map[string]any{"conditions": fmt.Sprintf(`{"statement.verb.id": "http://adlnet.gov/expapi/verbs/completed", "statement.object.id": "http://example.com/course/%d"}`, c)},
			},
		})
	}
}

// BenchmarkLogEndToEnd posts N statements (default 1,000,000) from 8
// clients in batches of 100 to the real daemon on the statement log, with
// 100 journeys and 10,000 learners, and reports, per tenth of the run, the
// rate from POST to progress applied and committed (the pipeline's
// processed counter, committed within one group commit of it), and the
// daemon's RSS at the end.
func BenchmarkLogEndToEnd(b *testing.B) {
	n := benchN(b)
	const clients, batch = 8, 100
	// The load generator shares the daemon's two cores: it collects its
	// garbage as the daemon does by default (tuneGC), so that it takes as
	// little of them as it can. Its CPU is reported apart.
	defer debug.SetGCPercent(debug.SetGCPercent(defaultGCPercent))
	d := startProc(b, filepath.Join(b.TempDir(), "data"))
	defer d.stop()
	benchJourneys(b, d)
	base, err := metric(d.addr, "journeys_statements_processed_total")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	cpu0, self0 := cpuSeconds(d.cmd.Process.Pid), selfCPUSeconds()
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(batch)) - batch
				if i >= n {
					return
				}
				if err := benchPost(client, d.addr, benchBody(i, min(batch, n-i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Decile marks: when the pipeline has processed each tenth.
	marks := make([]time.Time, 0, 10)
	maxRSS := 0.0
	for len(marks) < 10 {
		select {
		case err := <-errs:
			b.Fatal(err)
		case <-time.After(50 * time.Millisecond):
		}
		v, err := metric(d.addr, "journeys_statements_processed_total")
		if err != nil {
			b.Fatal(err)
		}
		maxRSS = max(maxRSS, rssMB(d.cmd.Process.Pid))
		for len(marks) < 10 && int(v-base) >= (len(marks)+1)*n/10 {
			marks = append(marks, time.Now())
		}
	}
	cpu := cpuSeconds(d.cmd.Process.Pid) - cpu0
	wg.Wait()
	self := selfCPUSeconds() - self0
	b.StopTimer()
	total := marks[9].Sub(start).Seconds()
	prev := start
	var first, last float64
	for k, m := range marks {
		rate := float64(n/10) / m.Sub(prev).Seconds()
		b.Logf("decile %d: %.0f statements/s", k+1, rate)
		if k == 0 {
			first = rate
		}
		last = rate
		prev = m
	}
	b.ReportMetric(float64(n)/total, "stmts/s")
	b.ReportMetric(first, "first-decile-stmts/s")
	b.ReportMetric(last, "last-decile-stmts/s")
	b.ReportMetric(last/first, "last/first")
	b.ReportMetric(cpu/float64(n)*1e6, "daemon-cpu-µs/stmt")
	b.ReportMetric(self/float64(n)*1e6, "loadgen-cpu-µs/stmt")
	b.ReportMetric(rssMB(d.cmd.Process.Pid), "rss-MiB-end")
	b.ReportMetric(maxRSS, "rss-MiB-max")
	du, _ := dirSize(filepath.Join(d.dataDir, "log"))
	b.ReportMetric(float64(du)/float64(n), "log-bytes/stmt")
}

// BenchmarkLogSinglePosts posts 20,000 single statements from 8 clients.
func BenchmarkLogSinglePosts(b *testing.B) {
	const n, clients = 20_000, 8
	d := startProc(b, filepath.Join(b.TempDir(), "data"))
	defer d.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				body := benchBody(i, 1)
				if err := benchPost(client, d.addr, body[1:len(body)-1]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "posts/s")
}

// dirSize returns the bytes of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}
