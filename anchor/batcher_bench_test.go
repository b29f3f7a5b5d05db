package anchor_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunproof/sunproof/anchor"
)

// BenchmarkBatcherInterval measures one anchoring interval of the batcher
// itself (fake chain, manual clock): seal, prepare (wire files and manifest
// synced to disk), submit, mark, commit and index, for a span of readings
// of 100 devices on 4 partitions. It reports the time per interval and per
// anchored reading.
//
//	go test ./anchor -run '^$' -bench BatcherInterval -benchtime 10x
func BenchmarkBatcherInterval(b *testing.B) {
	for _, perDevice := range []int{15, 150} {
		b.Run(strconv.Itoa(100*perDevice)+"-readings", func(b *testing.B) {
			minute := time.Minute.Milliseconds()
			span := 15 * minute
			h := newHarness(b, 4, time.UnixMilli(t0).Add(time.Duration(span+3*minute)*time.Millisecond))
			h.start()
			// Iteration i produces the readings of span i+1 and advances
			// the clock by a span: the tick seals span i+1 (the wall-clock
			// watermark of caught-up partitions) and nothing later.
			var total time.Duration
			seq := uint64(0)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := t0 + int64(i+1)*span
				for r := range perDevice {
					seq++
					for d := 1; d <= 100; d++ {
						h.produce(d, seq, base+int64(r)*(span/int64(perDevice))+int64(d))
					}
				}
				h.waitConsumed()
				before := h.metric("sunproof_anchor_readings_anchored_total")
				b.StartTimer()
				start := time.Now()
				h.clock.Advance(b, time.Duration(span)*time.Millisecond)
				h.waitIdle()
				total += time.Since(start)
				b.StopTimer()
				if got := h.metric("sunproof_anchor_readings_anchored_total") - before; got != float64(100*perDevice) {
					b.Fatalf("anchored %v readings, want %d", got, 100*perDevice)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/interval")
			b.ReportMetric(float64(total.Nanoseconds())/1000/float64(b.N*100*perDevice), "µs/reading")
		})
	}
}

// BenchmarkIntegrationAnchorLatency measures reading → anchored latency on
// the local stack: each iteration writes one reading per device to Kafka
// (ts now) and waits until the store has every one anchored on geth
// (confirmed, receipt written). With 1 s spans, no lateness and a 100 ms
// interval the latency is about half a span, plus the wait for the next
// tick, plus a block.
//
//	go test ./anchor -run '^$' -bench IntegrationAnchorLatency -benchtime 20x
func BenchmarkIntegrationAnchorLatency(b *testing.B) {
	e := newITEnv(b, 4, 3)
	ctx := context.Background()
	sc := e.submitterConfig()
	sub, err := anchor.NewSubmitter(ctx, sc, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	storeDir := filepath.Join(b.TempDir(), "proofs")
	store, err := anchor.OpenStore(storeDir, anchor.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	cfg := e.batcherConfig()
	cfg.Span, cfg.Lateness, cfg.Interval = time.Second, 0, 100*time.Millisecond
	reg := prometheus.NewRegistry()
	bt, err := anchor.NewBatcher(cfg, store, sub, nil, reg)
	if err != nil {
		b.Fatal(err)
	}
	bctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- bt.Run(bctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	reader, err := anchor.OpenStore(storeDir, anchor.StoreOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	p := e.producer(b)
	var lat []time.Duration
	for b.Loop() {
		p.mu.Lock()
		p.rounds = 1 // no copies or late readings
		p.mu.Unlock()
		start := time.Now()
		p.round(b, ctx)
		for _, id := range e.devices {
			for {
				ok, err := reader.Anchored(id, p.seq[id])
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					break
				}
				if time.Since(start) > time.Minute {
					b.Fatalf("%s/%d not anchored after a minute", id, p.seq[id])
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(quantile(lat, 0.5).Seconds(), "s-p50/anchored")
	b.ReportMetric(quantile(lat, 0.95).Seconds(), "s-p95/anchored")
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "sunproof_anchor_interval_duration_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() > 0 {
				b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount()), "s/tick-to-receipt")
			}
		}
	}
}
