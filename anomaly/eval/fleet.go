package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/sim"
)

// FaultType names an injected fault.
type FaultType string

// Injected fault types, one per ingest/sim fault.
const (
	FaultTrip         FaultType = "trip"
	FaultStringLoss   FaultType = "string_loss"
	FaultSoiling      FaultType = "soiling"
	FaultStuckMeter   FaultType = "stuck_meter"
	FaultCommOutage   FaultType = "comm_outage"
	FaultCounterReset FaultType = "counter_reset"
	FaultInflated     FaultType = "inflated"
	FaultClockDrift   FaultType = "clock_drift"
)

// FaultTypes lists them in report order.
var FaultTypes = []FaultType{
	FaultTrip, FaultStringLoss, FaultSoiling, FaultStuckMeter, FaultCommOutage, FaultCounterReset, FaultInflated, FaultClockDrift,
}

// Detects maps each fault type to the finding types that count as
// detecting it. Other findings on the faulty device during the fault are
// consequences ("collateral"): neither hits nor false alarms.
var Detects = map[FaultType][]anomaly.Type{
	FaultTrip:         {anomaly.TypeZeroOutput},
	FaultStringLoss:   {anomaly.TypeUnderPerformance},
	FaultSoiling:      {anomaly.TypeUnderPerformance},
	FaultStuckMeter:   {anomaly.TypeStuck, anomaly.TypeZeroOutput},
	FaultCommOutage:   {anomaly.TypeCommGap},
	FaultCounterReset: {anomaly.TypeCounterRegression},
	FaultInflated:     {anomaly.TypeOverPerformance, anomaly.TypeEnergyMismatch, anomaly.TypeOverCapacity},
	FaultClockDrift:   {anomaly.TypeClockOffset},
}

// Label is one injected fault: ground truth for the evaluation.
type Label struct {
	DeviceID string
	Type     FaultType
	From, To time.Time // when the fault acts, clipped to the evaluated period
	Detail   string    // parameters, for the report
}

// Config describes the evaluated fleet.
type Config struct {
	Seed           int64
	Start          time.Time     // local midnight of the first day
	Days           int           // evaluated days (each scanned separately)
	Step           time.Duration // reporting interval
	Areas          int           // districts of neighbouring devices sharing the weather
	DevicesPerArea int
	Isolated       int     // devices with no peer within the peer radius
	FaultyFraction float64 // share of devices with one injected fault
	Anomaly        anomaly.Config
	Tracker        anomaly.TrackerConfig
}

// DefaultConfig is 12 areas × 10 devices + 8 isolated devices, 7 days from
// 2024-04-01 (China Standard Time) at 5 minutes, 40 % of devices with one
// fault (the 8 types in turn).
func DefaultConfig() Config {
	return Config{
		Seed: 1, Start: time.Date(2024, 4, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)), Days: 7, Step: 5 * time.Minute,
		Areas: 12, DevicesPerArea: 10, Isolated: 8, FaultyFraction: 0.4,
		Anomaly: anomaly.DefaultConfig(), Tracker: anomaly.DefaultTrackerConfig(),
	}
}

// ShortConfig is a small fleet for `go test -short`: 5 areas × 8 + 4
// isolated devices over 3 days.
func ShortConfig() Config {
	c := DefaultConfig()
	c.Areas, c.DevicesPerArea, c.Isolated, c.Days = 5, 8, 4, 3
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Start.IsZero() || c.Days < 1 || c.Step <= 0 || c.Step > time.Hour {
		errs = append(errs, fmt.Errorf("start %v, days %d, step %s: need a start, ≥ 1 day and a step ≤ 1 h", c.Start, c.Days, c.Step))
	}
	if c.Areas < 0 || c.DevicesPerArea < 1 || c.Isolated < 0 || c.Areas*c.DevicesPerArea+c.Isolated < 1 {
		errs = append(errs, fmt.Errorf("areas %d × %d + %d isolated: need at least one device", c.Areas, c.DevicesPerArea, c.Isolated))
	}
	if !(c.FaultyFraction >= 0 && c.FaultyFraction <= 1) {
		errs = append(errs, fmt.Errorf("faulty_fraction %g outside 0..1", c.FaultyFraction))
	}
	errs = append(errs, c.Anomaly.Validate(), c.Tracker.Validate())
	return errors.Join(errs...)
}

// Fleet is a generated fleet: devices, their simulator configurations and
// the labelled faults.
type Fleet struct {
	Config  Config
	Devices []devices.Device
	Labels  []Label
	sims    []sim.Config
	faults  []func() []sim.Fault // fresh stateful faults per simulation
}

// End is the end of the evaluated period.
func (f *Fleet) End() time.Time {
	return f.Config.Start.Add(time.Duration(f.Config.Days) * 24 * time.Hour)
}

// Generate builds a fleet deterministically from cfg.Seed.
func Generate(cfg Config) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))
	f := &Fleet{Config: cfg}
	add := func(d devices.Device, sc sim.Config) {
		f.Devices = append(f.Devices, d)
		f.sims = append(f.sims, sc)
		f.faults = append(f.faults, nil)
	}
	newDevice := func(id, site string, lat, lon float64, seed int64, cloud float64) (devices.Device, sim.Config) {
		kwp := math.Round((3+rng.Float64()*17)*10) / 10
		d := devices.Device{
			ID: id, SiteID: site, KWp: kwp, ACRatingW: math.Round(kwp * 1000 * (0.8 + 0.25*rng.Float64())),
			Lat: lat, Lon: lon, TiltDeg: math.Round(10 + 25*rng.Float64()), AzimuthDeg: math.Round(150 + 60*rng.Float64()),
			GridRegion: "CN-East", Status: devices.StatusActive,
		}
		sc := sim.DefaultConfig()
		p := pvmodel.DefaultPlant()
		p.LatDeg, p.LonDeg, p.TiltDeg, p.AzimuthDeg, p.KWp, p.ACRatingW = d.Lat, d.Lon, d.TiltDeg, d.AzimuthDeg, d.KWp, d.ACRatingW
		p.ElevationM = math.Round(rng.Float64() * 500)
		sc.Plant = p
		sc.Seed, sc.Cloudiness = seed, clamp(cloud, 0, 1)
		sc.StartEnergyWh = uint64(rng.IntN(50_000_000))
		return d, sc
	}
	// Area centres at least 100 km apart: the peer method assumes that
	// devices within the peer radius share the weather, which areas with
	// independent weather seeds next to each other would contradict.
	var centres [][2]float64
	// place draws a point in [lat0, lat0+dLat) × [lon0, lon0+dLon) at least
	// ~100 km (0.9°) from every earlier centre (giving up after 1000 tries)
	// and records it as a centre.
	place := func(lat0, dLat, lon0, dLon float64) (lat, lon float64) {
		for try := 0; ; try++ {
			lat, lon = lat0+rng.Float64()*dLat, lon0+rng.Float64()*dLon
			ok := true
			for _, c := range centres {
				if math.Hypot(lat-c[0], (lon-c[1])*math.Cos(lat*math.Pi/180)) < 0.9 {
					ok = false
				}
			}
			if ok || try > 1000 {
				break
			}
		}
		centres = append(centres, [2]float64{lat, lon})
		return lat, lon
	}
	for a := range cfg.Areas {
		lat, lon := place(23, 20, 102, 20)
		seed := rng.Int64()
		cloud := 0.1 + 0.7*rng.Float64()
		for i := range cfg.DevicesPerArea {
			// Within ~12 km; each sees the area's weather with its own cloud cover.
			d, sc := newDevice(fmt.Sprintf("a%02d-%02d", a, i), fmt.Sprintf("a%02d-s%d", a, i/3),
				lat+(rng.Float64()-0.5)*0.15, lon+(rng.Float64()-0.5)*0.15, seed, cloud+(rng.Float64()-0.5)*0.06)
			add(d, sc)
		}
	}
	// Isolated devices: no other device within 100 km.
	for i := range cfg.Isolated {
		lat, lon := place(20, 26, 98, 28)
		d, sc := newDevice(fmt.Sprintf("iso-%02d", i), fmt.Sprintf("iso-%02d", i), lat, lon, rng.Int64(), 0.1+0.7*rng.Float64())
		add(d, sc)
	}
	// Faults: a FaultyFraction of the devices, picked at random, get the
	// eight types in turn.
	n := len(f.Devices)
	nFaulty := int(math.Round(cfg.FaultyFraction * float64(n)))
	for k, i := range rng.Perm(n)[:nFaulty] {
		typ := FaultTypes[k%len(FaultTypes)]
		lbl, mk := f.fault(rng, typ, f.Devices[i])
		f.Labels = append(f.Labels, lbl)
		f.faults[i] = mk
	}
	return f, nil
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// fault draws one fault of type typ for device d: its label and a
// constructor of fresh sim faults.
func (f *Fleet) fault(rng *rand.Rand, typ FaultType, d devices.Device) (Label, func() []sim.Fault) {
	cfg := f.Config
	start, end := cfg.Start, f.End()
	day := func() time.Time { return start.Add(time.Duration(rng.IntN(cfg.Days)) * 24 * time.Hour) }
	// Faults that last to the end of the period start early enough to be
	// seen for at least one full day.
	earlyDay := func() time.Time { return start.Add(time.Duration(rng.IntN(max(cfg.Days-1, 1))) * 24 * time.Hour) }
	// Local solar time: hours of the fleet's zone, shifted to the device's
	// longitude so that "10:00" is mid-morning in the west too.
	at := func(dayStart time.Time, hour float64) time.Time {
		_, offset := dayStart.Zone()
		solarShift := float64(offset)/3600 - d.Lon/15
		return dayStart.Add(time.Duration((hour + solarShift) * float64(time.Hour))).Truncate(time.Minute)
	}
	hours := func(h float64) time.Duration { return time.Duration(h * float64(time.Hour)).Truncate(time.Minute) }
	lbl := Label{DeviceID: d.ID, Type: typ}
	var mk func() []sim.Fault
	switch typ {
	case FaultTrip:
		from := at(day(), 8.5+rng.Float64()*5)
		w := sim.Window{From: from, To: from.Add(hours(1 + 3*rng.Float64()))}
		lbl.From, lbl.To, lbl.Detail = w.From, w.To, fmt.Sprintf("%s", w.To.Sub(w.From))
		mk = func() []sim.Fault { return []sim.Fault{sim.Trip{Window: w}} }
	case FaultStringLoss:
		strings := 2 + rng.IntN(3)
		from := at(earlyDay(), 6+rng.Float64()*8)
		w := sim.Window{From: from}
		lbl.From, lbl.To, lbl.Detail = from, end, fmt.Sprintf("1 of %d strings", strings)
		mk = func() []sim.Fault { return []sim.Fault{sim.StringLoss{Window: w, Strings: strings, Lost: 1}} }
	case FaultSoiling:
		loss0 := 0.05 + 0.2*rng.Float64()
		rate := 0.005 + 0.015*rng.Float64()
		from := start.Add(-time.Duration(loss0 / rate * float64(24*time.Hour)))
		w := sim.Window{From: from}
		lbl.From, lbl.To = start, end
		lbl.Detail = fmt.Sprintf("%.0f %% at start, +%.1f %%/day", 100*loss0, 100*rate)
		mk = func() []sim.Fault { return []sim.Fault{sim.Soiling{Window: w, LossPerDay: rate, MaxLoss: 0.5}} }
	case FaultStuckMeter:
		from := at(day(), 8+rng.Float64()*6)
		w := sim.Window{From: from, To: from.Add(hours(1 + 3*rng.Float64()))}
		lbl.From, lbl.To, lbl.Detail = w.From, w.To, fmt.Sprintf("%s", w.To.Sub(w.From))
		mk = func() []sim.Fault { return []sim.Fault{&sim.StuckMeter{Window: w}} }
	case FaultCommOutage:
		from := day().Add(hours(24 * rng.Float64()))
		w := sim.Window{From: from, To: from.Add(hours(0.5 + 11.5*rng.Float64()))}
		lbl.From, lbl.To, lbl.Detail = w.From, w.To, fmt.Sprintf("%s", w.To.Sub(w.From))
		mk = func() []sim.Fault { return []sim.Fault{sim.CommOutage{Window: w}} }
	case FaultCounterReset:
		from := day().Add(hours(24 * rng.Float64()))
		lbl.From, lbl.To, lbl.Detail = from, from.Add(cfg.Step), "to 0"
		mk = func() []sim.Fault { return []sim.Fault{&sim.CounterReset{Window: sim.Window{From: from}, Event: true}} }
	case FaultInflated:
		factor := math.Round((1.2+0.4*rng.Float64())*100) / 100
		counter := rng.Float64() < 0.7
		from := day()
		w := sim.Window{From: from, To: from.Add(time.Duration(1+rng.IntN(3)) * 24 * time.Hour)}
		lbl.From, lbl.To = w.From, minTime(w.To, end)
		lbl.Detail = fmt.Sprintf("×%.2f, counter inflated %v", factor, counter)
		mk = func() []sim.Fault { return []sim.Fault{&sim.Inflated{Window: w, Factor: factor, Counter: counter}} }
	case FaultClockDrift:
		from := earlyDay().Add(hours(24 * rng.Float64()))
		w := sim.Window{From: from}
		cd := sim.ClockDrift{Window: w}
		if rng.Float64() < 0.6 {
			cd.Offset = time.Duration(20+rng.IntN(70)) * time.Minute
			if rng.IntN(2) == 0 {
				cd.Offset = -cd.Offset
			}
			lbl.Detail = fmt.Sprintf("step %+.0f min", cd.Offset.Minutes())
		} else {
			cd.RatePerDay = time.Duration(10+rng.IntN(30)) * time.Minute
			lbl.Detail = fmt.Sprintf("drift %+.0f min/day", cd.RatePerDay.Minutes())
		}
		lbl.From, lbl.To = from, end
		mk = func() []sim.Fault { return []sim.Fault{cd} }
	}
	return lbl, mk
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Reading is one simulated reading as the collector would store it.
type Reading struct {
	Index int // device index in Fleet.Devices
	reading.Reading
}

// Simulate runs every device over the period (in parallel) and calls emit
// for each device with its delivered readings, in read order: dropped
// readings are missing, timestamps are as reported, and Seq counts every
// reading the device took. emit may be called concurrently for different
// devices.
func (f *Fleet) Simulate(emit func(i int, rs []reading.Reading)) error {
	var next sync.Mutex
	idx := 0
	var wg sync.WaitGroup
	errs := make([]error, len(f.Devices))
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := idx
				idx++
				next.Unlock()
				if i >= len(f.Devices) {
					return
				}
				rs, err := f.simulate(i)
				if err != nil {
					errs[i] = err
					continue
				}
				emit(i, rs)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (f *Fleet) simulate(i int) ([]reading.Reading, error) {
	cfg := f.sims[i]
	if f.faults[i] != nil {
		cfg.Faults = f.faults[i]()
	}
	inv, err := sim.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", f.Devices[i].ID, err)
	}
	d := f.Devices[i]
	step := f.Config.Step
	// Each device polls at its own phase within the step, with a few
	// seconds of jitter, as real loggers do. (Polling every device at
	// exact multiples of 5 minutes lines the samples up with the
	// simulator's cloud-noise knots and biases the sampled mean power by up
	// to 30 % under broken cloud, while the counter, integrated every
	// minute, is not: that produced false energy-mismatch alarms.)
	h := uint64(i)*0x9e3779b97f4a7c15 + uint64(f.Config.Seed)
	phase := time.Duration(mix64(h) % uint64(step))
	rs := make([]reading.Reading, 0, int(f.End().Sub(f.Config.Start)/step)+2)
	var seq uint64
	// Start one step early so that the first day's first interval exists.
	for t := f.Config.Start.Add(-step + phase); t.Before(f.End()); t = t.Add(step) {
		seq++
		jitter := time.Duration(mix64(h^seq)%10_000)*time.Millisecond - 5*time.Second
		ts, m, ok := inv.Report(t.Add(jitter))
		if !ok {
			continue
		}
		rs = append(rs, reading.Reading{DeviceID: d.ID, SiteID: d.SiteID, Seq: seq, TimeMS: ts.UnixMilli(), Measurement: m})
	}
	return rs, nil
}

// Series simulates the fleet and returns one series per device.
func (f *Fleet) Series() ([]anomaly.Series, error) {
	out := make([]anomaly.Series, len(f.Devices))
	err := f.Simulate(func(i int, rs []reading.Reading) {
		smp := make([]anomaly.Sample, len(rs))
		for k := range rs {
			smp[k] = anomaly.SampleOf(&rs[k])
		}
		out[i] = anomaly.Series{Device: f.Devices[i], Samples: smp}
	})
	return out, err
}

// mix64 is SplitMix64's finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
