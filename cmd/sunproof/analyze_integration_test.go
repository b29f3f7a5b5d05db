package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/sim"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/service"
	"github.com/sunproof/sunproof/internal/teststack"
)

var cst = time.FixedZone("CST", 8*3600)

// simArea simulates n neighbouring devices over [from, to) every 5 minutes;
// faults[i], if set, gives device i its faults.
func simArea(t testing.TB, prefix string, n int, from, to time.Time, faults map[int][]sim.Fault) ([]devices.Device, []reading.Reading) {
	t.Helper()
	var devs []devices.Device
	var out []reading.Reading
	for i := range n {
		d := devices.Device{
			ID: fmt.Sprintf("%s-%02d", prefix, i), SiteID: prefix + "-site", Status: devices.StatusActive, GridRegion: "CN-East",
			KWp: 4 + float64(i%4), Lat: 31.8 + 0.02*float64(i%5) - 0.04, Lon: 117.2 + 0.03*float64(i%3) - 0.03,
			TiltDeg: 18 + float64(i%4)*4, AzimuthDeg: 165 + float64(i%5)*7.5,
		}
		d.ACRatingW = d.KWp * 920
		cfg := sim.DefaultConfig()
		cfg.Seed = 21
		cfg.Cloudiness = 0.2
		p := pvmodel.DefaultPlant()
		p.LatDeg, p.LonDeg, p.TiltDeg, p.AzimuthDeg = d.Lat, d.Lon, d.TiltDeg, d.AzimuthDeg
		p.KWp, p.ACRatingW = d.KWp, d.ACRatingW
		cfg.Plant = p
		cfg.StartEnergyWh = 1_000_000 + uint64(i)*12345
		cfg.Faults = faults[i]
		inv, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var seq uint64
		for tm := from; tm.Before(to); tm = tm.Add(5 * time.Minute) {
			seq++
			ts, m, ok := inv.Report(tm)
			if !ok {
				continue
			}
			out = append(out, reading.Reading{DeviceID: d.ID, SiteID: d.SiteID, Seq: seq, TimeMS: ts.UnixMilli(), Measurement: m})
		}
		devs = append(devs, d)
	}
	return devs, out
}

// influxTestDB creates a fresh database and writes rs in the collector's
// line protocol (tsdbwriter.AppendLine).
func influxTestDB(t *testing.T, base string, rs []reading.Reading) string {
	t.Helper()
	db := "it_" + teststack.RunID()
	ctx := context.Background()
	if _, err := teststack.InfluxQL(ctx, base, "", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = teststack.InfluxQL(context.Background(), base, "", "DROP DATABASE "+db) })
	var buf []byte
	for i := range rs {
		buf = tsdbwriter.AppendLine(buf, &rs[i])
		buf = append(buf, '\n')
	}
	resp, err := http.Post(base+"/write?db="+db+"&precision=ns", "text/plain", bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s", resp.Status)
	}
	return db
}

// TestIntegrationAnalyze seeds six devices' readings into InfluxDB, trips
// one inverter for two hours, runs one scan through the wired analyzer and
// finds the alert in the alert measurement, on Kafka and at a webhook with
// a valid signature.
func TestIntegrationAnalyze(t *testing.T) {
	env := teststack.Require(t, teststack.Influx, teststack.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := teststack.RunID()
	day1 := time.Date(2024, 6, 20, 0, 0, 0, 0, cst)
	day2 := day1.Add(24 * time.Hour)
	devs, rs := simArea(t, "an"+run, 6, day1, day2.Add(24*time.Hour), map[int][]sim.Fault{
		2: {sim.Trip{Window: sim.Window{From: day2.Add(10 * time.Hour), To: day2.Add(12 * time.Hour)}}},
	})
	db := influxTestDB(t, env.InfluxURL, rs)
	topic := "it." + run + ".alerts"
	t.Cleanup(func() {
		c := &kafka.Client{Addr: kafka.TCP(env.Brokers...)}
		_, _ = c.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	secret := []byte("integration-test-secret-0123456789")
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hooks []anomaly.WebhookPayload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !anomaly.VerifySignature(secret, body, r.Header.Get(anomaly.HeaderSignature)) {
			t.Errorf("webhook: bad signature %q", r.Header.Get(anomaly.HeaderSignature))
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p anomaly.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook payload: %v", err)
		}
		mu.Lock()
		hooks = append(hooks, p)
		mu.Unlock()
	}))
	defer srv.Close()

	o := analyzeOptions{influx: env.InfluxURL, db: db, sched: anomaly.DefaultAnalyzerConfig(), brokers: env.Brokers[0],
		alertsTopic: topic, partitions: 2, webhooks: []string{srv.URL}, secretFile: secretFile}
	o.sched.Window = 24 * time.Hour
	idx := mapIndex{}
	for _, r := range rs { // everything but device 2's afternoon is anchored
		if r.DeviceID != devs[2].ID || r.Time().Before(day2.Add(11*time.Hour)) {
			idx[r.Key()] = true
		}
	}
	a, err := newAnalyzer(ctx, &o, devices.NewStatic(devs...), idx, service.Logger("text"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	changed, err := a.scan(ctx, day2.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := devs[2].ID + "/" + string(anomaly.TypeZeroOutput)
	var alert *anomaly.Alert
	for i := range changed {
		t.Logf("changed: %s %s %s %s", changed[i].ID, changed[i].Severity, changed[i].Anchored, changed[i].Summary)
		if changed[i].Key().String() == want {
			alert = &changed[i]
		}
	}
	if alert == nil {
		t.Fatalf("no %s alert among %d changed", want, len(changed))
	}
	if alert.Anchored != anomaly.AnchoringPartial {
		t.Errorf("anchored = %s, want partial (the trip spans 10:00–12:00, anchoring stops at 11:00)", alert.Anchored)
	}

	// InfluxDB.
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = env.InfluxURL, db
	store, _ := anomaly.NewInfluxStore(icfg, nil)
	stored, err := store.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range stored {
		found = found || (s.ID == alert.ID && s.State == anomaly.StateOpen && s.Anchored == anomaly.AnchoringPartial)
	}
	if !found {
		t.Errorf("alert %s not in the alert measurement (%d alerts there)", alert.ID, len(stored))
	}

	// Kafka.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: env.Brokers, Topic: topic, GroupID: "it-" + run, StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	found = false
	for range changed {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var am anomaly.AlertMessage
		if err := json.Unmarshal(m.Value, &am); err != nil {
			t.Fatal(err)
		}
		if am.Alert.ID == alert.ID {
			found = string(m.Key) == devs[2].ID
		}
	}
	if !found {
		t.Errorf("alert %s not on Kafka %s with key %s", alert.ID, topic, devs[2].ID)
	}

	// Webhook.
	mu.Lock()
	defer mu.Unlock()
	found = false
	for _, p := range hooks {
		for _, am := range p.Alerts {
			found = found || am.Alert.ID == alert.ID
		}
	}
	if !found {
		t.Errorf("alert %s not delivered to the webhook (%d deliveries)", alert.ID, len(hooks))
	}
}

// mapIndex is an in-memory anomaly.AnchorIndex.
type mapIndex map[reading.Key]bool

func (m mapIndex) Anchored(id string, seq uint64) (bool, error) {
	return m[reading.Key{DeviceID: id, Seq: seq}], nil
}
