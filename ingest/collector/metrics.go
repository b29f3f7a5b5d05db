package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunproof/sunproof/ingest/reading"
)

type metrics struct {
	messages     *prometheus.CounterVec
	rejects      *prometheus.CounterVec
	batchSize    prometheus.Histogram
	writeSeconds prometheus.Histogram
	writeErrors  prometheus.Counter
	e2eAcks      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "ingest",
			Name: "messages_total", Help: "MQTT messages handled, by result (accepted, rejected, duplicate)."}, []string{"result"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "ingest",
			Name: "rejects_total", Help: "Rejected messages by reason (duplicates included)."}, []string{"reason"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "sunproof", Subsystem: "ingest",
			Name: "batch_size", Help: "Messages per Kafka write batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "sunproof", Subsystem: "ingest",
			Name: "kafka_write_seconds", Help: "Duration of Kafka writes.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "ingest",
			Name: "kafka_write_errors_total", Help: "Failed Kafka writes (each retried)."}),
		e2eAcks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "ingest",
			Name: "e2e_acks_total", Help: "End-to-end ack messages sent to devices."}),
	}
	for _, r := range reading.Reasons {
		m.rejects.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.rejects, m.batchSize, m.writeSeconds, m.writeErrors, m.e2eAcks)
	}
	return m
}
