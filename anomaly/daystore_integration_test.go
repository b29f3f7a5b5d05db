package anomaly_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationDayStore saves day summaries to InfluxDB, overwrites one
// date, and checks that Load and LoadHistory give them back as saved.
func TestIntegrationDayStore(t *testing.T) {
	env := teststack.Require(t, teststack.Influx)
	ctx := context.Background()
	db := "daystore_" + teststack.RunID()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
	})
	cfg := anomaly.DefaultDayStoreConfig()
	cfg.URL, cfg.Database, cfg.BatchSize, cfg.ChunkSize = env.InfluxURL, db, 7, 5 // several writes and chunks
	st, err := anomaly.NewInfluxDayStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ds []day
	for i := range 10 {
		ds = append(ds, day{pi: 0.9 + 0.01*float64(i), peerPI: i%2 == 0, off: float64(i) - 4.5, peerOff: i%3 == 0, shift: i == 7})
	}
	ds[3].pi, ds[4].off = nan, nan
	sums, end := history(ds)
	other := sums[8]
	other.DeviceID, other.SiteID = "e", ""
	if err := st.Save(ctx, append(sums, other)); err != nil {
		t.Fatal(err)
	}
	// A later scan of day 9 overwrites its point.
	again := sums[9]
	again.PIRatio = 0.5
	if err := st.Save(ctx, []anomaly.DaySummary{again}); err != nil {
		t.Fatal(err)
	}
	sums[9] = again

	got, err := st.Load(ctx, sums[2].Date)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]anomaly.DaySummary{}
	for _, s := range append(sums[2:], other) {
		want[s.DeviceID+s.Date.Format(time.DateOnly)] = s
	}
	if len(got) != len(want) {
		t.Fatalf("loaded %d summaries, want %d", len(got), len(want))
	}
	same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	for _, g := range got {
		w, ok := want[g.DeviceID+g.Date.Format(time.DateOnly)]
		if !ok || g.SiteID != w.SiteID || !g.Date.Equal(w.Date) || !g.Span.From.Equal(w.Span.From) || !g.Span.To.Equal(w.Span.To) ||
			!same(g.PIRatio, w.PIRatio) || !same(g.SkyIndex, w.SkyIndex) || !same(g.OffsetMin, w.OffsetMin) ||
			g.PeerPI != w.PeerPI || g.PeerOffset != w.PeerOffset || g.ClockShift != w.ClockShift {
			t.Errorf("loaded %+v\nwant     %+v", g, w)
		}
	}

	h, err := anomaly.LoadHistory(ctx, st, 5, end)
	if err != nil {
		t.Fatal(err)
	}
	if devs, n := h.Len(); devs != 2 || n != 6 {
		t.Errorf("history of %d devices, %d days; want 2, 6 (d: the last 5 days, e: 1)", devs, n)
	}
}
