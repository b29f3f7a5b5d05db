package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// This file adds the faults that change what reaches the collector rather
// than what the plant does: a lost link (CommOutage), a counter reset
// (CounterReset), fabricated readings (Inflated) and a wrong clock
// (ClockDrift). The first and last cannot be expressed by editing a
// Measurement (a reading that is never sent, a timestamp that is not part of
// the Measurement), so they implement two more hook interfaces, Dropper and
// Retimer, which Inverter.Report applies; Inverter.Read ignores them.

// Dropper is a fault that loses readings between the inverter and the
// collector: the inverter goes on producing and its counter goes on
// integrating, but the reading taken at t is never delivered.
type Dropper interface {
	Drop(t time.Time) bool
}

// Retimer is a fault that changes the timestamp a reading carries: the
// inverter is read at the true instant t but reports Retime(t).
type Retimer interface {
	Retime(t time.Time) time.Time
}

// Report reads the inverter at the true instant t (so the lifetime counter
// integrates exactly as with Read) and then applies the reporting faults of
// Config.Faults that Read cannot express: ts is the timestamp the reading
// carries (Retimer faults, in order) and ok is false when a Dropper loses
// the reading. Callers that publish readings (the edge agent's simulator
// source, anomaly/eval) use Report; Read stays the plant's view.
func (s *Inverter) Report(t time.Time) (ts time.Time, m reading.Measurement, ok bool) {
	m = s.Read(t)
	ts, ok = t, true
	for _, f := range s.cfg.Faults {
		if d, isDropper := f.(Dropper); isDropper && d.Drop(t) {
			ok = false
		}
		if r, isRetimer := f.(Retimer); isRetimer {
			ts = r.Retime(ts)
		}
	}
	return ts, m, ok
}

// CommOutage loses every reading taken during the window (a dead modem, a
// broken cable to the data logger, an agent that is down past its disk
// buffer). Production and the true counter go on, so the first reading after
// the outage carries the energy made during it. It implements Dropper and is
// report-only; Read is unaffected.
type CommOutage struct {
	Window
}

// Validate checks the window.
func (f CommOutage) Validate() error { return f.Window.validate() }

// ReportOnly implements Reporter.
func (CommOutage) ReportOnly() bool { return true }

// Apply implements Fault; the outage changes no value.
func (CommOutage) Apply(time.Time, *reading.Measurement) {}

// Drop implements Dropper.
func (f CommOutage) Drop(t time.Time) bool { return f.Contains(t) }

// CounterReset makes the reported lifetime counter fall to To at the first
// Read at or after From (a firmware update, a replaced meter board, memory
// loss) and count on from there: after the reset the report is the true
// counter minus a fixed offset. With Event, that first reading also carries
// EvtMemoryLoss. A zero Window.To keeps the offset for ever; a non-zero To
// ends the fault there and the report returns to the true counter (a second
// discontinuity, upwards). It keeps state: use one per Inverter, by pointer.
type CounterReset struct {
	Window
	To    uint64 // reported counter right after the reset, Wh (usually 0)
	Event bool   // report EvtMemoryLoss on the reset reading

	offset uint64
	armed  bool // the reset has happened
}

// Validate checks the window.
func (f *CounterReset) Validate() error { return f.Window.validate() }

// ReportOnly implements Reporter.
func (f *CounterReset) ReportOnly() bool { return true }

// Apply implements Fault.
func (f *CounterReset) Apply(t time.Time, m *reading.Measurement) {
	if !f.Contains(t) {
		if !t.Before(f.From) { // past a non-zero To: back to the true counter
			f.armed = false
		}
		return
	}
	if !f.armed {
		f.armed = true
		f.offset = 0
		if m.EnergyWh > f.To {
			f.offset = m.EnergyWh - f.To
		}
		if f.Event {
			m.Events |= reading.EvtMemoryLoss
		}
	}
	m.EnergyWh -= min(f.offset, m.EnergyWh)
}

// Inflated fabricates readings during the window, as someone holding a stolen
// device key could: AC power, DC power and DC current are multiplied by
// Factor (> 1) whenever the inverter produces. With Counter, the lifetime
// counter is inflated consistently (it advances Factor times as fast during
// the window and keeps the fabricated surplus afterwards, so it never goes
// back); without it, only the power registers lie, a careless forgery that
// energy-versus-power consistency checks catch. It keeps state: use one per
// Inverter, by pointer.
type Inflated struct {
	Window
	Factor  float64 // > 1, e.g. 1.3
	Counter bool    // inflate the energy counter consistently

	started bool
	baseWh  uint64  // true counter at the first Read in the window
	extraWh float64 // fabricated energy so far
}

// Validate checks the window and factor.
func (f *Inflated) Validate() error {
	if !(f.Factor > 1 && f.Factor <= 10) {
		return fmt.Errorf("inflation factor %g outside (1, 10]", f.Factor)
	}
	return f.Window.validate()
}

// ReportOnly implements Reporter.
func (f *Inflated) ReportOnly() bool { return true }

// Apply implements Fault.
func (f *Inflated) Apply(t time.Time, m *reading.Measurement) {
	if f.Contains(t) {
		if m.ACPowerW > 0 {
			m.ACPowerW *= f.Factor
			m.DCPowerW *= f.Factor
			m.DCCurrentA *= f.Factor
		}
		if f.Counter {
			if !f.started {
				f.started, f.baseWh = true, m.EnergyWh
			}
			f.extraWh = (f.Factor - 1) * float64(m.EnergyWh-f.baseWh)
		}
	}
	if f.Counter && f.extraWh > 0 {
		m.EnergyWh += uint64(math.Round(f.extraWh))
	}
}

// ClockDrift makes the inverter report wrong timestamps during the window:
// a reading taken at the true instant t carries t + Offset + RatePerDay ×
// (days since From). A step Offset is a wrong time zone or daylight-saving
// setting, a manual clock change, a GPS week rollover; RatePerDay is a
// drifting real-time clock with no time synchronisation. It implements
// Retimer and is report-only; Read is unaffected.
type ClockDrift struct {
	Window
	Offset     time.Duration
	RatePerDay time.Duration
}

// Validate checks the window and that the fault shifts the clock at all.
func (f ClockDrift) Validate() error {
	if f.Offset == 0 && f.RatePerDay == 0 {
		return errors.New("clock drift with neither offset nor rate")
	}
	if f.Offset.Abs() > 7*24*time.Hour || f.RatePerDay.Abs() > 24*time.Hour {
		return fmt.Errorf("clock drift offset %s or rate %s/day is implausible", f.Offset, f.RatePerDay)
	}
	return f.Window.validate()
}

// ReportOnly implements Reporter.
func (ClockDrift) ReportOnly() bool { return true }

// Apply implements Fault; the drift changes no value.
func (ClockDrift) Apply(time.Time, *reading.Measurement) {}

// Retime implements Retimer.
func (f ClockDrift) Retime(t time.Time) time.Time {
	if !f.Contains(t) {
		return t
	}
	days := float64(t.Sub(f.From)) / float64(24*time.Hour)
	return t.Add(f.Offset + time.Duration(days*float64(f.RatePerDay)))
}

// Interface checks.
var (
	_ Fault    = CommOutage{}
	_ Dropper  = CommOutage{}
	_ Reporter = CommOutage{}
	_ Fault    = (*CounterReset)(nil)
	_ Reporter = (*CounterReset)(nil)
	_ Fault    = (*Inflated)(nil)
	_ Reporter = (*Inflated)(nil)
	_ Fault    = ClockDrift{}
	_ Retimer  = ClockDrift{}
	_ Reporter = ClockDrift{}
)
