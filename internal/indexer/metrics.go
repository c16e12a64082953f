package indexer

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/seeds"
)

// Metrics are the indexer's Prometheus metrics. Build records reads, skips
// and what it published; a Scheduler records each attempt's result.
type Metrics struct {
	rowsRead       prometheus.Counter
	rowsSkipped    *prometheus.CounterVec
	builds         *prometheus.CounterVec
	duration       prometheus.Histogram
	lastDuration   prometheus.Gauge
	lastRate       prometheus.Gauge
	lastSuccess    prometheus.Gauge
	generation     prometheus.Gauge
	seedBytes      *prometheus.GaugeVec
	seedBusinesses *prometheus.GaugeVec
	leader         prometheus.Gauge
}

// NewMetrics returns the indexer's metrics, registered on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rowsRead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nearby_indexer_rows_read_total", Help: "Businesses read from the source, skipped ones included.",
		}),
		rowsSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nearby_indexer_rows_skipped_total", Help: "Businesses skipped as impossible, by reason (id, coordinates, category, name, price, rating).",
		}, []string{"reason"}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nearby_indexer_builds_total", Help: "Scheduled build attempts by result: ok, error, or standby (another indexer leads).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nearby_indexer_build_duration_seconds", Help: "Duration of successful builds, from the first row read to the manifest published.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16), // 50 ms to ~27 min
		}),
		lastDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nearby_indexer_last_build_duration_seconds", Help: "Duration of the last successful build.",
		}),
		lastRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nearby_indexer_last_build_rows_per_second", Help: "Businesses per second of the last successful build, end to end.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nearby_indexer_last_success_timestamp_seconds", Help: "When the last successful build published its manifest (Unix seconds).",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nearby_indexer_manifest_generation", Help: "Generation of the manifest last published.",
		}),
		seedBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nearby_indexer_seed_bytes", Help: "Size of each region's published seed file.",
		}, []string{"region"}),
		seedBusinesses: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nearby_indexer_seed_businesses", Help: "Businesses in each region's published seed.",
		}, []string{"region"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nearby_indexer_leader", Help: "1 while this indexer holds the publishing lock, else 0.",
		}),
	}
	reg.MustRegister(m.rowsRead, m.rowsSkipped, m.builds, m.duration, m.lastDuration, m.lastRate, m.lastSuccess,
		m.generation, m.seedBytes, m.seedBusinesses, m.leader)
	for _, r := range []string{"ok", "error", "standby"} {
		m.builds.WithLabelValues(r) // export zeros, so rates work from the start
	}
	for _, r := range []string{"id", "coordinates", "category", "name", "price", "rating"} {
		m.rowsSkipped.WithLabelValues(r)
	}
	return m
}

// published records a successful build.
func (m *Metrics) published(man seeds.Manifest, res Result) {
	m.duration.Observe(res.Took.Seconds())
	m.lastDuration.Set(res.Took.Seconds())
	if s := res.Took.Seconds(); s > 0 {
		m.lastRate.Set(float64(res.Rows) / s)
	}
	m.lastSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
	m.generation.Set(float64(man.Generation))
	m.seedBytes.Reset()
	m.seedBusinesses.Reset()
	for _, r := range man.Regions {
		m.seedBytes.WithLabelValues(r.Name).Set(float64(r.Bytes))
		m.seedBusinesses.WithLabelValues(r.Name).Set(float64(r.Count))
	}
}
