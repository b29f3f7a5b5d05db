package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/sim"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/teststack"
)

// fleetSpec is one seeded device.
type fleetSpec struct {
	id, site, installer, loan string
	kwp                       float64
	tilt, azimuth             float64
	fault                     string // "" or "trip"
}

// The seeded fleet: two installers, two loans, one device that trips at
// midday.
var fleet = []fleetSpec{
	{"ui-inv-01", "ui-site-hefei-1", "acme-solar", "LOAN-A", 5, 25, 180, ""},
	{"ui-inv-02", "ui-site-hefei-1", "acme-solar", "LOAN-A", 6, 25, 180, ""},
	{"ui-inv-03", "ui-site-hefei-2", "acme-solar", "", 8, 20, 170, "trip"},
	{"ui-inv-04", "ui-site-wuhu-1", "sunny-install", "LOAN-B", 5, 30, 190, ""},
	{"ui-inv-05", "ui-site-wuhu-1", "sunny-install", "LOAN-B", 4, 30, 190, ""},
	{"ui-inv-06", "ui-site-wuhu-2", "sunny-install", "", 10, 25, 180, ""},
}

var sites = []devices.Site{
	{ID: "ui-site-hefei-1", Name: "Hefei farmhouse", Installer: "acme-solar", GridRegion: "CN-East", Lat: 31.82, Lon: 117.23, LoanRef: "LOAN-A"},
	{ID: "ui-site-hefei-2", Name: "Hefei school roof", Installer: "acme-solar", GridRegion: "CN-East", Lat: 31.86, Lon: 117.28},
	{ID: "ui-site-wuhu-1", Name: "Wuhu orchard", Installer: "sunny-install", GridRegion: "CN-East", Lat: 31.33, Lon: 118.38, LoanRef: "LOAN-B"},
	{ID: "ui-site-wuhu-2", Name: "Wuhu warehouse", Installer: "sunny-install", GridRegion: "CN-East", Lat: 31.35, Lon: 118.41},
}

// deviceKey derives a device's signing key from the run id.
func deviceKey(run, id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("sunproof ui test " + run + " " + id))
	return ed25519.NewKeyFromSeed(seed[:])
}

// seed is what seeding produced.
type seed struct {
	run      string
	topic    string
	db       string
	start    time.Time // first reading
	end      time.Time // the simulated clock's "now"
	devs     []devices.Device
	keys     map[string]ed25519.PrivateKey
	readings map[string][]reading.Reading // per device, by seq
	contract string
	chainID  uint64
}

func siteOf(id string) devices.Site {
	for _, s := range sites {
		if s.ID == id {
			return s
		}
	}
	panic("no site " + id)
}

// publishRegistry writes the fleet to a fresh registry topic.
func publishRegistry(ctx context.Context, env teststack.Env, s *seed, at time.Time) error {
	if err := devices.EnsureTopic(ctx, env.Brokers, s.topic); err != nil {
		return fmt.Errorf("registry topic: %w", err)
	}
	pub := devices.NewPublisher(env.Brokers, s.topic)
	defer pub.Close()
	for _, st := range sites {
		st.CreatedAt = at
		if err := pub.PutSite(ctx, st); err != nil {
			return err
		}
	}
	for _, f := range fleet {
		st := siteOf(f.site)
		d := devices.Device{
			ID: f.id, SiteID: f.site, PublicKey: s.keys[f.id].Public().(ed25519.PublicKey),
			KWp: f.kwp, ACRatingW: f.kwp * 920, Lat: st.Lat, Lon: st.Lon, TiltDeg: f.tilt, AzimuthDeg: f.azimuth,
			GridRegion: st.GridRegion, Installer: f.installer, LoanRef: f.loan, Status: devices.StatusActive,
			CreatedAt: at, UpdatedAt: at,
		}
		if err := pub.PutDevice(ctx, d); err != nil {
			return err
		}
		s.devs = append(s.devs, d)
	}
	return nil
}

// simulate produces each device's signed readings every interval over
// [s.start, s.end].
func simulate(s *seed, interval time.Duration) error {
	s.readings = map[string][]reading.Reading{}
	for i, f := range fleet {
		d := s.devs[i]
		plant, err := anomaly.PlantFor(d, pvmodel.DefaultPlant())
		if err != nil {
			return err
		}
		cfg := sim.DefaultConfig()
		cfg.Plant = plant
		cfg.Seed = int64(i + 1)
		cfg.Cloudiness = 0.15
		cfg.StartEnergyWh = uint64(1_000_000 + 250_000*i)
		if f.fault == "trip" {
			noon := sunniest(plant, s.start, s.end)
			cfg.Faults = []sim.Fault{sim.Trip{Window: sim.Window{From: noon.Add(-90 * time.Minute), To: noon.Add(90 * time.Minute)}}}
		}
		inv, err := sim.New(cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", d.ID, err)
		}
		var seq uint64
		for t := s.start; !t.After(s.end); t = t.Add(interval) {
			seq++
			r := reading.Reading{DeviceID: d.ID, SiteID: d.SiteID, Seq: seq, TimeMS: t.UnixMilli(), Measurement: inv.Read(t)}
			if err := r.Sign(s.keys[d.ID]); err != nil {
				return err
			}
			s.readings[d.ID] = append(s.readings[d.ID], r)
		}
	}
	return nil
}

// sunniest returns the time of the plant's highest clear-sky power in
// [from, to], on a 15-minute grid.
func sunniest(p pvmodel.Plant, from, to time.Time) time.Time {
	best, bestP := from, -1.0
	for t := from; !t.After(to); t = t.Add(15 * time.Minute) {
		if w := p.ExpectedPower(t); w > bestP {
			best, bestP = t, w
		}
	}
	return best
}

// writeInflux creates the run's database and writes every reading.
func writeInflux(ctx context.Context, env teststack.Env, s *seed) error {
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+s.db); err != nil {
		return err
	}
	var b []byte
	for _, rs := range s.readings {
		for i := range rs {
			b = tsdbwriter.AppendLine(b, &rs[i])
			b = append(b, '\n')
		}
	}
	u := strings.TrimRight(env.InfluxURL, "/") + "/write?" + url.Values{"db": {s.db}, "precision": {"ns"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("influx write: %s", resp.Status)
	}
	return nil
}

// chain is the seeded contract and the dev key's submitter.
type chain struct {
	client *ethclient.Client
	key    *ecdsa.PrivateKey
	sub    *anchor.Submitter
	dep    anchor.Deployment
}

// retry calls f until it succeeds or fails with an error that is not
// retryable (the dev key may be in use by other tests).
func retry[T any](ctx context.Context, log *slog.Logger, what string, f func() (T, error)) (T, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := f()
		if err == nil || !anchor.IsRetryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return v, err
		}
		log.Warn("retrying", "what", what, "err", err)
		time.Sleep(500 * time.Millisecond)
	}
}

// deployChain deploys a fresh contract with the dev key and registers the
// device keys. It returns the chain time of the last registration: the
// seeded readings start after it, so that online verification finds each
// key valid at each reading's time.
func deployChain(ctx context.Context, env teststack.Env, s *seed, log *slog.Logger) (*chain, time.Time, error) {
	c := &chain{}
	var err error
	if c.client, err = ethclient.DialContext(ctx, env.EthRPC); err != nil {
		return nil, time.Time{}, err
	}
	if c.key, err = crypto.HexToECDSA(anchor.GethDevKey); err != nil {
		return nil, time.Time{}, err
	}
	c.dep, err = retry(ctx, log, "deploy", func() (anchor.Deployment, error) { return anchor.DeployDev(ctx, c.client, c.key, log) })
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("deploy: %w", err)
	}
	cfg := anchor.DefaultSubmitterConfig()
	cfg.Contract = c.dep.Contract
	cfg.PollInterval = 200 * time.Millisecond
	cfg.ReceiptTimeout = time.Minute
	c.sub, err = retry(ctx, log, "submitter", func() (*anchor.Submitter, error) {
		return anchor.NewSubmitterWith(ctx, cfg, c.client, c.key, log, nil)
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	var last uint64
	for _, d := range s.devs {
		ref, err := retry(ctx, log, "register "+d.ID, func() (anchor.TxRef, error) {
			return c.sub.Registrar().RegisterDevice(ctx, d.ID, d.PublicKey)
		})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("register %s: %w", d.ID, err)
		}
		last = max(last, ref.BlockNumber)
	}
	h, err := c.client.HeaderByNumber(ctx, new(big.Int).SetUint64(last))
	if err != nil {
		return nil, time.Time{}, err
	}
	s.contract, s.chainID = strings.ToLower(c.dep.Contract.Hex()), c.dep.ChainID
	return c, time.Unix(int64(h.Time), 0).UTC(), nil
}

// anchorReadings builds 15-minute windows (shard p0) of the readings,
// groups them into hourly intervals, and anchors every interval that ended
// at least pendingFor before the simulated now: the store gets each
// manifest, receipt and index, exactly as the batcher writes them. The
// newest intervals stay unanchored.
func anchorReadings(ctx context.Context, s *seed, c *chain, store *anchor.Store, pendingFor time.Duration, log *slog.Logger) (int, error) {
	const span = 15 * time.Minute
	const interval = time.Hour
	wires := map[int64][][]byte{} // span start ms → wires
	for _, rs := range s.readings {
		for i := range rs {
			w, err := rs[i].Wire()
			if err != nil {
				return 0, err
			}
			st := rs[i].Time().Truncate(span).UnixMilli()
			wires[st] = append(wires[st], w)
		}
	}
	n := 0
	for h := s.start.Truncate(interval); !h.Add(interval).After(s.end.Add(-pendingFor)); h = h.Add(interval) {
		var ws []*anchor.Window
		for st := h; st.Before(h.Add(interval)); st = st.Add(span) {
			if len(wires[st.UnixMilli()]) == 0 {
				continue
			}
			w, err := anchor.NewWindow("p0", st.UnixMilli(), st.Add(span).UnixMilli(), anchor.KindOnTime, 0, wires[st.UnixMilli()])
			if err != nil {
				return n, err
			}
			ws = append(ws, w)
		}
		if len(ws) == 0 {
			continue
		}
		commits := make([]anchor.Commitment, len(ws))
		for i, w := range ws {
			commits[i] = w.Commitment()
		}
		b, err := anchor.NewBatch(h.UnixMilli(), h.Add(interval).UnixMilli(), commits)
		if err != nil {
			return n, err
		}
		root := b.Root()
		m := &anchor.Manifest{
			Format: anchor.ManifestFormat, Version: anchor.StoreFormatVersion,
			IntervalStartMS: h.UnixMilli(), IntervalEndMS: h.Add(interval).UnixMilli(), PreparedAt: time.Now().UTC(),
			Source:  anchor.ManifestSource{Topic: "ui-test", Group: "ui-test"},
			Builder: anchor.ManifestBuilder{SpanMS: span.Milliseconds()},
			Batch:   anchor.ManifestBatch{Scheme: anchor.SchemeRFC9162SHA256, Size: uint64(b.Len()), Root: root[:]},
		}
		for i := range ws {
			c := b.Commitment(i)
			m.Windows = append(m.Windows, anchor.ManifestWindow{ID: c.ID(), Leaves: c.Size, Commitment: b.Encoded(i)})
		}
		// Batch order may differ from span order: reorder the windows to match.
		ordered := make([]*anchor.Window, len(ws))
		for i := range ws {
			j, _ := b.Index(ws[i].ID())
			ordered[j] = ws[i]
		}
		if err := store.Prepare(m, ordered); err != nil {
			return n, err
		}
		tx, err := m.AnchorTx()
		if err != nil {
			return n, err
		}
		ref, err := retry(ctx, log, "anchor", func() (anchor.TxRef, error) { return c.sub.Submit(ctx, tx) })
		if err != nil {
			return n, fmt.Errorf("anchor interval %s: %w", h.Format(time.RFC3339), err)
		}
		if err := store.MarkAnchored(anchor.NewAnchorReceipt(m, ref, time.Now())); err != nil {
			return n, err
		}
		if err := store.IndexInterval(m, ordered); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
