package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/ingest/reading"
)

const (
	// openCircuitRatio is Voc / Vmp of a crystalline-silicon array.
	openCircuitRatio = 1.2
	// vmpTempCoeff is the relative change of the MPP voltage per °C.
	vmpTempCoeff = -0.0035
	// maxIntegrationStep is the longest interval the energy counter
	// integrates with the trapezoid rule; longer gaps between Reads are
	// split into steps of at most this length.
	maxIntegrationStep = time.Minute
	// maxIntegrationSteps bounds the work one Read does for a long gap.
	maxIntegrationSteps = 7 * 24 * 60
)

// Inverter is a simulated PV inverter. Its outputs are a deterministic
// function of its Config and the sequence of times passed to Read. It is not
// safe for concurrent use.
type Inverter struct {
	cfg        Config
	physFaults []Fault
	derates    []ArrayDerater
	reports    []Fault

	started  bool
	lastT    time.Time
	lastACW  float64 // physical AC power at lastT
	energyWh uint64  // lifetime counter
	fracWh   float64 // energy accrued but not yet a whole Wh, 0..1

	// scratch is where faults edit a measurement: passing the address of a
	// local to an interface method would move it to the heap on every Read.
	scratch reading.Measurement
}

// New returns a simulated inverter, or an error if cfg is invalid.
func New(cfg Config) (*Inverter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Inverter{cfg: cfg, energyWh: cfg.StartEnergyWh}
	s.cfg.Faults = append([]Fault(nil), cfg.Faults...)
	for _, f := range s.cfg.Faults {
		if d, ok := f.(ArrayDerater); ok {
			s.derates = append(s.derates, d)
		}
		if r, ok := f.(Reporter); ok && r.ReportOnly() {
			s.reports = append(s.reports, f)
		} else {
			s.physFaults = append(s.physFaults, f)
		}
	}
	return s, nil
}

// Config returns the inverter's configuration.
func (s *Inverter) Config() Config { return s.cfg }

// EnergyWh returns the true lifetime counter (what a stuck meter hides).
func (s *Inverter) EnergyWh() uint64 { return s.energyWh }

// Read returns the inverter's measurement at t. The lifetime counter
// integrates the AC power exported since the previous Read (trapezoid rule
// on steps of at most one minute, so the energy hardly depends on how often
// Read is called); a t at or before the previous Read's adds nothing.
func (s *Inverter) Read(t time.Time) reading.Measurement {
	m := s.physical(t)
	switch {
	case !s.started:
		s.started = true
		s.lastT, s.lastACW = t, m.ACPowerW
	case t.After(s.lastT):
		s.accrue(t, m.ACPowerW)
		s.lastT, s.lastACW = t, m.ACPowerW
	}
	m.EnergyWh = s.energyWh
	if len(s.reports) > 0 {
		s.scratch = m
		for _, f := range s.reports {
			f.Apply(t, &s.scratch)
		}
		m = s.scratch
	}
	return m
}

// accrue adds the exported energy from s.lastT to t, where the power is acW.
func (s *Inverter) accrue(t time.Time, acW float64) {
	gap := t.Sub(s.lastT)
	n := int64((gap + maxIntegrationStep - 1) / maxIntegrationStep)
	n = min(max(n, 1), maxIntegrationSteps)
	var wh float64
	prevT, prevP := s.lastT, math.Max(s.lastACW, 0)
	for i := int64(1); i <= n; i++ {
		var ti time.Time
		var p float64
		if i == n {
			ti, p = t, math.Max(acW, 0)
		} else {
			ti = s.lastT.Add(time.Duration(float64(gap) * float64(i) / float64(n)))
			p = math.Max(s.physical(ti).ACPowerW, 0)
		}
		wh += (prevP + p) / 2 * ti.Sub(prevT).Hours()
		prevT, prevP = ti, p
	}
	s.fracWh += wh
	whole := math.Floor(s.fracWh)
	s.energyWh += uint64(whole)
	s.fracWh -= whole
}

// physical is what the plant does at t, after physical faults and before
// the energy counter and report-only faults.
func (s *Inverter) physical(t time.Time) reading.Measurement {
	cfg := &s.cfg
	p := &cfg.Plant
	seed := cfg.Seed
	w := s.weatherAt(t)
	o := p.Model(t, pvmodel.Conditions{ClearSkyIndex: w.kc, AmbientC: w.ambientC, WindMS: w.windMS})

	derate := 1.0
	for _, d := range s.derates {
		derate *= clamp(d.Derate(t), 0, 1)
	}
	dcAvail := o.DCAvailW * derate
	pdc0 := p.InverterDCLimitW()
	rating := p.ACRatingW

	var m reading.Measurement
	m.FrequencyHz = cfg.NominalFrequencyHz + 0.03*noise(seed, streamGridF, t, 90*time.Second) + 0.004*jitter(seed, 1, t)
	m.TempC = w.ambientC + 1.5 + 0.3*jitter(seed, 2, t)

	// Operating voltage of the array at its maximum power point.
	g := math.Max(o.POA.Global*derate, 0)
	vmp := cfg.VmpSTCV * (1 + vmpTempCoeff*(o.CellTempC-25)) * (1 + 0.04*math.Log(math.Max(g, 1)/1000))
	vmp = math.Max(vmp, 0.6*cfg.VmpSTCV)

	awake := dcAvail >= cfg.WakeFraction*p.KWp*1000
	if !awake {
		// Night: SLEEPING, no DC; twilight or deep overcast: STANDBY, the
		// array floats at open-circuit voltage.
		m.State = reading.StateSleeping
		if o.Sun.Up() && g > 0 {
			m.State = reading.StateStandby
			m.DCVoltageV = openCircuitRatio * vmp * (1 + 0.002*jitter(seed, 3, t))
		}
		m.ACPowerW = -cfg.StandbyDrawW
		m.ACVoltageV = s.gridVoltage(t, 0)
		m.PowerFactor = 0
	} else {
		// Thermal derating of the inverter in very hot air.
		acLimit := rating
		if w.ambientC > cfg.DerateAmbientC {
			acLimit = rating * math.Max(0.5, 1-0.025*(w.ambientC-cfg.DerateAmbientC))
		}
		ac, clipped := pvmodel.InverterAC(dcAvail, pdc0, p.InverterEffNominal)
		if ac > acLimit {
			ac, clipped = acLimit, true
		}
		dc, v := dcAvail, vmp
		if clipped {
			// Off the maximum power point, towards open circuit, drawing just
			// the DC power needed for acLimit.
			dc = dcForAC(acLimit, pdc0, p.InverterEffNominal)
			dc = math.Min(dc, dcAvail)
			v = vmp * (1 + (openCircuitRatio-1)*math.Min(1, 3*(1-dc/dcAvail)))
		}
		m.State = reading.StateMPPT
		if clipped {
			m.State = reading.StateThrottled
		}
		m.ACPowerW = ac
		m.DCPowerW = dc
		m.DCVoltageV = v * (1 + 0.001*jitter(seed, 4, t))
		m.DCCurrentA = dc / v * (1 + 0.001*jitter(seed, 5, t))
		load := ac / rating
		m.ACVoltageV = s.gridVoltage(t, load)
		m.PowerFactor = clamp(0.9905+0.009*math.Min(load/0.3, 1)+0.0005*jitter(seed, 6, t), 0.99, 1)
		m.TempC += 18 * load
	}
	if len(s.physFaults) > 0 {
		s.scratch = m
		for _, f := range s.physFaults {
			f.Apply(t, &s.scratch)
		}
		m = s.scratch
	}
	return m
}

// gridVoltage is the grid's phase voltage at t: nominal, a slow drift of
// ±3 V, a rise of up to 2 V with export and ±0.3 V of noise.
func (s *Inverter) gridVoltage(t time.Time, load float64) float64 {
	seed := s.cfg.Seed
	return s.cfg.NominalACVoltageV + 3*noise(seed, streamGridV, t, 10*time.Minute) +
		2*load + 0.3*jitter(seed, 7, t)
}

// dcForAC solves InverterAC(dc) = ac for dc by fixed-point iteration on the
// efficiency curve (which is flat near full load).
func dcForAC(ac, pdc0, effNominal float64) float64 {
	dc := ac / effNominal
	for range 4 {
		eta := pvmodel.InverterEfficiency(dc, pdc0, effNominal)
		if eta <= 0 {
			break
		}
		dc = ac / eta
	}
	return dc
}

// String describes the inverter for logs.
func (s *Inverter) String() string {
	p := s.cfg.Plant
	return fmt.Sprintf("sim inverter %.1f kWp/%.0f W at %.2f,%.2f seed %d", p.KWp, p.ACRatingW, p.LatDeg, p.LonDeg, s.cfg.Seed)
}
