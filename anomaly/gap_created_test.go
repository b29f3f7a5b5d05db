package anomaly_test

import (
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
)

// TestGapBeforeRegistration: silence before a device was registered is not
// an outage; the same silence from a device registered long before is.
func TestGapBeforeRegistration(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	from, to := day, day.Add(24*time.Hour)
	firstReading := day.Add(11 * time.Hour)
	cases := []struct {
		desc    string
		created time.Time
		wantGap bool
	}{
		{"registered when it first reported", firstReading.Add(-time.Minute), false},
		{"registered after its backfilled history", to.Add(time.Hour), false},
		{"registered a week before", day.Add(-7 * 24 * time.Hour), true},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			plants := area("gapc", 1, 31.82, 117.23, 1, 0.1)
			series := run(t, plants, firstReading, to, 5*time.Minute)
			series[0].Device.CreatedAt = tc.created
			res := scan(t, anomaly.DefaultConfig(), series, from, to)
			gap := false
			for _, f := range res.Findings {
				if f.Type == anomaly.TypeCommGap && !f.Span.From.After(firstReading.Add(-time.Hour)) && f.Span.To.Equal(series[0].Samples[0].T) {
					gap = true
				}
			}
			if gap != tc.wantGap {
				t.Fatalf("gap before the first reading reported = %v, want %v:%s", gap, tc.wantGap, describe(res.Findings))
			}
		})
	}
}
