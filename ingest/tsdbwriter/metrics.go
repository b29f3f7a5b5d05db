package tsdbwriter

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	points       prometheus.Counter
	rejects      prometheus.Counter
	writeSeconds prometheus.Histogram
	writeErrors  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		points: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "tsdb",
			Name: "points_total", Help: "Points InfluxDB accepted."}),
		rejects: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "tsdb",
			Name: "rejects_total", Help: "Records reported to the rejects topic."}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "sunproof", Subsystem: "tsdb",
			Name: "write_seconds", Help: "Duration of InfluxDB writes.", Buckets: prometheus.ExponentialBuckets(0.002, 2, 14)}),
		writeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "tsdb",
			Name: "write_errors_total", Help: "Failed InfluxDB writes by kind (transient, permanent)."}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.points, m.rejects, m.writeSeconds, m.writeErrors)
	}
	return m
}
