package anchor_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// t0 is the start of a 15-minute span: 2025-06-01T10:15:00Z.
var t0 = time.Date(2025, 6, 1, 10, 15, 0, 0, time.UTC).UnixMilli()

// deviceKey returns a fixed key for test device n: seeds are
// SHA-256("sunproof anchor test device <n>").
func deviceKey(n int) ed25519.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "sunproof anchor test device %d", n))
	return ed25519.NewKeyFromSeed(seed[:])
}

func deviceID(n int) string { return fmt.Sprintf("inv-%03d", n) }

// signed returns the wire bytes of a reading of device n with seq and ts;
// the values are derived from them.
func signed(tb testing.TB, n int, seq uint64, tsMS int64) []byte {
	tb.Helper()
	r := reading.Reading{
		DeviceID: deviceID(n),
		SiteID:   "site-1",
		Seq:      seq,
		TimeMS:   tsMS,
		Measurement: reading.Measurement{
			ACPowerW:    1000 + float64(seq%97)*10.5,
			EnergyWh:    1_000_000 + seq*250,
			ACVoltageV:  230.1,
			FrequencyHz: 50.01,
			PowerFactor: 0.99,
			DCVoltageV:  380,
			DCCurrentA:  2.5,
			DCPowerW:    950,
			TempC:       41.5,
			State:       reading.StateMPPT,
		},
	}
	if err := r.Sign(deviceKey(n)); err != nil {
		tb.Fatal(err)
	}
	w, err := r.Wire()
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// fleet returns readings for devices 1..nDev, one per device every step
// from start for count steps; seq starts at 1 for each device.
func fleet(tb testing.TB, nDev int, start int64, step time.Duration, count int) [][]byte {
	tb.Helper()
	var out [][]byte
	for i := 0; i < count; i++ {
		for d := 1; d <= nDev; d++ {
			out = append(out, signed(tb, d, uint64(i+1), start+int64(i)*step.Milliseconds()+int64(d)))
		}
	}
	return out
}
