package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/ingest/collector"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/teststack"
)

// Child process roles: the crash tests re-execute this test binary as a
// collector or a fleet of agents, so that they can kill -9 it.
const roleEnv = "SUNPROOF_E2E_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "collector":
		os.Exit(childCollector())
	case "agents":
		os.Exit(childAgents())
	}
	os.Exit(m.Run())
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// stack is one test's view of the local stack plus its private names.
type stack struct {
	env   teststack.Env
	names Names
}

func setup(t *testing.T, ndev int) *stack {
	t.Helper()
	env := teststack.Require(t, teststack.MQTT, teststack.Kafka, teststack.Influx)
	s := &stack{env: env, names: NewNames(teststack.RunID())}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+s.names.DB); err != nil {
		t.Fatal(err)
	}
	if err := Provision(ctx, env.Brokers, s.names, ndev); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		DropSessions(s.mqttURL(), CollectorClientIDs(s.names)...)
		_, _ = teststack.InfluxQL(ctx, env.InfluxURL, "", "DROP DATABASE "+s.names.DB)
		c := &kafka.Client{Addr: kafka.TCP(env.Brokers...)}
		_, _ = c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{s.names.Readings, s.names.Rejects, s.names.Devices}})
	})
	return s
}

func (s *stack) mqttURL() string { return s.env.MQTTURL }

func (s *stack) query(ctx context.Context, db, q string) ([]byte, error) {
	return teststack.InfluxQL(ctx, s.env.InfluxURL, db, q)
}

// runService runs fn in the background until the test ends.
func runService(t *testing.T, name string, fn func(ctx context.Context) error) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("%s did not stop within 30 s", name)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// startRegistry runs a registry on the run's devices topic until it is ready.
func (s *stack) startRegistry(t *testing.T) *devices.Registry {
	reg, err := devices.NewRegistry(devices.Config{Brokers: s.env.Brokers, Topic: s.names.Devices}, testLog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	runService(t, "registry", reg.Run)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := reg.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return reg
}

func (s *stack) startCollector(t *testing.T, reg *devices.Registry, mqttURL string) {
	col, err := collector.New(CollectorConfig(s.names, mqttURL, s.env.Brokers), reg, testLog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	runService(t, "collector", col.Run)
}

func (s *stack) startWriter(t *testing.T) {
	w, err := tsdbwriter.New(WriterConfig(s.names, s.env.InfluxURL, s.env.Brokers), testLog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	runService(t, "tsdb writer", w.Run)
}

// fleet is a set of in-process agents.
type fleet struct {
	agents []*agent.Agent
	stop   context.CancelFunc // stops every agent and waits for them
}

// newFleet creates agents 0..n-1 and queues perDevice readings each, one
// every 10 s of event time ending now.
func (s *stack) newFleet(t *testing.T, n, perDevice int, mqttURL, dir string) *fleet {
	f := &fleet{}
	end := time.Now().Add(-time.Second).Truncate(10 * time.Second)
	for i := range n {
		// The pre-generated backlog need not be fsynced reading by reading;
		// the agent kill -9 test uses the default policy ("always").
		a, err := NewAgent(s.names, i, mqttURL, dir, testLog(t), func(c *agent.Config) { c.Queue.Fsync = "interval" })
		if err != nil {
			t.Fatal(err)
		}
		for k := range perDevice {
			if err := a.SampleAt(end.Add(time.Duration(k-perDevice) * 10 * time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		f.agents = append(f.agents, a)
	}
	return f
}

func (f *fleet) start(t *testing.T) {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for i, a := range f.agents {
		wg.Go(func() {
			if err := a.RunPublisher(ctx); err != nil {
				t.Errorf("agent %d: %v", i, err)
			}
		})
	}
	var once sync.Once
	f.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(f.stop)
}

// acked returns how many readings are acked end to end and how many exist.
func (f *fleet) acked() (acked, total uint64) {
	for _, a := range f.agents {
		acked += a.Queue().AckedThrough()
		total += a.Queue().LastSeq()
	}
	return
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, status := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (f *fleet) waitAllAcked(t *testing.T, timeout time.Duration) {
	waitFor(t, "every reading acked end to end", timeout, func() (bool, string) {
		a, n := f.acked()
		return a == n, fmt.Sprintf("%d of %d acked", a, n)
	})
}

// checkExactlyOnce waits until InfluxDB holds want[device] points for every
// device and checks there is no duplicate and no stranger.
func (s *stack) checkExactlyOnce(t *testing.T, want map[string]int, timeout time.Duration) {
	t.Helper()
	total := 0
	for _, n := range want {
		total += n
	}
	var got map[string][2]int
	waitFor(t, "every reading in InfluxDB", timeout, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		got, err = Counts(ctx, s.query, s.names.DB)
		if err != nil {
			return false, err.Error()
		}
		sum := 0
		for _, c := range got {
			sum += c[0]
		}
		return sum >= total, fmt.Sprintf("%d of %d points", sum, total)
	})
	t.Logf("%d points in InfluxDB", total)
	for dev, n := range want {
		if c := got[dev]; c[0] != n || c[1] != n {
			t.Errorf("device %s: %d points, %d distinct seqs; want %d of each", dev, c[0], c[1], n)
		}
	}
	for dev := range got {
		if _, ok := want[dev]; !ok {
			t.Errorf("unexpected device %s in InfluxDB", dev)
		}
	}
}

func (f *fleet) expected(s *stack) map[string]int {
	want := map[string]int{}
	for i, a := range f.agents {
		want[s.names.DeviceID(i)] = int(a.Queue().LastSeq())
	}
	return want
}

// TestIntegrationEndToEnd: 200 devices × 50 readings through the real
// stack arrive in InfluxDB exactly once; bad messages land in the rejects
// topic with their reasons.
func TestIntegrationEndToEnd(t *testing.T) {
	const devicesN, perDevice = 200, 50
	s := setup(t, devicesN+1)
	reg := s.startRegistry(t)
	s.startCollector(t, reg, s.mqttURL())
	s.startWriter(t)
	f := s.newFleet(t, devicesN, perDevice, s.mqttURL(), t.TempDir())
	start := time.Now()
	f.start(t)

	// Bad traffic next to the good: garbage, a forged signature, a stranger.
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(s.mqttURL()).SetClientID("it-" + s.names.Run + "-bad"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	forged := reading.Reading{DeviceID: s.names.DeviceID(devicesN), SiteID: s.names.SiteID(devicesN), Seq: 1,
		TimeMS: time.Now().UnixMilli(), Measurement: reading.Measurement{State: reading.StateSleeping}}
	_ = forged.Sign(s.names.DeviceKey(0)) // signed with another device's key
	forgedWire, _ := forged.Wire()
	stranger := forged
	stranger.DeviceID = "it" + s.names.Run + "-nobody"
	_ = stranger.Sign(s.names.DeviceKey(0))
	strangerWire, _ := stranger.Wire()
	bad := []struct {
		topic   string
		payload []byte
		reason  reading.Reason
	}{
		{ingest.ReadingsTopic(s.names.DeviceID(devicesN)), []byte(`{"not":"a reading"}`), reading.ReasonMalformed},
		{ingest.ReadingsTopic(s.names.DeviceID(devicesN)), forgedWire, reading.ReasonBadSignature},
		{ingest.ReadingsTopic(stranger.DeviceID), strangerWire, reading.ReasonUnknownDevice},
	}
	for _, b := range bad {
		if tok := pub.Publish(b.topic, 1, false, b.payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}

	f.waitAllAcked(t, 3*time.Minute)
	t.Logf("%d readings acked end to end in %s", devicesN*perDevice, time.Since(start).Round(time.Millisecond))
	s.checkExactlyOnce(t, f.expected(s), 2*time.Minute)

	// Rejects carry their reasons and the original payload.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.env.Brokers, Topic: s.names.Rejects, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	want := map[reading.Reason]bool{}
	for _, b := range bad {
		want[b.reason] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(want) > 0 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading rejects (still missing %v): %v", want, err)
		}
		var rec ingest.RejectRecord
		if err := json.Unmarshal(m.Value, &rec); err != nil {
			t.Fatalf("reject record is not JSON: %v", err)
		}
		if rec.Detail == "" || len(rec.Payload) == 0 {
			t.Errorf("reject record without detail or payload: %+v", rec)
		}
		delete(want, reading.Reason(rec.Reason))
	}
}

// TestIntegrationCollectorKill9 kills the collector mid-stream and restarts it.
func TestIntegrationCollectorKill9(t *testing.T) {
	const devicesN, perDevice = 20, 300
	s := setup(t, devicesN)
	s.startWriter(t)
	f := s.newFleet(t, devicesN, perDevice, s.mqttURL(), t.TempDir())
	col := startChild(t, "collector", s, nil)
	f.start(t)
	waitFor(t, "a quarter of the readings acked", 2*time.Minute, func() (bool, string) {
		a, n := f.acked()
		return a >= n/4, fmt.Sprintf("%d of %d", a, n)
	})
	a, n := f.acked()
	col.kill9(t)
	t.Logf("collector killed with %d of %d readings acked", a, n)
	time.Sleep(500 * time.Millisecond)
	startChild(t, "collector", s, nil)
	f.waitAllAcked(t, 3*time.Minute)
	s.checkExactlyOnce(t, f.expected(s), 2*time.Minute)
}

// TestIntegrationAgentKill9 kills a process running 10 sampling agents
// mid-stream, restarts it, and checks that every reading they ever queued
// arrives exactly once.
func TestIntegrationAgentKill9(t *testing.T) {
	const devicesN = 10
	s := setup(t, devicesN)
	reg := s.startRegistry(t)
	s.startCollector(t, reg, s.mqttURL())
	s.startWriter(t)
	dir := t.TempDir()
	env := []string{"SUNPROOF_E2E_DIR=" + dir, "SUNPROOF_E2E_DEVICES=" + strconv.Itoa(devicesN)}
	ag := startChild(t, "agents", s, env)
	time.Sleep(2 * time.Second)
	ag.kill9(t)
	ag = startChild(t, "agents", s, env)
	time.Sleep(2 * time.Second)
	ag.term(t)

	// Reopen the same queues and drain them.
	f := &fleet{}
	for i := range devicesN {
		a, err := NewAgent(s.names, i, s.mqttURL(), dir, testLog(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		f.agents = append(f.agents, a)
	}
	_, total := f.acked()
	if total < devicesN*100 {
		t.Fatalf("only %d readings were sampled in 4 s by %d agents at 20 ms: the agents did not run", total, devicesN)
	}
	f.start(t)
	f.waitAllAcked(t, 2*time.Minute)
	s.checkExactlyOnce(t, f.expected(s), 2*time.Minute)
}

// TestIntegrationBrokerKill9 runs the pipeline through a private Mosquitto
// (same package, same settings) and kills it with SIGKILL mid-stream: the
// broker loses messages it had acknowledged, and the end-to-end acks must
// make up for it.
func TestIntegrationBrokerKill9(t *testing.T) {
	const devicesN, perDevice = 20, 300
	s := setup(t, devicesN)
	broker := startMosquitto(t)
	reg := s.startRegistry(t)
	s.startCollector(t, reg, broker.url)
	s.startWriter(t)
	f := s.newFleet(t, devicesN, perDevice, broker.url, t.TempDir())
	f.start(t)
	waitFor(t, "a quarter of the readings acked", 2*time.Minute, func() (bool, string) {
		a, n := f.acked()
		return a >= n/4, fmt.Sprintf("%d of %d", a, n)
	})
	a, n := f.acked()
	broker.kill9(t)
	t.Logf("mosquitto killed with %d of %d readings acked", a, n)
	time.Sleep(time.Second)
	broker.start(t)
	f.waitAllAcked(t, 3*time.Minute)
	s.checkExactlyOnce(t, f.expected(s), 2*time.Minute)
}

// ---- child processes ----

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(t *testing.T, role string, s *stack, extra []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"="+role, "SUNPROOF_E2E_RUN="+s.names.Run,
		"SUNPROOF_MQTT_URL="+s.env.MQTTURL, "SUNPROOF_KAFKA_BROKERS="+strings.Join(s.env.Brokers, ","))
	cmd.Env = append(cmd.Env, extra...)
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill9(t) })
	return c
}

func (c *child) kill9(t *testing.T) {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

func (c *child) term(t *testing.T) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Error("child did not stop on SIGTERM within 20 s")
		c.kill9(t)
	}
}

func childContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signalNotify(ch)
	go func() { <-ch; cancel() }()
	return ctx, cancel
}

func childCollector() int {
	n := NewNames(os.Getenv("SUNPROOF_E2E_RUN"))
	brokers := strings.Split(os.Getenv("SUNPROOF_KAFKA_BROKERS"), ",")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := childContext()
	defer cancel()
	reg, err := devices.NewRegistry(devices.Config{Brokers: brokers, Topic: n.Devices}, log, nil)
	if err != nil {
		log.Error("registry", "err", err)
		return 1
	}
	go func() { _ = reg.Run(ctx) }()
	if err := reg.WaitReady(ctx); err != nil {
		log.Error("registry", "err", err)
		return 1
	}
	col, err := collector.New(CollectorConfig(n, os.Getenv("SUNPROOF_MQTT_URL"), brokers), reg, log, nil)
	if err != nil {
		log.Error("collector", "err", err)
		return 1
	}
	if err := col.Run(ctx); err != nil {
		log.Error("collector", "err", err)
		return 1
	}
	return 0
}

func childAgents() int {
	n := NewNames(os.Getenv("SUNPROOF_E2E_RUN"))
	count, _ := strconv.Atoi(os.Getenv("SUNPROOF_E2E_DEVICES"))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := childContext()
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for i := range count {
		a, err := NewAgent(n, i, os.Getenv("SUNPROOF_MQTT_URL"), os.Getenv("SUNPROOF_E2E_DIR"), log, nil)
		if err != nil {
			log.Error("agent", "err", err)
			return 1
		}
		wg.Go(func() { errs <- a.Run(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("agent", "err", err)
			return 1
		}
	}
	return 0
}

// ---- a private Mosquitto ----

type mosquitto struct {
	url, conf string
	cmd       *exec.Cmd
	done      chan struct{}
}

func startMosquitto(t *testing.T) *mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("mosquitto binary not found (install it with scripts/stack.sh install): %v", err)
	}
	dir := t.TempDir()
	port := teststack.FreePort(t)
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence true
persistence_location %s/
autosave_interval 60
max_queued_messages 0
max_inflight_messages 1000
persistent_client_expiration 1h
user root
log_dest stderr
log_type error
`, port, dir)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &mosquitto{url: fmt.Sprintf("tcp://127.0.0.1:%d", port), conf: conf}
	m.cmd = exec.Command(bin, "-c", conf)
	_ = bin
	m.start(t)
	t.Cleanup(func() { m.kill9(t) })
	return m
}

func (m *mosquitto) start(t *testing.T) {
	t.Helper()
	m.cmd = exec.Command(m.cmd.Path, "-c", m.conf)
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.done)
	waitFor(t, "mosquitto to listen", 10*time.Second, func() (bool, string) {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url).SetClientID("probe").SetConnectTimeout(time.Second))
		tok := c.Connect()
		if tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
			c.Disconnect(0)
			return true, ""
		}
		return false, fmt.Sprint(tok.Error())
	})
}

func (m *mosquitto) kill9(t *testing.T) {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}
