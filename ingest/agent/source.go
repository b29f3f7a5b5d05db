package agent

import (
	"fmt"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/sim"
)

// simSource adapts the simulator, which cannot fail, to Source.
type simSource struct{ inv *sim.Inverter }

func (s simSource) Read(t time.Time) (reading.Measurement, error) { return s.inv.Read(t), nil }

// NewSource builds the configured inverter source.
func NewSource(c SourceConfig) (Source, error) {
	switch c.Kind {
	case "sim":
		sc := sim.DefaultConfig()
		sc.Seed, sc.Cloudiness = c.Seed, c.Cloudiness
		p := &sc.Plant
		p.LatDeg, p.LonDeg, p.TiltDeg, p.AzimuthDeg = c.Lat, c.Lon, c.TiltDeg, c.AzimuthDeg
		if c.KWp > 0 {
			p.KWp = c.KWp
			p.ACRatingW = 0.92 * c.KWp * 1000 // typical DC/AC ratio of 1.09
		}
		if c.ACRatingW > 0 {
			p.ACRatingW = c.ACRatingW
		}
		inv, err := sim.New(sc)
		if err != nil {
			return nil, fmt.Errorf("simulator source: %w", err)
		}
		return simSource{inv}, nil
	}
	return nil, fmt.Errorf("source kind %q: only \"sim\" is supported", c.Kind)
}

// Resume implements Resumer.
func (s simSource) Resume(energyWh uint64, t time.Time) { s.inv.Resume(energyWh, t) }
