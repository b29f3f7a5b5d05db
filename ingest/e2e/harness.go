package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/ingest/collector"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/kafkatopic"
)

// Names keeps one run's topics, groups, databases and ids apart.
type Names struct {
	Run            string
	Readings       string
	Rejects        string
	Devices        string
	Group          string // collector share group and client id prefix, writer group
	DB             string // InfluxDB database
	DevicePrefix   string
	CollectorLanes int
}

// NewNames derives every name from a run id.
func NewNames(run string) Names {
	return Names{Run: run, Readings: "it." + run + ".readings", Rejects: "it." + run + ".rejects",
		Devices: "it." + run + ".devices", Group: "it-" + run, DB: "it_" + run,
		DevicePrefix: "it" + run + "-d", CollectorLanes: 2}
}

// DeviceID returns the i-th simulated device's id.
func (n Names) DeviceID(i int) string { return fmt.Sprintf("%s%04d", n.DevicePrefix, i) }

// SiteID returns the i-th device's site.
func (n Names) SiteID(i int) string { return fmt.Sprintf("it%s-s%03d", n.Run, i/4) }

// DeviceKey derives the i-th device's key deterministically from the run.
func (n Names) DeviceKey(i int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(n.DeviceID(i)))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Device returns the registry record of device i.
func (n Names) Device(i int) devices.Device {
	now := time.Now().UTC()
	return devices.Device{ID: n.DeviceID(i), SiteID: n.SiteID(i), PublicKey: n.DeviceKey(i).Public().(ed25519.PublicKey),
		KWp: 5, ACRatingW: 4600, Lat: 31.82, Lon: 117.23, TiltDeg: 25, AzimuthDeg: 180, GridRegion: "CN-East",
		Installer: "it", Status: devices.StatusActive, CreatedAt: now, UpdatedAt: now}
}

// Provision creates the topics and registers devices 0..count-1.
func Provision(ctx context.Context, brokers []string, n Names, count int) error {
	if err := devices.EnsureTopic(ctx, brokers, n.Devices); err != nil {
		return err
	}
	if err := kafkatopic.Ensure(ctx, brokers, kafkatopic.Spec{Name: n.Readings, Partitions: 6},
		kafkatopic.Spec{Name: n.Rejects, Partitions: 1}); err != nil {
		return err
	}
	pub := devices.NewPublisher(brokers, n.Devices)
	defer pub.Close()
	recs := make([]devices.Record, 0, count)
	for i := range count {
		recs = append(recs, devices.DeviceRecord(n.Device(i)))
	}
	return pub.Put(ctx, recs...)
}

// CollectorConfig returns the collector configuration of a run.
func CollectorConfig(n Names, mqttURL string, brokers []string) collector.Config {
	c := collector.DefaultConfig()
	c.MQTTURL, c.Brokers = mqttURL, brokers
	c.ClientID, c.ShareGroup, c.Lanes = n.Group+"-col", n.Group, n.CollectorLanes
	c.Topic, c.RejectTopic = n.Readings, n.Rejects
	return c
}

// WriterConfig returns the writer configuration of a run.
func WriterConfig(n Names, influxURL string, brokers []string) tsdbwriter.Config {
	c := tsdbwriter.DefaultConfig()
	c.Brokers, c.Topic, c.RejectTopic, c.GroupID = brokers, n.Readings, n.Rejects, n.Group+"-tsdb"
	c.InfluxURL, c.Bucket = influxURL, n.DB
	c.BatchLinger = 50 * time.Millisecond
	return c
}

// AgentConfig returns device i's agent configuration with its queue under dir.
func AgentConfig(n Names, i int, mqttURL, dir string) agent.Config {
	c := agent.DefaultConfig()
	c.DeviceID, c.SiteID, c.SigningKeyFile = n.DeviceID(i), n.SiteID(i), "unused"
	c.Interval = 20 * time.Millisecond
	c.MQTT.URL = mqttURL
	c.MQTT.AckTimeout = 3 * time.Second
	c.Queue.Dir = filepath.Join(dir, n.DeviceID(i))
	c.Source.Seed = int64(i)
	c.Source.Lat, c.Source.Lon = 31.82, 117.23
	return c
}

// NewAgent builds device i's agent with the simulator source; edit, if
// not nil, adjusts its configuration.
func NewAgent(n Names, i int, mqttURL, dir string, log *slog.Logger, edit func(*agent.Config)) (*agent.Agent, error) {
	cfg := AgentConfig(n, i, mqttURL, dir)
	if edit != nil {
		edit(&cfg)
	}
	src, err := agent.NewSource(cfg.Source)
	if err != nil {
		return nil, err
	}
	return agent.New(cfg, agent.Options{Key: n.DeviceKey(i), Source: src, Log: log})
}

// DropSessions removes the persistent MQTT sessions a run left behind, so
// the broker does not keep queueing for them.
func DropSessions(mqttURL string, clientIDs ...string) {
	var wg sync.WaitGroup
	for _, id := range clientIDs {
		wg.Go(func() {
			o := mqtt.NewClientOptions().AddBroker(mqttURL).SetClientID(id).SetCleanSession(true).SetConnectTimeout(5 * time.Second)
			c := mqtt.NewClient(o)
			if t := c.Connect(); t.WaitTimeout(5*time.Second) && t.Error() == nil {
				c.Disconnect(100)
			}
		})
	}
	wg.Wait()
}

// CollectorClientIDs lists the client ids of a run's collector lanes.
func CollectorClientIDs(n Names) []string {
	ids := make([]string, n.CollectorLanes)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-col-%d", n.Group, i)
	}
	return ids
}

// Counts returns, per device id, (points, distinct seqs) in the run's database.
func Counts(ctx context.Context, query func(ctx context.Context, db, q string) ([]byte, error), db string) (map[string][2]int, error) {
	body, err := query(ctx, db, `SELECT count(seq), count(distinct(seq)) FROM `+tsdbwriter.Measurement+` GROUP BY device_id`)
	if err != nil {
		return nil, err
	}
	var res struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Tags   map[string]string `json:"tags"`
				Values [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, err
	}
	out := map[string][2]int{}
	for _, r := range res.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("influx: %s", r.Error)
		}
		for _, s := range r.Series {
			if len(s.Values) == 0 || len(s.Values[0]) < 3 {
				continue
			}
			c, _ := s.Values[0][1].(float64)
			d, _ := s.Values[0][2].(float64)
			out[s.Tags["device_id"]] = [2]int{int(c), int(d)}
		}
	}
	return out, nil
}

var _ = ingest.TopicReadings
