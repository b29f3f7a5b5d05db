package sim

import (
	"errors"
	"fmt"
	"math"

	"github.com/sunproof/sunproof/anomaly/pvmodel"
)

// Config configures one simulated inverter and the plant behind it.
type Config struct {
	Plant pvmodel.Plant // site, orientation, kWp, AC rating, model parameters

	Seed       int64   // selects the weather; same seed ⇒ same weather
	Cloudiness float64 // 0 = always clear … 1 = always overcast; long-run mean cloud cover

	StartEnergyWh uint64 // lifetime AC energy counter at the first Read

	// Electrical.
	VmpSTCV            float64 // array maximum-power voltage at STC, V (Voc ≈ 1.2 × Vmp)
	NominalACVoltageV  float64 // grid phase voltage, V (230)
	NominalFrequencyHz float64 // grid frequency, Hz (50)
	StandbyDrawW       float64 // AC power drawn while sleeping, W, 0..5 (reported as −StandbyDrawW)
	WakeFraction       float64 // the inverter runs when available DC power ≥ WakeFraction × kWp × 1000

	// Climate: air temperature = mean + seasonal + daily + weather terms.
	AmbientMeanC     float64 // annual mean air temperature, °C
	AmbientSeasonalC float64 // amplitude of the annual cycle (warmest late July in the north), °C
	AmbientDailyC    float64 // amplitude of the daily cycle (warmest 14:30 solar time), °C
	DerateAmbientC   float64 // above this air temperature the inverter derates 2.5 %/°C

	// Faults are applied in order; see Fault. A stateful fault (such as
	// StuckMeter) belongs to one Inverter.
	Faults []Fault
}

// DefaultConfig returns a 5 kWp rooftop system in Hefei (pvmodel.DefaultPlant)
// with seed 1, cloudiness 0.3, a 400 V string, a 230 V / 50 Hz grid, 2 W
// standby draw, wake-up at 0.4 % of kWp, and Hefei's climate (mean 16.5 °C,
// ±12 °C seasonal, ±4.5 °C daily), derating above 45 °C air.
func DefaultConfig() Config {
	return Config{
		Plant:              pvmodel.DefaultPlant(),
		Seed:               1,
		Cloudiness:         0.3,
		VmpSTCV:            400,
		NominalACVoltageV:  230,
		NominalFrequencyHz: 50,
		StandbyDrawW:       2,
		WakeFraction:       0.004,
		AmbientMeanC:       16.5,
		AmbientSeasonalC:   12,
		AmbientDailyC:      4.5,
		DerateAmbientC:     45,
	}
}

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("invalid simulator config")

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if err := c.Plant.Validate(); err != nil {
		return fmt.Errorf("plant: %w: %w", ErrInvalidConfig, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidConfig)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"cloudiness", c.Cloudiness}, {"vmp_stc_v", c.VmpSTCV}, {"nominal_ac_voltage_v", c.NominalACVoltageV},
		{"nominal_frequency_hz", c.NominalFrequencyHz}, {"standby_draw_w", c.StandbyDrawW},
		{"wake_fraction", c.WakeFraction}, {"ambient_mean_c", c.AmbientMeanC},
		{"ambient_seasonal_c", c.AmbientSeasonalC}, {"ambient_daily_c", c.AmbientDailyC},
		{"derate_ambient_c", c.DerateAmbientC},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return bad("%s is %v", f.name, f.v)
		}
	}
	switch {
	case c.Cloudiness < 0 || c.Cloudiness > 1:
		return bad("cloudiness %g outside 0..1", c.Cloudiness)
	case c.VmpSTCV < 50 || c.VmpSTCV > 1000:
		// 1.2 × Vmp at cold temperatures must stay below the 1500 V that
		// reading.Check allows.
		return bad("vmp_stc_v %g outside 50..1000", c.VmpSTCV)
	case c.NominalACVoltageV < 100 || c.NominalACVoltageV > 480:
		return bad("nominal_ac_voltage_v %g outside 100..480", c.NominalACVoltageV)
	case c.NominalFrequencyHz != 50 && c.NominalFrequencyHz != 60:
		return bad("nominal_frequency_hz %g is neither 50 nor 60", c.NominalFrequencyHz)
	case c.StandbyDrawW < 0 || c.StandbyDrawW > 5:
		return bad("standby_draw_w %g outside 0..5", c.StandbyDrawW)
	case c.WakeFraction <= 0 || c.WakeFraction > 0.1:
		return bad("wake_fraction %g outside (0, 0.1]", c.WakeFraction)
	case c.AmbientMeanC < -40 || c.AmbientMeanC > 40:
		return bad("ambient_mean_c %g outside -40..40", c.AmbientMeanC)
	case c.AmbientSeasonalC < 0 || c.AmbientSeasonalC > 30:
		return bad("ambient_seasonal_c %g outside 0..30", c.AmbientSeasonalC)
	case c.AmbientDailyC < 0 || c.AmbientDailyC > 15:
		return bad("ambient_daily_c %g outside 0..15", c.AmbientDailyC)
	case c.DerateAmbientC < 20 || c.DerateAmbientC > 70:
		return bad("derate_ambient_c %g outside 20..70", c.DerateAmbientC)
	}
	for i, f := range c.Faults {
		if f == nil {
			return bad("fault %d is nil", i)
		}
		if v, ok := f.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("fault %d (%T): %w: %w", i, f, ErrInvalidConfig, err)
			}
		}
	}
	return nil
}
