// Package ops is journeysd's operational surface: its Prometheus metrics,
// and, in sub-directories, the deployment assets that rely on them (a
// Kubernetes example, Prometheus scrape configuration and alert rules, a
// Grafana dashboard). METRICS.md beside this file documents every metric
// and label.
//
// # Metrics are read, not pushed
//
// The engine, the pipeline and the callback dispatcher already count what
// they do in atomic fields (processor.Stats, processor.PipelineStats,
// dispatch.Stats). Metrics registers collectors that load those fields when
// Prometheus scrapes, so the per-statement hot path pays for one atomic add
// and nothing else: no metric lookups, no label hashing, no locks, and no
// package but this one knows a metric name. Only the two histograms are
// observed as things happen, through hooks the parts call: the commit
// duration once per batch commit (PipelineStats.CommitDuration) and the
// callback attempt duration once per attempt (dispatch.Stats.AttemptDuration).
//
// # One registry per daemon
//
// Metrics owns its own prometheus.Registry rather than using the client
// library's default one, so that tests can run several daemons in one
// process and nothing registered by an imported package leaks into the
// scrape.
//
// # Bounded cardinality
//
// No label takes a value derived from data (journeys, learners, URLs,
// organisations): every label value is one of a fixed set named in
// METRICS.md, so the number of series is constant whatever the LRS holds.
package ops
