package anomaly

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationRejectSource writes reject records to a real Kafka topic
// (two partitions): records older than Replay are not replayed, recent
// ones are, records written while the source runs arrive, and a restarted
// source rebuilds the same contents from the topic.
func TestIntegrationRejectSource(t *testing.T) {
	env := teststack.Require(t, teststack.Kafka)
	topic := "it." + teststack.RunID() + ".rejects"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := kafkatopic.Ensure(ctx, env.Brokers, kafkatopic.Spec{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := &kafka.Client{Addr: kafka.TCP(env.Brokers...)}
		_, _ = c.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	w := &kafka.Writer{Addr: kafka.TCP(env.Brokers...), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	now := time.Now()
	msg := func(dev string, seq uint64, reason reading.Reason, at time.Time) kafka.Message {
		r := rejReading(t, dev, seq, seq, rejKey(dev))
		return kafka.Message{Key: []byte(dev), Value: rejRecord(t, r, reason, "collector", true, true), Time: at}
	}
	// Three hours ago (outside a 1 h replay), then recent ones.
	if err := w.WriteMessages(ctx,
		msg("d1", 1, reading.ReasonCounterRegression, now.Add(-3*time.Hour)),
		msg("d2", 1, reading.ReasonCounterRegression, now.Add(-3*time.Hour)),
	); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMessages(ctx,
		msg("d1", 2, reading.ReasonCounterRegression, now.Add(-10*time.Minute)),
		msg("d2", 2, reading.ReasonImplausible, now.Add(-10*time.Minute)),
		msg("d2", 3, reading.ReasonBadSignature, now.Add(-10*time.Minute)),     // not a value reason
		msg("d1", 2, reading.ReasonCounterRegression, now.Add(-5*time.Minute)), // the same reading again
	); err != nil {
		t.Fatal(err)
	}

	cfg := DefaultRejectConfig()
	cfg.Brokers, cfg.Topic, cfg.Replay = env.Brokers, topic, time.Hour
	start := func() (*RejectSource, func()) {
		s, err := NewRejectSource(cfg, devices.NewStatic(rejDevice("d1"), rejDevice("d2")), RejectOptions{Log: rejTestLog(t)})
		if err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := s.Run(rctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
		if err := s.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
		return s, func() { rcancel(); wg.Wait() }
	}
	held := func(s *RejectSource) map[string][]uint64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := map[string][]uint64{}
		for dev, rs := range s.byDev {
			for _, k := range rs {
				out[dev] = append(out[dev], k.s.Seq)
			}
		}
		return out
	}
	check := func(s *RejectSource, want map[string][]uint64) {
		t.Helper()
		got := held(s)
		if len(got) != len(want) {
			t.Errorf("held %v, want %v", got, want)
			return
		}
		for dev, w := range want {
			g := got[dev]
			if len(g) != len(w) {
				t.Errorf("%s: held %v, want %v", dev, g, w)
				continue
			}
			for i := range w {
				if g[i] != w[i] {
					t.Errorf("%s: held %v, want %v", dev, g, w)
					break
				}
			}
		}
	}

	s, stop := start()
	check(s, map[string][]uint64{"d1": {2}, "d2": {2}})

	// While running.
	if err := w.WriteMessages(ctx, msg("d1", 5, reading.ReasonCounterRegression, time.Time{})); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	check(s, map[string][]uint64{"d1": {2, 5}, "d2": {2}})
	stop()

	// A restart rebuilds the same contents from the topic.
	s2, stop2 := start()
	defer stop2()
	check(s2, map[string][]uint64{"d1": {2, 5}, "d2": {2}})

	// An empty replay window starts at the end.
	cfg.Replay = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	s3, stop3 := start()
	defer stop3()
	check(s3, map[string][]uint64{})
}

func rejTestLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}
