package main

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationDevicesAddAgentTLS provisions a device the way an
// installer does (`sunproof devices add`), starts an agent from the bundle
// alone, and checks its signed readings reach the broker over TLS with the
// bundle's client certificate and verify with the registered key.
func TestIntegrationDevicesAddAgentTLS(t *testing.T) {
	env := teststack.Require(t, teststack.MQTT, teststack.Kafka)
	if env.CADir == "" {
		t.Fatal("SUNPROOF_CA_DIR is not set: run the tests through `make test` (it exports scripts/stack.sh env)")
	}
	run := teststack.RunID()
	id, topic := "it"+run+"-inv", "it."+run+".devices"
	out := t.TempDir()
	t.Cleanup(func() {
		c := &kafka.Client{Addr: kafka.TCP(env.Brokers...)}
		_, _ = c.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	err := devicesAdd([]string{"-id", id, "-site", "it" + run + "-site", "-kwp", "6", "-installer", "it",
		"-out", out, "-ca-dir", env.CADir, "-mqtt", env.MQTTSURL, "-kafka", env.Brokers[0], "-devices-topic", topic})
	if err != nil {
		t.Fatalf("devices add: %v", err)
	}

	// The registry has the device with the bundle's public key.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rf := registryFlags{brokers: env.Brokers[0], topic: topic}
	reg, done, err := rf.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := reg.Device(id)
	done()
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	if err := devicesAdd([]string{"-id", id, "-site", "x", "-installer", "it", "-out", t.TempDir(), "-ca-dir", env.CADir,
		"-kafka", env.Brokers[0], "-devices-topic", topic}); err == nil {
		t.Fatal("adding the same device id twice succeeded")
	}

	// Watch the device's topic on the plain listener.
	got := make(chan []byte, 16)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(env.MQTTURL).SetClientID("it-" + run + "-watch"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	if tok := sub.Subscribe(ingest.ReadingsTopic(id), 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Payload() }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	// Start the agent from the bundle alone.
	cfg, err := agent.LoadConfig(filepath.Join(out, "agent.yaml"))
	if err != nil {
		t.Fatalf("bundle config: %v", err)
	}
	if cfg.MQTT.URL != env.MQTTSURL || cfg.MQTT.TLS.CertFile == "" {
		t.Fatalf("bundle does not use TLS with a client certificate: %+v", cfg.MQTT)
	}
	cfg.Interval = 100 * time.Millisecond
	key, err := agent.LoadSigningKey(cfg.SigningKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(ed25519.PublicKey).Equal(d.PublicKey) {
		t.Fatal("bundle key differs from the registered key")
	}
	src, err := agent.NewSource(cfg.Source)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cfg, agent.Options{Key: key, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan error, 1)
	go func() { adone <- a.Run(actx) }()
	defer func() { acancel(); <-adone }()

	for i := 0; i < 3; i++ {
		select {
		case p := <-got:
			r, err := reading.Decode(p)
			if err != nil {
				t.Fatalf("reading %d: %v", i, err)
			}
			if err := r.Verify(d.PublicKey); err != nil {
				t.Fatalf("reading %d: %v", i, err)
			}
			if r.DeviceID != id || r.Seq != uint64(i+1) {
				t.Fatalf("reading %d is %s/%d", i, r.DeviceID, r.Seq)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no reading %d from the TLS agent within 30 s", i)
		}
	}
}
