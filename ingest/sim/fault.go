package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// Fault changes what the simulated inverter does or reports. The simulator
// applies each fault in Config.Faults order, in two phases:
//
//   - Physical faults (the default) change what the plant produces: Apply
//     edits the measurement before the energy counter integrates its AC
//     power. They are also called at the instants between two Reads where
//     the counter integrates (see Inverter.Read), so they must be pure
//     functions of (t, m).
//   - A fault that implements Reporter with ReportOnly() == true changes
//     only what is reported (a stuck register, an inflated reading, a shifted
//     clock): Apply runs once per Read, in Read order, after EnergyWh is set,
//     and may keep state.
//
// A fault that also implements ArrayDerater scales the array's available DC
// power before the inverter model, so the inverter's efficiency and
// clipping respond to it (soiling, a lost string).
type Fault interface {
	Apply(t time.Time, m *reading.Measurement)
}

// Reporter marks a fault that changes only the report, not the production.
type Reporter interface {
	ReportOnly() bool
}

// ArrayDerater is a fault that scales the array's available DC power at t
// by a factor in [0, 1].
type ArrayDerater interface {
	Derate(t time.Time) float64
}

// Window is a half-open time interval [From, To); a zero To never ends.
type Window struct {
	From, To time.Time
}

// Contains reports whether t is in the window.
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.From) && (w.To.IsZero() || t.Before(w.To))
}

func (w Window) validate() error {
	if w.From.IsZero() {
		return errors.New("window has no start")
	}
	if !w.To.IsZero() && !w.To.After(w.From) {
		return fmt.Errorf("window ends at %s, not after its start %s", w.To.Format(time.RFC3339), w.From.Format(time.RFC3339))
	}
	return nil
}

// Trip disconnects the inverter from the grid during the window: state
// FAULT, no AC output and no DC current; the array floats at open-circuit
// voltage (about 1.2 × its operating voltage). Events are OR-ed into Evt1;
// if zero, EvtGridDisconnect is reported.
type Trip struct {
	Window
	Events uint32
}

// Validate checks the window.
func (f Trip) Validate() error { return f.Window.validate() }

// Apply implements Fault.
func (f Trip) Apply(t time.Time, m *reading.Measurement) {
	if !f.Contains(t) {
		return
	}
	ev := f.Events
	if ev == 0 {
		ev = reading.EvtGridDisconnect
	}
	m.State = reading.StateFault
	m.Events |= ev
	m.ACPowerW = 0
	m.PowerFactor = 0
	m.DCCurrentA = 0
	m.DCPowerW = 0
	m.DCVoltageV *= openCircuitRatio
}

// StringLoss disconnects Lost of Strings parallel strings during the window
// (a blown fuse, a cut cable): available DC power and current fall by
// Lost/Strings, the voltage stays. With FuseEvent the inverter reports
// EvtBlownStringFuse; without it, the loss is silent, as it often is.
type StringLoss struct {
	Window
	Strings   int
	Lost      int
	FuseEvent bool
}

// Validate checks the window and string counts.
func (f StringLoss) Validate() error {
	if f.Strings < 1 || f.Lost < 1 || f.Lost > f.Strings {
		return fmt.Errorf("string loss of %d of %d strings", f.Lost, f.Strings)
	}
	return f.Window.validate()
}

// Derate implements ArrayDerater.
func (f StringLoss) Derate(t time.Time) float64 {
	if !f.Contains(t) || f.Strings <= 0 {
		return 1
	}
	return clamp(1-float64(f.Lost)/float64(f.Strings), 0, 1)
}

// Apply implements Fault: it sets the fuse event while the sun makes power.
func (f StringLoss) Apply(t time.Time, m *reading.Measurement) {
	if f.FuseEvent && f.Contains(t) && m.DCVoltageV > 0 {
		m.Events |= reading.EvtBlownStringFuse
	}
}

// Soiling builds up dirt on the modules from From: available DC power falls
// by LossPerDay per day, up to MaxLoss, until a cleaning (or heavy rain) at
// To restores it.
type Soiling struct {
	Window
	LossPerDay float64 // fraction per day, e.g. 0.002
	MaxLoss    float64 // fraction, e.g. 0.3
}

// Validate checks the window and rates.
func (f Soiling) Validate() error {
	if !(f.LossPerDay > 0 && f.LossPerDay <= 0.1) {
		return fmt.Errorf("soiling loss per day %g outside (0, 0.1]", f.LossPerDay)
	}
	if !(f.MaxLoss > 0 && f.MaxLoss <= 1) {
		return fmt.Errorf("soiling max loss %g outside (0, 1]", f.MaxLoss)
	}
	return f.Window.validate()
}

// Derate implements ArrayDerater.
func (f Soiling) Derate(t time.Time) float64 {
	if !f.Contains(t) {
		return 1
	}
	days := t.Sub(f.From).Hours() / 24
	return 1 - math.Min(f.LossPerDay*days, f.MaxLoss)
}

// Apply implements Fault; soiling raises no event.
func (f Soiling) Apply(time.Time, *reading.Measurement) {}

// StuckMeter freezes the inverter's report during the window: every Read
// returns the measurement (energy counter included) of the first Read in
// the window. Production and the true counter go on, so the counter jumps
// when the window ends. It keeps state: use one per Inverter, by pointer.
type StuckMeter struct {
	Window
	frozen *reading.Measurement
}

// Validate checks the window.
func (f *StuckMeter) Validate() error { return f.Window.validate() }

// ReportOnly implements Reporter.
func (f *StuckMeter) ReportOnly() bool { return true }

// Apply implements Fault.
func (f *StuckMeter) Apply(t time.Time, m *reading.Measurement) {
	if !f.Contains(t) {
		f.frozen = nil
		return
	}
	if f.frozen == nil {
		c := *m
		f.frozen = &c
		return
	}
	*m = *f.frozen
}
