package reading

import (
	"encoding/hex"
	"fmt"
	"time"
)

// View is the human-readable JSON form of a reading, used in reject records,
// proof bundles and the CLI. It is informative only: the wire bytes are what
// is signed and anchored, and a verifier must decode those rather than trust
// a View.
type View struct {
	DeviceID    string  `json:"device_id"`
	SiteID      string  `json:"site_id"`
	Seq         uint64  `json:"seq"`
	TS          string  `json:"ts"` // RFC 3339 UTC with milliseconds
	TimeMS      int64   `json:"ts_ms"`
	ACPowerW    float64 `json:"ac_power_w"`
	EnergyWh    uint64  `json:"energy_wh"`
	ACVoltageV  float64 `json:"ac_voltage_v"`
	FrequencyHz float64 `json:"frequency_hz"`
	PowerFactor float64 `json:"power_factor"`
	DCVoltageV  float64 `json:"dc_voltage_v"`
	DCCurrentA  float64 `json:"dc_current_a"`
	DCPowerW    float64 `json:"dc_power_w"`
	TempC       float64 `json:"temp_c"`
	State       uint16  `json:"state"`
	Events      uint32  `json:"events"`
	Sig         string  `json:"sig,omitempty"` // hex
}

// TimeLayout is the timestamp layout of View.TS.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// View returns r's human-readable form.
func (r *Reading) View() View {
	return View{
		DeviceID: r.DeviceID, SiteID: r.SiteID, Seq: r.Seq,
		TS: r.Time().Format(TimeLayout), TimeMS: r.TimeMS,
		ACPowerW: r.ACPowerW, EnergyWh: r.EnergyWh, ACVoltageV: r.ACVoltageV,
		FrequencyHz: r.FrequencyHz, PowerFactor: r.PowerFactor, DCVoltageV: r.DCVoltageV,
		DCCurrentA: r.DCCurrentA, DCPowerW: r.DCPowerW, TempC: r.TempC,
		State: r.State, Events: r.Events, Sig: hex.EncodeToString(r.Sig),
	}
}

// Reading converts a View back. ts_ms wins over ts; they must agree if both are set.
func (v View) Reading() (Reading, error) {
	r := Reading{DeviceID: v.DeviceID, SiteID: v.SiteID, Seq: v.Seq, TimeMS: v.TimeMS,
		Measurement: Measurement{ACPowerW: v.ACPowerW, EnergyWh: v.EnergyWh, ACVoltageV: v.ACVoltageV,
			FrequencyHz: v.FrequencyHz, PowerFactor: v.PowerFactor, DCVoltageV: v.DCVoltageV,
			DCCurrentA: v.DCCurrentA, DCPowerW: v.DCPowerW, TempC: v.TempC, State: v.State, Events: v.Events}}
	if v.TS != "" {
		t, err := time.Parse(time.RFC3339Nano, v.TS)
		if err != nil {
			return r, newError(ReasonSchema, "ts: %v", err)
		}
		if v.TimeMS != 0 && t.UnixMilli() != v.TimeMS {
			return r, newError(ReasonSchema, "ts %s and ts_ms %d disagree", v.TS, v.TimeMS)
		}
		r.TimeMS = t.UnixMilli()
	}
	if v.Sig != "" {
		sig, err := hex.DecodeString(v.Sig)
		if err != nil {
			return r, newError(ReasonMalformed, "sig: %v", err)
		}
		r.Sig = sig
	}
	return r, nil
}

func (v View) String() string { return fmt.Sprintf("%s/%d@%s", v.DeviceID, v.Seq, v.TS) }
