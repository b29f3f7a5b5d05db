package agent

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	sampled, published, acks, resends, connects, sourceErrors, queueFull, corrupt prometheus.Counter
	queueLen, queueBytes                                                          prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "agent", Name: name, Help: help})
	}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "sunproof", Subsystem: "agent", Name: name, Help: help})
	}
	m := &metrics{
		sampled:      c("readings_sampled_total", "Readings read, signed and queued."),
		published:    c("publishes_total", "MQTT publishes, resends included."),
		acks:         c("e2e_acks_total", "End-to-end ack messages received."),
		resends:      c("resend_rounds_total", "Times publishing restarted from the first unacked seq after AckTimeout."),
		connects:     c("mqtt_connects_total", "MQTT (re)connections."),
		sourceErrors: c("source_errors_total", "Failed inverter reads."),
		queueFull:    c("queue_full_total", "Readings not taken because the disk queue was full."),
		corrupt:      c("queue_corrupt_total", "Queued readings skipped because they rotted on disk."),
		queueLen:     g("queue_readings", "Readings in the disk queue (unacked)."),
		queueBytes:   g("queue_bytes", "Bytes of queue segment files."),
	}
	if reg != nil {
		reg.MustRegister(m.sampled, m.published, m.acks, m.resends, m.connects, m.sourceErrors, m.queueFull, m.corrupt, m.queueLen, m.queueBytes)
	}
	return m
}
