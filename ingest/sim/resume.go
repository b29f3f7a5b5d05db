package sim

import "time"

// Resume continues a simulation after a restart: the lifetime counter
// carries on from energyWh (a real inverter keeps its counter in
// non-volatile memory) and energy accrues from t on. A counter below the
// current one is ignored, so Resume never makes the counter go backwards.
func (s *Inverter) Resume(energyWh uint64, t time.Time) {
	if energyWh > s.energyWh {
		s.energyWh, s.fracWh = energyWh, 0
	}
	s.started = true
	s.lastT, s.lastACW = t, s.physical(t).ACPowerW
}
