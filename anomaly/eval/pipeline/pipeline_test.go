package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly/eval"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

func tinyFleet(t *testing.T) *eval.Fleet {
	t.Helper()
	cfg := eval.DefaultConfig()
	cfg.Areas, cfg.DevicesPerArea, cfg.Isolated, cfg.Days, cfg.FaultyFraction = 1, 4, 1, 1, 1
	f, err := eval.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWithPrefix: the prefixed fleet simulates the same readings under the
// prefixed ids, with matching labels, and leaves the original alone.
func TestWithPrefix(t *testing.T) {
	f := tinyFleet(t)
	origIDs := make([]string, len(f.Devices))
	for i, d := range f.Devices {
		origIDs[i] = d.ID
	}
	g := WithPrefix(f, "evX-")
	want, err := f.Series()
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Series()
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if g, w := got[i].Device.ID, "evX-"+want[i].Device.ID; g != w {
			t.Errorf("device %d: got id %s, want %s", i, g, w)
		}
		if g, w := got[i].Device.SiteID, "evX-"+want[i].Device.SiteID; g != w {
			t.Errorf("device %d: got site %s, want %s", i, g, w)
		}
		if !slices.Equal(got[i].Samples, want[i].Samples) {
			t.Errorf("device %d: %d samples differ from the original's %d", i, len(got[i].Samples), len(want[i].Samples))
		}
	}
	if len(g.Labels) != len(f.Labels) || len(g.Labels) == 0 {
		t.Fatalf("labels: got %d, want %d (> 0)", len(g.Labels), len(f.Labels))
	}
	for i := range g.Labels {
		if got, want := g.Labels[i].DeviceID, "evX-"+f.Labels[i].DeviceID; got != want {
			t.Errorf("label %d: got %s, want %s", i, got, want)
		}
	}
	for i, d := range f.Devices {
		if d.ID != origIDs[i] {
			t.Errorf("original device %d renamed to %s", i, d.ID)
		}
	}
}

func TestNamesAndKeys(t *testing.T) {
	n := NewNames("ab12")
	for _, s := range []string{n.Readings, n.Rejects, n.Devices, n.Group, n.DB, n.Prefix} {
		if !strings.Contains(s, "ab12") {
			t.Errorf("%q does not carry the run id", s)
		}
	}
	if err := reading.CheckID("device_id", n.Prefix+"a00-09"); err != nil {
		t.Errorf("prefixed id: %v", err)
	}
	ids := n.ClientIDs(2, 3)
	if got, want := len(ids), 6; got != want {
		t.Errorf("client ids: got %d, want %d: %v", got, want, ids)
	}
	k1, k1b, k2 := DeviceKey("ev1-a"), DeviceKey("ev1-a"), DeviceKey("ev2-a")
	if !bytes.Equal(k1, k1b) || bytes.Equal(k1, k2) {
		t.Error("keys must be deterministic per id and differ between runs")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		edit func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"run id", func(c *Config) { c.RunID = "a1B2" }, true},
		{"no merging", func(c *Config) { c.Reasons = nil }, true},
		{"run id with a dot", func(c *Config) { c.RunID = "a.b" }, false},
		{"run id too long", func(c *Config) { c.RunID = strings.Repeat("a", 17) }, false},
		{"no brokers", func(c *Config) { c.Brokers = nil }, false},
		{"no publishers", func(c *Config) { c.Publishers = 0 }, false},
		{"no settle", func(c *Config) { c.Settle = 0 }, false},
		{"merge bad signatures", func(c *Config) { c.Reasons = []reading.Reason{reading.ReasonBadSignature} }, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	f := tinyFleet(t)
	series, err := f.Series()
	if err != nil {
		t.Fatal(err)
	}
	a, err := eval.Evaluate(context.Background(), f, eval.MemoryLoader(series, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := eval.Evaluate(context.Background(), f, eval.MemoryLoader(series, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(a, b); len(d) != 0 {
		t.Fatalf("same input, differences: %v", d)
	}
	if len(a.Alarms) == 0 {
		t.Fatal("the tiny fleet raised no alarm: the test needs one")
	}
	b.Alarms = b.Alarms[1:]
	b.PerType[eval.FaultTrip].Detected++
	d := Compare(a, b)
	if len(d) != 2 || !strings.HasPrefix(d[0], "trip:") || !strings.HasPrefix(d[1], "alarm only through the pipeline: ") {
		t.Errorf("got %q", d)
	}
}

func TestTally(t *testing.T) {
	rec := func(dev string, seq uint64, reason string) []byte {
		v := reading.View{DeviceID: dev, Seq: seq}
		b, _ := json.Marshal(ingest.RejectRecord{Reason: reason, Stage: "collector", Reading: &v})
		return b
	}
	tl := newTally("pv/evX-probe/readings", "evX-")
	tl.add(rec("evX-a", 1, "counter_regression"))
	tl.add(rec("evX-a", 1, "counter_regression")) // redelivered
	tl.add(rec("evX-a", 2, "implausible"))
	tl.add(rec("evX-b", 1, "counter_regression"))
	tl.add(rec("it42-inv", 1, "unknown_device")) // another test's reading on the shared broker
	tl.add([]byte(`{"reason":"malformed","stage":"collector"}`))
	tl.add([]byte(`{"reason":"malformed","stage":"collector","mqtt_topic":"pv/evX-probe/readings"}`))
	tl.add([]byte(`{"reason":"malformed","stage":"collector","mqtt_topic":"pv/evY-probe/readings"}`)) // another run's probe
	byReason, byDevice, unparsed := tl.snapshot()
	if byReason["counter_regression"] != 2 || byReason["implausible"] != 1 || byDevice["evX-a"] != 2 || byDevice["evX-b"] != 1 || unparsed != 1 || tl.probed() != 1 || tl.strangers != 2 {
		t.Errorf("got %v, %v, %d unparsed, %d probes, %d strangers", byReason, byDevice, unparsed, tl.probed(), tl.strangers)
	}
}
