package collector

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

type fakeProducer struct {
	mu    sync.Mutex
	msgs  []kafka.Message
	fails int // fail this many writes first
}

func (f *fakeProducer) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("broker unavailable")
	}
	f.msgs = append(f.msgs, msgs...)
	return nil
}

type fakeAcks struct{ got map[string][]ingest.Range }

func (f *fakeAcks) SendAck(dev string, a ingest.Ack) { f.got[dev] = append(f.got[dev], a.Ranges...) }

var (
	devKey   = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	otherKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	now      = time.Date(2026, 6, 21, 5, 0, 0, 0, time.UTC)
)

func testDevices() *devices.Static {
	mk := func(id string, key ed25519.PrivateKey) devices.Device {
		return devices.Device{ID: id, SiteID: "site-1", PublicKey: key.Public().(ed25519.PublicKey),
			KWp: 5, ACRatingW: 5000, Lat: 31.8, Lon: 117.2, TiltDeg: 25, AzimuthDeg: 180,
			GridRegion: "CN-East", Installer: "inst", Status: devices.StatusActive, CreatedAt: now, UpdatedAt: now}
	}
	off := mk("dev-off", devKey)
	off.Status = devices.StatusDisabled
	off.DisabledAt = now
	return devices.NewStatic(mk("dev-1", devKey), mk("dev-2", devKey), off)
}

func wire(t *testing.T, key ed25519.PrivateKey, edit func(r *reading.Reading)) []byte {
	t.Helper()
	r := reading.Reading{DeviceID: "dev-1", SiteID: "site-1", Seq: 10, TimeMS: now.Add(-time.Minute).UnixMilli(),
		Measurement: reading.Measurement{ACPowerW: 3000, EnergyWh: 1000, ACVoltageV: 230, FrequencyHz: 50,
			PowerFactor: 1, DCVoltageV: 300, DCCurrentA: 10.5, DCPowerW: 3150, TempC: 40, State: reading.StateMPPT}}
	edit(&r)
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	w, err := r.Wire()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func newTestProcessor(out producer, acks ackSender) *processor {
	cfg := DefaultConfig()
	cfg.RetryMax = time.Millisecond
	return &processor{cfg: cfg, log: discard(), devs: testDevices(), out: out, acks: acks,
		dedup: newDedup(cfg.DedupHorizon), metrics: newMetrics(nil), now: func() time.Time { return now }}
}

func msg(topic string, payload []byte, acked *int) message {
	return message{Topic: topic, Payload: payload, Received: now, Ack: func() { *acked++ }}
}

// TestRejectReasons sends one message per rejection reason through a
// processor that already stored dev-1 seq 10 (energy 1000 Wh).
func TestRejectReasons(t *testing.T) {
	same := func(r *reading.Reading) {}
	cases := []struct {
		desc    string
		topic   string
		payload []byte
		want    reading.Reason // "" = accepted
		e2eAck  bool
	}{
		{"valid next seq", ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) { r.Seq, r.EnergyWh = 11, 1001 }), "", true},
		{"oversized", ingest.ReadingsTopic("dev-1"), make([]byte, 1000), reading.ReasonOversized, false},
		{"malformed", ingest.ReadingsTopic("dev-1"), []byte("{\"json\":true}"), reading.ReasonMalformed, false},
		{"schema", ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) { r.Seq, r.State = 12, 42 }), reading.ReasonSchema, true},
		{"implausible", ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) { r.Seq, r.ACPowerW = 13, 9000 }), reading.ReasonImplausible, true},
		{"future", ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) { r.Seq, r.TimeMS = 14, now.Add(time.Hour).UnixMilli() }), reading.ReasonFutureTimestamp, true},
		{"bad signature", ingest.ReadingsTopic("dev-1"), wire(t, otherKey, func(r *reading.Reading) { r.Seq = 15 }), reading.ReasonBadSignature, true},
		{"unknown device", ingest.ReadingsTopic("ghost"), wire(t, devKey, func(r *reading.Reading) { r.DeviceID = "ghost" }), reading.ReasonUnknownDevice, false},
		{"disabled device", ingest.ReadingsTopic("dev-off"), wire(t, devKey, func(r *reading.Reading) { r.DeviceID = "dev-off" }), reading.ReasonDisabledDevice, true},
		{"topic mismatch", ingest.ReadingsTopic("dev-2"), wire(t, devKey, func(r *reading.Reading) { r.Seq = 16 }), reading.ReasonTopicMismatch, true},
		{"site mismatch", ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) { r.Seq, r.SiteID = 17, "site-9" }), reading.ReasonSiteMismatch, true},
		{"counter regression", ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) { r.Seq, r.EnergyWh = 18, 999 }), reading.ReasonCounterRegression, true},
		{"duplicate", ingest.ReadingsTopic("dev-1"), wire(t, devKey, same), reading.ReasonDuplicate, true},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			out := &fakeProducer{}
			acks := &fakeAcks{got: map[string][]ingest.Range{}}
			p := newTestProcessor(out, acks)
			var acked int
			// Seed: dev-1 seq 10 with 1000 Wh is stored.
			if err := p.process(context.Background(), []message{msg(ingest.ReadingsTopic("dev-1"), wire(t, devKey, same), &acked)}); err != nil {
				t.Fatal(err)
			}
			out.msgs, acks.got = nil, map[string][]ingest.Range{}
			if err := p.process(context.Background(), []message{msg(tc.topic, tc.payload, &acked)}); err != nil {
				t.Fatal(err)
			}
			if acked != 2 {
				t.Fatalf("%d MQTT acks, want 2 (every message is acked once handled)", acked)
			}
			switch {
			case tc.want == "":
				if len(out.msgs) != 1 || out.msgs[0].Topic != ingest.TopicReadings || !bytes.Equal(out.msgs[0].Value, tc.payload) {
					t.Fatalf("want the payload in %s, got %+v", ingest.TopicReadings, out.msgs)
				}
			case tc.want == reading.ReasonDuplicate:
				if len(out.msgs) != 0 {
					t.Fatalf("duplicate written to kafka: %+v", out.msgs)
				}
			default:
				if len(out.msgs) != 1 || out.msgs[0].Topic != ingest.TopicRejects {
					t.Fatalf("want one reject record, got %+v", out.msgs)
				}
				var rec ingest.RejectRecord
				if err := json.Unmarshal(out.msgs[0].Value, &rec); err != nil {
					t.Fatal(err)
				}
				if rec.Reason != string(tc.want) || !bytes.Equal(rec.Payload, tc.payload) || rec.Detail == "" {
					t.Fatalf("reject record %+v, want reason %q with the original payload and a detail", rec, tc.want)
				}
			}
			if got := len(acks.got) > 0; got != tc.e2eAck {
				t.Fatalf("e2e ack sent = %v, want %v (%v)", got, tc.e2eAck, acks.got)
			}
		})
	}
}

// TestWriteFailureKeepsDedupState: a failed write must not turn the
// redelivery into a duplicate, and nothing is acked before the write.
func TestWriteFailureKeepsDedupState(t *testing.T) {
	out := &fakeProducer{fails: 2}
	acks := &fakeAcks{got: map[string][]ingest.Range{}}
	p := newTestProcessor(out, acks)
	var acked int
	m := msg(ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(*reading.Reading) {}), &acked)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.process(ctx, []message{m}); err == nil {
		t.Fatal("process succeeded with a failing producer and a cancelled context")
	}
	if acked != 0 || len(acks.got) != 0 {
		t.Fatalf("acked %d / e2e %v before a successful write", acked, acks.got)
	}
	// Redelivery: retried until the producer recovers, then stored (not a duplicate).
	if err := p.process(context.Background(), []message{m}); err != nil {
		t.Fatal(err)
	}
	if len(out.msgs) != 1 || out.msgs[0].Topic != ingest.TopicReadings {
		t.Fatalf("redelivered reading not stored: %+v", out.msgs)
	}
	if acked != 1 || len(acks.got["dev-1"]) != 1 {
		t.Fatalf("acked %d, e2e %v", acked, acks.got)
	}
}

func TestBatchDedupAndAckRanges(t *testing.T) {
	out := &fakeProducer{}
	acks := &fakeAcks{got: map[string][]ingest.Range{}}
	p := newTestProcessor(out, acks)
	var acked int
	var batch []message
	for _, seq := range []uint64{1, 2, 3, 3, 5} {
		batch = append(batch, msg(ingest.ReadingsTopic("dev-1"), wire(t, devKey, func(r *reading.Reading) {
			r.Seq, r.EnergyWh = seq, 100*seq
		}), &acked))
	}
	if err := p.process(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if len(out.msgs) != 4 {
		t.Fatalf("%d messages written, want 4 (one duplicate dropped)", len(out.msgs))
	}
	want := []ingest.Range{{From: 1, To: 3}, {From: 5, To: 5}}
	if got := acks.got["dev-1"]; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ack ranges %v, want %v", got, want)
	}
}

// BenchmarkProcess measures the collector's CPU cost per reading (decode,
// checks, Ed25519 verify, dedup, Kafka message building) with a producer
// that does nothing. Readings are signed before the timer starts.
//
//	go test -run '^$' -bench Process -benchtime 20x ./ingest/collector/
func BenchmarkProcess(b *testing.B) {
	p := newTestProcessor(&nopProducer{}, &fakeAcks{got: map[string][]ingest.Range{}})
	const size = 1000
	batches := make([][]message, b.N)
	seq := uint64(0)
	for n := range batches {
		batch := make([]message, size)
		for i := range batch {
			seq++
			r := reading.Reading{DeviceID: "dev-1", SiteID: "site-1", Seq: seq, TimeMS: now.UnixMilli() - 1000,
				Measurement: reading.Measurement{ACPowerW: 3000, EnergyWh: seq, FrequencyHz: 50, PowerFactor: 1, State: reading.StateMPPT}}
			_ = r.Sign(devKey)
			w, _ := r.Wire()
			batch[i] = message{Topic: "pv/dev-1/readings", Payload: w, Ack: func() {}}
		}
		batches[n] = batch
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		if err := p.process(context.Background(), batches[n]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "readings/s")
}

type nopProducer struct{}

func (nopProducer) WriteMessages(context.Context, ...kafka.Message) error { return nil }
