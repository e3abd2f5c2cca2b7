package ops

import (
	"github.com/cockroachdb/pebble"
	"github.com/prometheus/client_golang/prometheus"
)

// pebbleCollector exports the state store's health: how much disk it
// uses, whether compactions keep up (read amplification and compaction
// debt grow when they do not) and how many have run.
type pebbleCollector struct {
	metrics func() *pebble.Metrics

	disk, compactions, readAmp, debt *prometheus.Desc
}

func newPebbleCollector(metrics func() *pebble.Metrics) *pebbleCollector {
	return &pebbleCollector{
		metrics: metrics,
		disk: prometheus.NewDesc("journeys_pebble_disk_usage_bytes",
			"Disk space used by the state store: tables, write-ahead log, manifest, options and obsolete files not yet deleted.", nil, nil),
		compactions: prometheus.NewDesc("journeys_pebble_compactions_total",
			"Compactions the state store has run since it was opened.", nil, nil),
		readAmp: prometheus.NewDesc("journeys_pebble_read_amplification",
			"Sorted runs a point read may have to consult (L0 sublevels plus non-empty levels); sustained values above ~20 mean compactions lag behind writes.", nil, nil),
		debt: prometheus.NewDesc("journeys_pebble_compaction_debt_bytes",
			"Estimated bytes that must be compacted for the state store's LSM tree to reach a stable shape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *pebbleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.disk
	ch <- c.compactions
	ch <- c.readAmp
	ch <- c.debt
}

// Collect implements prometheus.Collector. It reads Pebble's metrics once
// per scrape (they are gathered under the database's locks).
func (c *pebbleCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.metrics()
	if m == nil {
		return
	}
	gauge(ch, c.disk, float64(m.DiskSpaceUsage()))
	counter(ch, c.compactions, uint64(max(m.Compact.Count, 0)))
	gauge(ch, c.readAmp, float64(m.ReadAmp()))
	gauge(ch, c.debt, float64(m.Compact.EstimatedDebt))
}
