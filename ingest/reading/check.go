package reading

import (
	"math"
	"time"
)

// Limits bound the values a reading may carry. DefaultLimits documents the
// defaults; a rated power of 0 disables the capacity checks.
type Limits struct {
	RatedW          float64       // plant rating (kWp × 1000); 0 = unknown
	CapacityFactor  float64       // AC or DC power above CapacityFactor × RatedW is implausible
	MaxFutureSkew   time.Duration // a timestamp further than this ahead of the receiver's clock is rejected
	MinTimeMS       int64         // timestamps before this are a schema violation
	MaxStandbyDrawW float64       // AC power below −max(this, 5 % of RatedW) is implausible
}

// DefaultLimits returns the limits the collector uses unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{
		CapacityFactor:  1.2,
		MaxFutureSkew:   5 * time.Minute,
		MinTimeMS:       time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		MaxStandbyDrawW: 50,
	}
}

// Check validates r's values against lim at time now: units and ranges
// (ReasonSchema), NaN/Inf (ReasonNaNInf), physics (ReasonImplausible) and
// clock (ReasonFutureTimestamp). It does not verify the signature.
func Check(r *Reading, lim Limits, now time.Time) error {
	if err := CheckID("device_id", r.DeviceID); err != nil {
		return err
	}
	if err := CheckID("site_id", r.SiteID); err != nil {
		return err
	}
	fs := r.floats()
	for i, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return newError(ReasonNaNInf, "%s is %v", floatNames[i], f)
		}
	}
	switch {
	case r.TimeMS < lim.MinTimeMS:
		return newError(ReasonSchema, "ts %d ms is before %s", r.TimeMS, time.UnixMilli(lim.MinTimeMS).UTC().Format(time.RFC3339))
	case r.State < StateOff || r.State > StateStandby:
		return newError(ReasonSchema, "state %d is not a SunSpec operating state (1..8)", r.State)
	case r.PowerFactor < -1 || r.PowerFactor > 1:
		return newError(ReasonSchema, "power_factor %g outside [-1, 1]", r.PowerFactor)
	case r.FrequencyHz != 0 && (r.FrequencyHz < 40 || r.FrequencyHz > 70):
		return newError(ReasonSchema, "frequency_hz %g outside 40..70 Hz (0 = not measured)", r.FrequencyHz)
	case r.ACVoltageV < 0 || r.ACVoltageV > 1000:
		return newError(ReasonSchema, "ac_voltage_v %g outside 0..1000 V", r.ACVoltageV)
	case r.DCVoltageV < 0 || r.DCVoltageV > 1500:
		return newError(ReasonSchema, "dc_voltage_v %g outside 0..1500 V", r.DCVoltageV)
	case r.DCCurrentA < 0:
		return newError(ReasonSchema, "dc_current_a %g is negative", r.DCCurrentA)
	case r.DCPowerW < 0:
		return newError(ReasonSchema, "dc_power_w %g is negative", r.DCPowerW)
	case r.TempC < -60 || r.TempC > 150:
		return newError(ReasonSchema, "temp_c %g outside -60..150 °C", r.TempC)
	}
	if lim.RatedW > 0 {
		max := lim.CapacityFactor * lim.RatedW
		if r.ACPowerW > max {
			return newError(ReasonImplausible, "ac_power_w %.0f above %.2f × rated %.0f W", r.ACPowerW, lim.CapacityFactor, lim.RatedW)
		}
		if r.DCPowerW > max {
			return newError(ReasonImplausible, "dc_power_w %.0f above %.2f × rated %.0f W", r.DCPowerW, lim.CapacityFactor, lim.RatedW)
		}
		if draw := math.Max(lim.MaxStandbyDrawW, 0.05*lim.RatedW); r.ACPowerW < -draw {
			return newError(ReasonImplausible, "ac_power_w %.0f: draws more than %.0f W", r.ACPowerW, draw)
		}
	}
	if r.DCPowerW > 0 && r.DCVoltageV > 0 && r.DCCurrentA > 0 {
		// DCW must agree with DCV × DCA within 10 % (+10 W for sensor offsets).
		if p := r.DCVoltageV * r.DCCurrentA; math.Abs(p-r.DCPowerW) > 0.1*p+10 {
			return newError(ReasonImplausible, "dc_power_w %.0f disagrees with dc_voltage_v × dc_current_a = %.0f", r.DCPowerW, p)
		}
	}
	if lim.MaxFutureSkew > 0 {
		if ahead := time.UnixMilli(r.TimeMS).Sub(now); ahead > lim.MaxFutureSkew {
			return newError(ReasonFutureTimestamp, "ts is %s ahead of the receiver's clock (limit %s)", ahead.Round(time.Second), lim.MaxFutureSkew)
		}
	}
	return nil
}
