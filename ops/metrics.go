package ops

import (
	"net/http"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/dispatch"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/source"
)

// Sources are the parts of a daemon whose statistics Metrics exports. Every
// field may be nil: the metrics of a missing part are left out of the
// scrape rather than exported as zeros that would look like real values.
type Sources struct {
	// Engine holds the statement counters, usually
	// (*processor.Pipeline).Engine().Stats().
	Engine *processor.Stats
	// Pipeline holds the stream position, commit and recalculation figures,
	// usually (*processor.Pipeline).Stats(). NewMetrics sets its
	// CommitDuration hook, so it must be called before the pipeline runs.
	Pipeline *processor.PipelineStats
	// Ready reports whether the pipeline is running on a live change
	// stream (nil error), usually (*processor.Pipeline).Ready.
	Ready func() error
	// Stream returns the change stream's counters, usually those of the
	// pipeline's current source.Source.
	Stream func() source.Stats
	// Dispatcher holds the callback dispatcher's counters and outbox
	// figures. NewMetrics sets its Stats().AttemptDuration hook, so it must
	// be called before the dispatcher runs.
	Dispatcher *dispatch.Dispatcher
	// Pebble returns the state store's Pebble metrics, usually
	// (*state.Store).Metrics; a nil result (the store is closed) exports
	// nothing.
	Pebble func() *pebble.Metrics
	// Limits counts the journey saves refused by a size limit, usually
	// the one given to httpapi.Config.LimitStats.
	Limits *journey.LimitStats
	// Now is the wall clock that ages are measured against; nil means
	// time.Now.
	Now func() time.Time
}

// Metrics is one daemon's Prometheus metrics: a registry holding the
// collectors of journeysd's parts and the Go runtime and process
// collectors, and the HTTP handler that serves it. Create it with
// NewMetrics.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
}

// NewMetrics returns the metrics of the parts in src, registered on a new
// registry. It sets src.Pipeline.CommitDuration and
// src.Dispatcher.Stats().AttemptDuration (for those not nil) to observe
// their histograms, and so must be called before the pipeline and the
// dispatcher start running.
func NewMetrics(src Sources) *Metrics {
	if src.Now == nil {
		src.Now = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if src.Engine != nil {
		reg.MustRegister(newEngineCollector(src.Engine))
	}
	if src.Pipeline != nil {
		commits := newCommitHistogram()
		reg.MustRegister(commits, newPipelineCollector(src.Pipeline, src.Now))
		src.Pipeline.CommitDuration = commits.Observe
	}
	if src.Ready != nil {
		reg.MustRegister(newReadyGauge(src.Ready))
	}
	if src.Stream != nil {
		reg.MustRegister(newStreamCollector(src.Stream))
	}
	if src.Dispatcher != nil {
		attempts := newAttemptHistogram()
		reg.MustRegister(attempts, newDispatchCollector(src.Dispatcher))
		src.Dispatcher.Stats().AttemptDuration = attempts.Observe
	}
	if src.Pebble != nil {
		reg.MustRegister(newPebbleCollector(src.Pebble))
	}
	if src.Limits != nil {
		reg.MustRegister(newLimitsCollector(src.Limits))
	}
	// ContinueOnError: one failing collector (say, the process collector
	// on a platform without /proc) must not blank the whole scrape.
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg,
		ErrorHandling: promhttp.ContinueOnError,
	})
	return &Metrics{reg: reg, handler: promhttp.InstrumentMetricHandler(reg, h)}
}

// Registry returns the registry, for tests that gather from it directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler returns the handler that serves the registry in the Prometheus
// exposition formats, at /metrics. It counts its own scrapes in
// promhttp_metric_handler_requests_total.
func (m *Metrics) Handler() http.Handler { return m.handler }
