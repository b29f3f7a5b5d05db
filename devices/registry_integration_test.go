package devices

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Integration tests run against the local stack (scripts/stack.sh up). They
// are skipped with -short (make test-unit); otherwise an unreachable server
// fails them: they never skip or pass silently.

// integrationBrokers returns SUNPROOF_KAFKA_BROKERS (default 127.0.0.1:9092)
// after checking that a broker accepts connections.
func integrationBrokers(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test against Kafka: skipped with -short")
	}
	env := os.Getenv("SUNPROOF_KAFKA_BROKERS")
	if env == "" {
		env = "127.0.0.1:9092"
	}
	brokers := strings.Split(env, ",")
	var errs []error
	for _, b := range brokers {
		c, err := net.DialTimeout("tcp", b, 3*time.Second)
		if err == nil {
			c.Close()
			return brokers
		}
		errs = append(errs, err)
	}
	t.Fatalf("Kafka unreachable at SUNPROOF_KAFKA_BROKERS=%s: %v (start it with scripts/stack.sh up, or run go test -short to skip integration tests)",
		env, errors.Join(errs...))
	return nil
}

// testTopic returns a fresh topic name and deletes the topic at the end of
// the test.
func testTopic(t *testing.T, brokers []string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	topic := "pv.devices.test." + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := newClient(brokers).DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
		if err == nil {
			err = res.Errors[topic]
		}
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			t.Errorf("delete topic %s: %v", topic, err)
		}
	})
	return topic
}

func testLogger(t *testing.T, name string) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("registry", name)
	}
	return slog.New(slog.DiscardHandler)
}

type runningRegistry struct {
	*Registry
	reg  *prometheus.Registry
	errc chan error
}

func startRegistry(ctx context.Context, t *testing.T, brokers []string, topic, name string) *runningRegistry {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := NewRegistry(Config{Brokers: brokers, Topic: topic}, testLogger(t, name), reg)
	if err != nil {
		t.Fatal(err)
	}
	rr := &runningRegistry{Registry: r, reg: reg, errc: make(chan error, 1)}
	go func() { rr.errc <- r.Run(ctx) }()
	return rr
}

// eventually polls cond every 50 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestIntegrationRegistryKafka(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := testTopic(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if err := EnsureTopic(ctx, brokers, topic); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if err := EnsureTopic(ctx, brokers, topic); err != nil {
		t.Fatalf("EnsureTopic on an existing topic: %v", err)
	}
	st, err := checkTopic(ctx, newClient(brokers), topic)
	if err != nil || !st.compacted {
		t.Fatalf("checkTopic after EnsureTopic = %+v, %v; want compacted", st, err)
	}

	pub := NewPublisher(brokers, topic)
	defer pub.Close()
	site := validSite("site-it")
	devs := []Device{validDevice("inv-it-1"), validDevice("inv-it-2"), validDevice("inv-it-3")}
	for i := range devs {
		devs[i].SiteID = site.ID
		devs[i].PublicKey = testKey(byte(10 + i))
	}
	if err := pub.PutSite(ctx, site); err != nil {
		t.Fatalf("PutSite: %v", err)
	}
	for _, d := range devs {
		if err := pub.PutDevice(ctx, d); err != nil {
			t.Fatalf("PutDevice(%s): %v", d.ID, err)
		}
	}
	// The first version of inv-it-3 is replaced before any registry starts.
	devs[2].KWp = 42
	if err := pub.PutDevice(ctx, devs[2]); err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	regs := []*runningRegistry{
		startRegistry(runCtx, t, brokers, topic, "a"),
		startRegistry(runCtx, t, brokers, topic, "b"),
	}
	for i, r := range regs {
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.WaitReady(wctx)
		wcancel()
		if err != nil {
			t.Fatalf("registry %d WaitReady: %v", i, err)
		}
	}
	for i, r := range regs {
		for _, want := range devs {
			got, err := r.Device(want.ID)
			if err != nil {
				t.Fatalf("registry %d Device(%s): %v", i, want.ID, err)
			}
			if !deviceEqual(got, want) {
				t.Errorf("registry %d Device(%s) = %+v, want %+v", i, want.ID, got, want)
			}
		}
		if got, err := r.Site(site.ID); err != nil || got.Name != site.Name {
			t.Errorf("registry %d Site = %+v, %v", i, got, err)
		}
		if got := len(r.Devices()); got != 3 {
			t.Errorf("registry %d has %d devices, want 3", i, got)
		}
		if got := metricValue(t, r.reg, "sunproof_devices_known"); got != 3 {
			t.Errorf("registry %d known = %v, want 3", i, got)
		}
		if got := metricValue(t, r.reg, "sunproof_devices_records_total", "kind", "device"); got != 4 {
			t.Errorf("registry %d records{device} = %v, want 4", i, got)
		}
	}

	// Changes while the registries run: disable one device, add one, and
	// write a record that does not decode (counted, not fatal).
	raw := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: partitionZero{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer raw.Close()
	if err := raw.WriteMessages(ctx, kafka.Message{Key: []byte("device/inv-it-1"), Value: []byte("not json")}); err != nil {
		t.Fatalf("write garbage record: %v", err)
	}
	disabledAt := t0.Add(24 * time.Hour)
	if err := pub.PutDevice(ctx, devs[1].AsDisabled(disabledAt)); err != nil {
		t.Fatalf("disable: %v", err)
	}
	added := validDevice("inv-it-4")
	added.SiteID = site.ID
	if err := pub.PutDevice(ctx, added); err != nil {
		t.Fatalf("add: %v", err)
	}
	changed := time.Now()
	for i, r := range regs {
		ok := eventually(5*time.Second, func() bool {
			d, err := r.Device(devs[1].ID)
			_, errAdded := r.Device(added.ID)
			return errors.Is(err, ErrDisabled) && d.DisabledAt.Equal(disabledAt) && errAdded == nil
		})
		if !ok {
			d, err := r.Device(devs[1].ID)
			t.Fatalf("registry %d did not see the changes within 5s: Device(%s) = %+v, %v", i, devs[1].ID, d, err)
		}
		t.Logf("registry %d saw the changes after %v", i, time.Since(changed).Round(time.Millisecond))
		if _, err := r.Device(devs[0].ID); err != nil {
			t.Errorf("registry %d: %s after a garbage record: %v", i, devs[0].ID, err)
		}
		if got := metricValue(t, r.reg, "sunproof_devices_decode_errors_total"); got != 1 {
			t.Errorf("registry %d decode errors = %v, want 1", i, got)
		}
		if got := metricValue(t, r.reg, "sunproof_devices_known"); got != 4 {
			t.Errorf("registry %d known = %v, want 4", i, got)
		}
	}

	// A registry started now replays the whole history to the same state.
	late := startRegistry(runCtx, t, brokers, topic, "late")
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := late.WaitReady(wctx); err != nil {
		t.Fatalf("late WaitReady: %v", err)
	}
	if _, err := late.Device(devs[1].ID); !errors.Is(err, ErrDisabled) {
		t.Errorf("late registry Device(%s) = %v, want ErrDisabled", devs[1].ID, err)
	}
	if got := len(late.Devices()); got != 4 {
		t.Errorf("late registry has %d devices, want 4", got)
	}

	stop()
	for i, r := range append(regs, late) {
		select {
		case err := <-r.errc:
			if err != nil {
				t.Errorf("registry %d Run = %v, want nil after cancel", i, err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("registry %d Run did not return after cancel", i)
		}
	}
}

func TestIntegrationEnsureTopicRejectsMisconfigured(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := testTopic(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := newClient(brokers).CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 3, ReplicationFactor: -1}},
	})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if err := EnsureTopic(ctx, brokers, topic); !errors.Is(err, ErrTopicConfig) {
		t.Errorf("EnsureTopic on a 3-partition topic = %v, want ErrTopicConfig", err)
	}
	r, err := NewRegistry(Config{Brokers: brokers, Topic: topic}, testLogger(t, "bad"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx); !errors.Is(err, ErrTopicConfig) {
		t.Errorf("Run on a 3-partition topic = %v, want ErrTopicConfig", err)
	}
}

func TestIntegrationRegistryWaitsForTopic(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := testTopic(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	r := startRegistry(ctx, t, brokers, topic, "early")
	time.Sleep(500 * time.Millisecond)
	if r.Ready() {
		t.Fatal("registry ready before its topic exists")
	}
	if err := EnsureTopic(ctx, brokers, topic); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	pub := NewPublisher(brokers, topic)
	defer pub.Close()
	if err := pub.PutDevice(ctx, validDevice("inv-late")); err != nil {
		t.Fatalf("PutDevice: %v", err)
	}
	start := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := r.WaitReady(wctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if !eventually(10*time.Second, func() bool { _, err := r.Device("inv-late"); return err == nil }) {
		t.Fatal("device published after the topic was created never appeared")
	}
	t.Logf("ready and up to date %v after the topic was created", time.Since(start).Round(time.Millisecond))
	cancel()
	if err := <-r.errc; err != nil {
		t.Errorf("Run = %v", err)
	}
}
