package devices

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// stream turns records into the messages a Registry would read, at
// consecutive offsets.
type stream struct {
	t    *testing.T
	msgs []kafka.Message
}

func (s *stream) add(rec Record) *stream {
	s.t.Helper()
	k, v, err := EncodeRecord(rec)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.raw(string(k), v)
}

func (s *stream) raw(key string, value []byte) *stream {
	s.msgs = append(s.msgs, kafka.Message{Key: []byte(key), Value: value, Offset: int64(len(s.msgs))})
	return s
}

func newTestRegistry(t *testing.T) (*Registry, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := NewRegistry(DefaultConfig(), nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

// replay applies msgs the way Run does and publishes the result.
func replay(r *Registry, msgs []kafka.Message) {
	for _, m := range msgs {
		r.apply(m)
	}
	r.publish()
}

func TestRegistryApply(t *testing.T) {
	r, reg := newTestRegistry(t)
	d1, d2 := validDevice("inv-1"), validDevice("inv-2")
	d1v2 := d1
	d1v2.KWp, d1v2.UpdatedAt = 12.5, t0.Add(time.Hour)
	s := &stream{t: t}
	s.add(SiteRecord(validSite("site-1"))).
		add(DeviceRecord(d1)).
		add(DeviceRecord(d2)).
		raw("device/inv-3", []byte(`{"kind":"device","version":1,"device":{"id":"inv-3"}}`)). // invalid: skipped
		add(DeviceRecord(d1v2)).                                                              // last write wins
		raw("device/inv-1", []byte(`garbage`)).                                               // does not undo it
		add(DeviceRecord(d2.AsDisabled(t0.Add(2 * time.Hour))))
	replay(r, s.msgs)

	got, err := r.Device("inv-1")
	if err != nil {
		t.Fatalf("Device(inv-1): %v", err)
	}
	if got.KWp != 12.5 {
		t.Errorf("inv-1 kWp = %v, want 12.5 (the last write)", got.KWp)
	}
	got, err = r.Device("inv-2")
	if !errors.Is(err, ErrDisabled) || got.ID != "inv-2" || got.DisabledAt.IsZero() {
		t.Errorf("Device(inv-2) = %+v, %v; want the disabled device and ErrDisabled", got, err)
	}
	if _, err := r.Device("inv-3"); !errors.Is(err, ErrUnknownDevice) {
		t.Errorf("Device(inv-3) error = %v, want ErrUnknownDevice", err)
	}
	if s, err := r.Site("site-1"); err != nil || s.Name == "" {
		t.Errorf("Site(site-1) = %+v, %v", s, err)
	}
	if _, err := r.Site("site-2"); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("Site(site-2) error = %v, want ErrUnknownSite", err)
	}
	if got, want := ids(r.Devices()), []string{"inv-1", "inv-2"}; !slices.Equal(got, want) {
		t.Errorf("Devices() = %v, want %v", got, want)
	}
	if got := len(r.Sites()); got != 1 {
		t.Errorf("len(Sites()) = %d, want 1", got)
	}

	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"records{device}", metricValue(t, reg, "sunproof_devices_records_total", "kind", "device"), 4},
		{"records{site}", metricValue(t, reg, "sunproof_devices_records_total", "kind", "site"), 1},
		{"records{tombstone}", metricValue(t, reg, "sunproof_devices_records_total", "kind", "tombstone"), 0},
		{"decode_errors", metricValue(t, reg, "sunproof_devices_decode_errors_total"), 2},
		{"known", metricValue(t, reg, "sunproof_devices_known"), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRegistryApplyInvalidReplacementKeepsPrevious(t *testing.T) {
	r, reg := newTestRegistry(t)
	s := &stream{t: t}
	s.add(DeviceRecord(validDevice("inv-1"))).
		raw("device/inv-1", []byte(`{"kind":"device","version":2,"device":{}}`)).
		raw("device/inv-2", []byte(`{"kind":"device","version":1,"device":{}}`))
	replay(r, s.msgs)
	if _, err := r.Device("inv-1"); err != nil {
		t.Errorf("Device(inv-1) after an undecodable replacement: %v", err)
	}
	if got := metricValue(t, reg, "sunproof_devices_decode_errors_total"); got != 2 {
		t.Errorf("decode errors = %v, want 2", got)
	}
}

func TestRegistryTombstone(t *testing.T) {
	r, reg := newTestRegistry(t)
	s := &stream{t: t}
	s.add(DeviceRecord(validDevice("inv-1"))).
		add(SiteRecord(validSite("site-1"))).
		raw("device/inv-1", nil).
		raw("site/site-1", nil).
		raw("bogus", nil)
	replay(r, s.msgs)
	if _, err := r.Device("inv-1"); !errors.Is(err, ErrUnknownDevice) {
		t.Errorf("Device after tombstone: %v, want ErrUnknownDevice", err)
	}
	if _, err := r.Site("site-1"); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("Site after tombstone: %v, want ErrUnknownSite", err)
	}
	if got := metricValue(t, reg, "sunproof_devices_records_total", "kind", "tombstone"); got != 2 {
		t.Errorf("records{tombstone} = %v, want 2", got)
	}
	if got := metricValue(t, reg, "sunproof_devices_decode_errors_total"); got != 1 {
		t.Errorf("decode errors = %v, want 1", got)
	}
}

func TestRegistrySnapshotIsolation(t *testing.T) {
	r, _ := newTestRegistry(t)
	r.apply((&stream{t: t}).add(DeviceRecord(validDevice("inv-1"))).msgs[0])
	if _, err := r.Device("inv-1"); !errors.Is(err, ErrUnknownDevice) {
		t.Errorf("applied but unpublished record visible: %v", err)
	}
	r.publish()
	if _, err := r.Device("inv-1"); err != nil {
		t.Errorf("published record not visible: %v", err)
	}
	// A caller's slice is its own.
	list := r.Devices()
	list[0].ID = "changed"
	if _, err := r.Device("inv-1"); err != nil {
		t.Errorf("modifying Devices() result changed the view: %v", err)
	}
}

func TestRegistryConcurrentLookups(t *testing.T) {
	r, _ := newTestRegistry(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if d, err := r.Device("inv-1"); err == nil && d.ID != "inv-1" {
					t.Errorf("Device(inv-1) returned %q", d.ID)
				}
				_ = r.Devices()
			}
		})
	}
	s := &stream{t: t}
	for i := range 200 {
		d := validDevice("inv-1")
		d.KWp = float64(i + 1)
		s.add(DeviceRecord(d))
	}
	for _, m := range s.msgs {
		r.apply(m)
		r.publish()
	}
	close(stop)
	wg.Wait()
	if d, _ := r.Device("inv-1"); d.KWp != 200 {
		t.Errorf("kWp = %v, want 200", d.KWp)
	}
}

func TestRegistryDeviceDoesNotAllocate(t *testing.T) {
	r, _ := newTestRegistry(t)
	s := &stream{t: t}
	s.add(DeviceRecord(validDevice("inv-1"))).add(DeviceRecord(validDevice("inv-2").AsDisabled(t0)))
	replay(r, s.msgs)
	for _, id := range []string{"inv-1", "inv-2", "unknown"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = r.Device(id) }); n != 0 {
			t.Errorf("Device(%q) allocates %v times", id, n)
		}
	}
}

func TestRegistryWaitReady(t *testing.T) {
	r, _ := newTestRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReady before Run = %v, want DeadlineExceeded", err)
	}
	if r.Ready() {
		t.Error("Ready() before Run")
	}
	r.markReady()
	if err := r.WaitReady(context.Background()); err != nil || !r.Ready() {
		t.Errorf("WaitReady after markReady = %v", err)
	}
}

func TestRegistryRunStopsWhenCancelled(t *testing.T) {
	// Nothing listens on this address: Run keeps waiting for the topic.
	cfg := Config{Brokers: []string{"127.0.0.1:1"}, Topic: "pv.devices.nowhere"}
	r, err := NewRegistry(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := r.WaitReady(context.Background()); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("WaitReady after Run stopped = %v", err)
	}
	if err := r.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	for _, c := range []Config{{Topic: "t"}, {Brokers: []string{""}, Topic: "t"}, {Brokers: []string{"b:9092"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil", c)
		}
		if _, err := NewRegistry(c, nil, nil); err == nil {
			t.Errorf("NewRegistry(%+v) succeeded", c)
		}
	}
}

func TestNewRegistryDuplicateMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewRegistry(DefaultConfig(), nil, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegistry(DefaultConfig(), nil, reg); err == nil {
		t.Error("second NewRegistry on the same Registerer succeeded")
	}
}

func TestStatic(t *testing.T) {
	bare := Device{ID: "bare", PublicKey: testKey(2)} // no status: active
	st := NewStatic(validDevice("inv-1"), bare)
	st.PutSite(validSite("site-1"))
	if _, err := st.Device("bare"); err != nil {
		t.Errorf("Device(bare) = %v", err)
	}
	st.PutDevice(validDevice("inv-1").AsDisabled(t0))
	if _, err := st.Device("inv-1"); !errors.Is(err, ErrDisabled) {
		t.Errorf("Device(inv-1) after disabling = %v, want ErrDisabled", err)
	}
	if _, err := st.Device("nope"); !errors.Is(err, ErrUnknownDevice) {
		t.Errorf("Device(nope) = %v, want ErrUnknownDevice", err)
	}
	if _, err := st.Site("site-1"); err != nil {
		t.Errorf("Site(site-1) = %v", err)
	}
	if got, want := ids(st.Devices()), []string{"bare", "inv-1"}; !slices.Equal(got, want) {
		t.Errorf("Devices() = %v, want %v", got, want)
	}
	if got := len(st.Sites()); got != 1 {
		t.Errorf("len(Sites()) = %d", got)
	}
}

// The lookups consumers are expected to declare.
var (
	_ interface {
		Device(string) (Device, error)
		Site(string) (Site, error)
		Devices() []Device
		Sites() []Site
	} = (*Registry)(nil)
	_ interface {
		Device(string) (Device, error)
		Site(string) (Site, error)
		Devices() []Device
		Sites() []Site
	} = (*Static)(nil)
)

// metricValue returns the value of the counter or gauge with the given name
// and label pairs, failing the test if there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labelPairs ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labelPairs); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == labelPairs[i] && l.GetValue() == labelPairs[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labelPairs)
	return 0
}

func ids(ds []Device) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func BenchmarkRegistryDevice(b *testing.B) {
	r, err := NewRegistry(DefaultConfig(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		d := validDevice("inv-" + strings.Repeat("0", 5-len(itoa(i))) + itoa(i))
		r.st.apply(DeviceRecord(d))
	}
	r.publish()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Device("inv-04242"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
