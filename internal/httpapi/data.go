package httpapi

// The data methods: what each route returns, for a principal. The web UI
// calls them directly.

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
)

// ReportingWindow: a device whose newest reading is younger than this
// counts as reporting, and its power as current.
const ReportingWindow = 15 * time.Minute

// Device is a registry device as the API shows it.
type Device struct {
	ID         string     `json:"id"`
	SiteID     string     `json:"site_id"`
	PublicKey  string     `json:"public_key"` // hex, 32-byte Ed25519
	KWp        float64    `json:"kwp"`
	ACRatingW  float64    `json:"ac_rating_w"`
	Lat        float64    `json:"lat"`
	Lon        float64    `json:"lon"`
	TiltDeg    float64    `json:"tilt_deg"`
	AzimuthDeg float64    `json:"azimuth_deg"`
	GridRegion string     `json:"grid_region"`
	Installer  string     `json:"installer"`
	LoanRef    string     `json:"loan_ref"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DisabledAt *time.Time `json:"disabled_at"`
}

func deviceView(d *devices.Device) Device {
	v := Device{
		ID: d.ID, SiteID: d.SiteID, PublicKey: hex.EncodeToString(d.PublicKey),
		KWp: d.KWp, ACRatingW: d.ACRatingW, Lat: d.Lat, Lon: d.Lon, TiltDeg: d.TiltDeg, AzimuthDeg: d.AzimuthDeg,
		GridRegion: d.GridRegion, Installer: d.Installer, LoanRef: d.LoanRef, Status: string(d.Status),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if !d.DisabledAt.IsZero() {
		t := d.DisabledAt
		v.DisabledAt = &t
	}
	return v
}

// Site is a registry site with its devices.
type Site struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Installer  string    `json:"installer"`
	GridRegion string    `json:"grid_region"`
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	LoanRef    string    `json:"loan_ref"`
	CreatedAt  time.Time `json:"created_at"`
	DeviceIDs  []string  `json:"device_ids"` // the devices of the site the caller may see
}

// visibleDevices returns the devices p sees, by id order.
func (s *Server) visibleDevices(p *Principal) []devices.Device {
	all := s.cfg.Devices.Devices()
	out := all[:0:0]
	for i := range all {
		if p.SeesDevice(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}

// device returns the device if p sees it; otherwise not found (an
// invisible device is indistinguishable from a missing one).
func (s *Server) device(p *Principal, id string) (devices.Device, error) {
	d, err := s.cfg.Devices.Device(id)
	if err != nil && !errors.Is(err, devices.ErrDisabled) {
		return d, notFound("no device %q", id)
	}
	if !p.SeesDevice(&d) {
		return d, notFound("no device %q", id)
	}
	return d, nil
}

// visibleSites returns the sites p sees with their visible devices.
func (s *Server) visibleSites(p *Principal) []Site {
	devs := s.visibleDevices(p)
	bySite := map[string][]string{}
	for _, d := range devs {
		bySite[d.SiteID] = append(bySite[d.SiteID], d.ID)
	}
	has := map[string]bool{}
	for id := range bySite {
		has[id] = true
	}
	var out []Site
	for _, st := range s.cfg.Devices.Sites() {
		if !p.seesSite(&st, has) {
			continue
		}
		ids := bySite[st.ID]
		if ids == nil {
			ids = []string{}
		}
		out = append(out, Site{
			ID: st.ID, Name: st.Name, Installer: st.Installer, GridRegion: st.GridRegion,
			Lat: st.Lat, Lon: st.Lon, LoanRef: st.LoanRef, CreatedAt: st.CreatedAt, DeviceIDs: ids,
		})
	}
	if out == nil {
		out = []Site{}
	}
	return out
}

// ids returns the ids of devs, or nil (every device) for roles that see
// the whole fleet, so that queries need no device filter.
func idsFilter(p *Principal, devs []devices.Device) []string {
	if p.Role == RoleAdmin || p.Role == RoleVerifier {
		return nil
	}
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = d.ID
	}
	return out
}

// Devices lists the devices p sees, optionally of one site.
func (s *Server) Devices(p *Principal, siteID string) []Device {
	out := []Device{}
	for _, d := range s.visibleDevices(p) {
		if siteID == "" || d.SiteID == siteID {
			out = append(out, deviceView(&d))
		}
	}
	return out
}

// Device returns one device.
func (s *Server) Device(p *Principal, id string) (Device, error) {
	d, err := s.device(p, id)
	if err != nil {
		return Device{}, err
	}
	return deviceView(&d), nil
}

// Sites lists the sites p sees.
func (s *Server) Sites(p *Principal) []Site { return s.visibleSites(p) }

// Site returns one site.
func (s *Server) Site(p *Principal, id string) (Site, error) {
	for _, st := range s.visibleSites(p) {
		if st.ID == id {
			return st, nil
		}
	}
	return Site{}, notFound("no site %q", id)
}

// Fleet is the fleet overview for one principal.
type Fleet struct {
	GeneratedAt      time.Time      `json:"generated_at"`
	Sites            int            `json:"sites"`
	Devices          int            `json:"devices"`
	ActiveDevices    int            `json:"active_devices"`
	ReportingDevices int            `json:"reporting_devices"` // a reading in the last 15 minutes
	CapacityKWp      float64        `json:"capacity_kwp"`
	ACPowerW         float64        `json:"ac_power_w"`    // sum of the reporting devices' latest power
	Energy24hWh      uint64         `json:"energy_24h_wh"` // energy counters' increase over 24 hours
	OpenAlerts       *int           `json:"open_alerts"`   // null without an alert source
	LastAnchor       *Anchor        `json:"last_anchor"`   // newest anchored interval; null if none or no store
	SiteRows         []FleetSiteRow `json:"site_rows"`
}

// FleetSiteRow is one site of the fleet overview.
type FleetSiteRow struct {
	SiteID           string    `json:"site_id"`
	Name             string    `json:"name"`
	Devices          int       `json:"devices"`
	ReportingDevices int       `json:"reporting_devices"`
	CapacityKWp      float64   `json:"capacity_kwp"`
	ACPowerW         float64   `json:"ac_power_w"`
	Energy24hWh      uint64    `json:"energy_24h_wh"`
	LastSeen         time.Time `json:"last_seen,omitzero"`
	OpenAlerts       *int      `json:"open_alerts"`
}

// Fleet summarises what p sees.
func (s *Server) Fleet(ctx context.Context, p *Principal) (*Fleet, error) {
	if s.cfg.Readings == nil {
		return nil, unavailable("readings", nil)
	}
	now := s.cfg.Now().UTC()
	devs := s.visibleDevices(p)
	sites := s.visibleSites(p)
	f := &Fleet{GeneratedAt: now, Sites: len(sites), Devices: len(devs), SiteRows: []FleetSiteRow{}}
	var latest map[string]Latest
	if len(devs) > 0 {
		var err error
		if latest, err = s.cfg.Readings.Latest(ctx, idsFilter(p, devs), now.Add(-24*time.Hour)); err != nil {
			return nil, unavailable("readings", err)
		}
	}
	var alertsBySite map[string]int
	if s.cfg.Alerts != nil {
		open, err := s.alerts(ctx, p, AlertQuery{State: string(anomaly.StateOpen)})
		if err != nil {
			return nil, err
		}
		n := len(open)
		f.OpenAlerts = &n
		alertsBySite = map[string]int{}
		for _, a := range open {
			alertsBySite[a.SiteID]++
		}
	}
	rows := map[string]*FleetSiteRow{}
	for _, st := range sites {
		r := &FleetSiteRow{SiteID: st.ID, Name: st.Name}
		if alertsBySite != nil {
			n := alertsBySite[st.ID]
			r.OpenAlerts = &n
		}
		rows[st.ID] = r
	}
	for _, d := range devs {
		if d.Active() {
			f.ActiveDevices++
		}
		f.CapacityKWp += d.KWp
		r := rows[d.SiteID]
		if r != nil {
			r.Devices++
			r.CapacityKWp += d.KWp
		}
		l, ok := latest[d.ID]
		if !ok {
			continue
		}
		f.Energy24hWh += l.EnergySinceWh
		if r != nil {
			r.Energy24hWh += l.EnergySinceWh
			if l.Time.After(r.LastSeen) {
				r.LastSeen = l.Time
			}
		}
		if now.Sub(l.Time) <= ReportingWindow {
			f.ReportingDevices++
			f.ACPowerW += math.Max(l.ACPowerW, 0)
			if r != nil {
				r.ReportingDevices++
				r.ACPowerW += math.Max(l.ACPowerW, 0)
			}
		}
	}
	for _, st := range sites {
		f.SiteRows = append(f.SiteRows, *rows[st.ID])
	}
	if s.cfg.Anchors != nil {
		a, err := s.lastAnchor()
		if err != nil {
			return nil, err
		}
		f.LastAnchor = a
	}
	return f, nil
}

// SeriesQuery is a time range and bucket width; zero values pick defaults
// (the last 24 hours, a step giving at most 300 buckets).
type SeriesQuery struct {
	From, To time.Time
	Step     time.Duration
}

var niceSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour}

// Steps are the bucket widths the API offers, by their query spelling.
var Steps = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "10m": 10 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute,
	"1h": time.Hour, "2h": 2 * time.Hour, "3h": 3 * time.Hour, "6h": 6 * time.Hour, "12h": 12 * time.Hour, "24h": 24 * time.Hour,
}

// StepName returns the query spelling of a step in Steps, or "".
func StepName(d time.Duration) string {
	for k, v := range Steps {
		if v == d {
			return k
		}
	}
	return ""
}

// resolve fills defaults and checks bounds; maxRange is the longest range.
func (q SeriesQuery) resolve(now time.Time, maxRange time.Duration) (SeriesQuery, error) {
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-24 * time.Hour)
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if !q.From.Before(q.To) {
		return q, badRequest("from must be before to")
	}
	if q.To.Sub(q.From) > maxRange {
		return q, badRequest("the range from %s to %s is longer than %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), maxRange)
	}
	if q.From.Year() < 2000 || q.To.Year() > 2200 {
		return q, badRequest("times must be between the years 2000 and 2200")
	}
	if q.Step == 0 {
		q.Step = niceSteps[len(niceSteps)-1]
		for _, st := range niceSteps {
			if q.To.Sub(q.From)/st <= 300 {
				q.Step = st
				break
			}
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(Steps)), q.Step) {
		return q, badRequest("step %s: want one of 1m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 24h", q.Step)
	}
	if n := q.To.Sub(q.From) / q.Step; n > MaxPoints {
		return q, badRequest("%d buckets of %s; at most %d", n, q.Step, MaxPoints)
	}
	return q, nil
}

// Readings is a device's readings over a range.
type Readings struct {
	DeviceID string          `json:"device_id"`
	From     time.Time       `json:"from"`
	To       time.Time       `json:"to"`
	StepS    int64           `json:"step_s"`
	Points   []Point         `json:"points"`
	Expected []ExpectedPoint `json:"expected"` // clear-sky model power per bucket; empty if the device can't be modelled
	// ExpectedBand is the fraction of the clear-sky power a healthy plant
	// reaches on a clear day: the UI draws [low × expected, high × expected].
	ExpectedBand [2]float64 `json:"expected_band"`
}

// ExpectedPoint is the modelled clear-sky AC power at a bucket's middle.
type ExpectedPoint struct {
	Time     time.Time `json:"t"`
	ACPowerW float64   `json:"ac_power_w"`
}

// expectedBand: the band under the clear-sky curve the UI draws.
var expectedBand = [2]float64{0.7, 1.05}

// Readings returns a device's downsampled readings and the clear-sky
// expectation for the same buckets.
func (s *Server) Readings(ctx context.Context, p *Principal, id string, q SeriesQuery) (*Readings, error) {
	d, err := s.device(p, id)
	if err != nil {
		return nil, err
	}
	if q, err = q.resolve(s.cfg.Now(), MaxRange); err != nil {
		return nil, err
	}
	if s.cfg.Readings == nil {
		return nil, unavailable("readings", nil)
	}
	pts, err := s.cfg.Readings.Series(ctx, d.ID, q.From, q.To, q.Step)
	if err != nil {
		return nil, unavailable("readings", err)
	}
	if pts == nil {
		pts = []Point{}
	}
	out := &Readings{DeviceID: d.ID, From: q.From, To: q.To, StepS: int64(q.Step / time.Second), Points: pts,
		Expected: []ExpectedPoint{}, ExpectedBand: expectedBand}
	if plant, err := anomaly.PlantFor(d, pvmodel.DefaultPlant()); err == nil {
		start := q.From.Truncate(q.Step)
		for t := start; t.Before(q.To); t = t.Add(q.Step) {
			mid := t.Add(q.Step / 2)
			out.Expected = append(out.Expected, ExpectedPoint{Time: t, ACPowerW: plant.ExpectedPower(mid)})
		}
	}
	return out, nil
}

// FleetPower is the fleet's power over a range.
type FleetPower struct {
	From   time.Time    `json:"from"`
	To     time.Time    `json:"to"`
	StepS  int64        `json:"step_s"`
	Points []FleetPoint `json:"points"`
}

// FleetPower sums the power of the devices p sees.
func (s *Server) FleetPower(ctx context.Context, p *Principal, q SeriesQuery) (*FleetPower, error) {
	q, err := q.resolve(s.cfg.Now(), MaxRange)
	if err != nil {
		return nil, err
	}
	if s.cfg.Readings == nil {
		return nil, unavailable("readings", nil)
	}
	out := &FleetPower{From: q.From, To: q.To, StepS: int64(q.Step / time.Second), Points: []FleetPoint{}}
	devs := s.visibleDevices(p)
	if len(devs) == 0 {
		return out, nil
	}
	pts, err := s.cfg.Readings.FleetSeries(ctx, idsFilter(p, devs), q.From, q.To, q.Step)
	if err != nil {
		return nil, unavailable("readings", err)
	}
	if pts != nil {
		out.Points = pts
	}
	return out, nil
}

// AlertQuery filters alerts; empty fields match everything.
type AlertQuery struct {
	State    string // open or resolved
	DeviceID string
	SiteID   string
	Limit    int // 0: 1000
}

// Alert is an alert as the API shows it.
type Alert struct {
	ID         string             `json:"id"`
	DeviceID   string             `json:"device_id"`
	SiteID     string             `json:"site_id"`
	Type       string             `json:"type"`
	Severity   string             `json:"severity"`
	State      string             `json:"state"`
	From       time.Time          `json:"from"`
	To         time.Time          `json:"to"`
	OpenedAt   time.Time          `json:"opened_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
	ResolvedAt *time.Time         `json:"resolved_at"`
	Scans      int                `json:"scans"`
	Basis      string             `json:"basis"`
	Summary    string             `json:"summary"`
	Evidence   map[string]float64 `json:"evidence"`
	Anchored   string             `json:"anchored"`
}

func alertView(a *anomaly.Alert) Alert {
	v := Alert{
		ID: a.ID, DeviceID: a.DeviceID, SiteID: a.SiteID, Type: string(a.Type), Severity: a.Severity.String(),
		State: string(a.State), From: a.Span.From, To: a.Span.To, OpenedAt: a.OpenedAt, UpdatedAt: a.UpdatedAt,
		Scans: a.Scans, Basis: a.Basis, Summary: a.Summary, Evidence: map[string]float64{}, Anchored: string(a.Anchored),
	}
	if v.Anchored == "" {
		v.Anchored = string(anomaly.AnchoringUnknown)
	}
	if !a.ResolvedAt.IsZero() {
		t := a.ResolvedAt
		v.ResolvedAt = &t
	}
	for k, x := range a.Evidence {
		if !math.IsNaN(x) && !math.IsInf(x, 0) { // JSON has no NaN
			v.Evidence[k] = x
		}
	}
	return v
}

// Alerts lists the alerts of the devices p sees: open ones first, then by
// newest update.
func (s *Server) Alerts(ctx context.Context, p *Principal, q AlertQuery) ([]Alert, error) {
	switch q.State {
	case "", string(anomaly.StateOpen), string(anomaly.StateResolved):
	default:
		return nil, badRequest("state %q: want open or resolved", q.State)
	}
	if q.Limit < 0 || q.Limit > 10000 {
		return nil, badRequest("limit %d: want 1..10000", q.Limit)
	}
	return s.alerts(ctx, p, q)
}

func (s *Server) alerts(ctx context.Context, p *Principal, q AlertQuery) ([]Alert, error) {
	if s.cfg.Alerts == nil {
		return nil, unavailable("alerts", nil)
	}
	all, err := s.cfg.Alerts.Alerts(ctx)
	if err != nil {
		return nil, unavailable("alerts", err)
	}
	seen := map[string]bool{}
	for _, d := range s.visibleDevices(p) {
		seen[d.ID] = true
	}
	out := []Alert{}
	for i := range all {
		a := &all[i]
		if !seen[a.DeviceID] || q.State != "" && string(a.State) != q.State ||
			q.DeviceID != "" && a.DeviceID != q.DeviceID || q.SiteID != "" && a.SiteID != q.SiteID {
			continue
		}
		out = append(out, alertView(a))
	}
	slices.SortFunc(out, func(a, b Alert) int {
		if c := cmp.Compare(stateRank(a.State), stateRank(b.State)); c != 0 {
			return c
		}
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	limit := q.Limit
	if limit == 0 {
		limit = 1000
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func stateRank(s string) int {
	if s == string(anomaly.StateOpen) {
		return 0
	}
	return 1
}

// Anchor is one anchoring interval of the proof store.
type Anchor struct {
	IntervalStartMS int64      `json:"interval_start_ms"`
	IntervalEndMS   int64      `json:"interval_end_ms"`
	IntervalStart   time.Time  `json:"interval_start"`
	IntervalEnd     time.Time  `json:"interval_end"`
	Status          string     `json:"status"` // anchored, or prepared (not on chain yet)
	BatchRoot       string     `json:"batch_root"`
	BatchSize       uint64     `json:"batch_size"`
	Readings        uint64     `json:"readings"`
	ChainID         uint64     `json:"chain_id"`
	Contract        string     `json:"contract"`
	TxHash          string     `json:"tx_hash"`
	BlockNumber     uint64     `json:"block_number"`
	AnchoredAt      *time.Time `json:"anchored_at"`
	TxURL           string     `json:"tx_url"`
}

// AnchorDetail is an interval with its windows.
type AnchorDetail struct {
	Anchor
	Windows []AnchorWindow `json:"windows"`
}

// AnchorWindow is one window of an interval, in batch order.
type AnchorWindow struct {
	ID          string    `json:"id"`
	BatchIndex  int       `json:"batch_index"`
	Shard       string    `json:"shard"`
	Kind        string    `json:"kind"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Readings    uint64    `json:"readings"`
	Devices     uint64    `json:"devices"`
	Root        string    `json:"root"`
	DevicesRoot string    `json:"devices_root"`
}

// Status values of an Anchor.
const (
	AnchorAnchored = "anchored"
	AnchorPrepared = "prepared"
)

func (s *Server) txURL(rec *anchor.AnchorReceipt) string {
	if s.cfg.TxURL != "" {
		return fmt.Sprintf(s.cfg.TxURL, rec.TxHash)
	}
	return "/v1/anchors/" + strconv.FormatInt(rec.IntervalStartMS, 10)
}

func (s *Server) anchorOf(start int64) (*Anchor, *anchor.Manifest, error) {
	m, err := s.cfg.Anchors.Manifest(start)
	if err != nil {
		return nil, nil, unavailable("proof store", err)
	}
	a := &Anchor{
		IntervalStartMS: m.IntervalStartMS, IntervalEndMS: m.IntervalEndMS,
		IntervalStart: time.UnixMilli(m.IntervalStartMS).UTC(), IntervalEnd: time.UnixMilli(m.IntervalEndMS).UTC(),
		Status: AnchorPrepared, BatchRoot: hex.EncodeToString(m.Batch.Root), BatchSize: m.Batch.Size,
	}
	for _, w := range m.Windows {
		a.Readings += w.Leaves
	}
	rec, err := s.cfg.Anchors.Receipt(start)
	switch {
	case errors.Is(err, anchor.ErrNotAnchored):
	case err != nil:
		return nil, nil, unavailable("proof store", err)
	default:
		a.Status = AnchorAnchored
		a.ChainID, a.Contract, a.TxHash, a.BlockNumber = rec.ChainID, rec.Contract, rec.TxHash, rec.BlockNumber
		t := rec.AnchoredAt
		a.AnchoredAt = &t
		a.TxURL = s.txURL(rec)
	}
	return a, m, nil
}

// Anchors lists up to limit intervals, newest first, that start before
// beforeMS (0: no bound).
func (s *Server) Anchors(limit int, beforeMS int64) ([]Anchor, error) {
	if limit < 1 || limit > 1000 {
		return nil, badRequest("limit %d: want 1..1000", limit)
	}
	if s.cfg.Anchors == nil {
		return nil, unavailable("proof store", nil)
	}
	ivs, err := s.cfg.Anchors.Intervals()
	if err != nil {
		return nil, unavailable("proof store", err)
	}
	out := []Anchor{}
	for i := len(ivs) - 1; i >= 0 && len(out) < limit; i-- {
		if beforeMS != 0 && ivs[i].StartMS >= beforeMS {
			continue
		}
		a, _, err := s.anchorOf(ivs[i].StartMS)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

func (s *Server) lastAnchor() (*Anchor, error) {
	ivs, err := s.cfg.Anchors.Intervals()
	if err != nil {
		return nil, unavailable("proof store", err)
	}
	for i := len(ivs) - 1; i >= 0; i-- {
		if ivs[i].Anchored {
			a, _, err := s.anchorOf(ivs[i].StartMS)
			return a, err
		}
	}
	return nil, nil
}

// Anchor returns one interval with its windows.
func (s *Server) Anchor(startMS int64) (*AnchorDetail, error) {
	if s.cfg.Anchors == nil {
		return nil, unavailable("proof store", nil)
	}
	ivs, err := s.cfg.Anchors.Intervals()
	if err != nil {
		return nil, unavailable("proof store", err)
	}
	if !slices.ContainsFunc(ivs, func(iv anchor.IntervalStatus) bool { return iv.StartMS == startMS }) {
		return nil, notFound("no anchoring interval starts at %d", startMS)
	}
	a, m, err := s.anchorOf(startMS)
	if err != nil {
		return nil, err
	}
	d := &AnchorDetail{Anchor: *a, Windows: []AnchorWindow{}}
	cs, err := m.Commitments()
	if err != nil {
		return nil, unavailable("proof store", err)
	}
	for i, c := range cs {
		d.Windows = append(d.Windows, AnchorWindow{
			ID: c.ID(), BatchIndex: i, Shard: c.Shard, Kind: c.Kind.String(),
			Start: time.UnixMilli(c.StartMS).UTC(), End: time.UnixMilli(c.EndMS).UTC(),
			Readings: c.Size, Devices: c.DeviceCount,
			Root: hex.EncodeToString(c.Root[:]), DevicesRoot: hex.EncodeToString(c.DevicesRoot[:]),
		})
	}
	return d, nil
}

// DeviceWindow is the anchoring status of one window span of a device.
type DeviceWindow struct {
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Readings        int       `json:"readings"`
	FirstSeq        uint64    `json:"first_seq"`
	LastSeq         uint64    `json:"last_seq"`
	Status          string    `json:"status"` // anchored, partial (some readings anchored) or pending
	WindowID        string    `json:"window_id"`
	IntervalStartMS int64     `json:"interval_start_ms"` // 0 while pending
	TxHash          string    `json:"tx_hash"`
	BlockNumber     uint64    `json:"block_number"`
	TxURL           string    `json:"tx_url"`
	ProofURL        string    `json:"proof_url"` // the proof of the span's first anchored reading
}

// Window statuses.
const (
	WindowAnchored = "anchored"
	WindowPartial  = "partial"
	WindowPending  = "pending"
)

// MaxWindowRange bounds GET /v1/devices/{id}/windows.
const MaxWindowRange = 48 * time.Hour

// DeviceWindows returns the anchoring status of each window span of the
// device in [from, to) (default: the last 24 hours) that has readings.
func (s *Server) DeviceWindows(ctx context.Context, p *Principal, id string, q SeriesQuery) ([]DeviceWindow, error) {
	d, err := s.device(p, id)
	if err != nil {
		return nil, err
	}
	span := 15 * time.Minute
	if s.cfg.Anchors != nil {
		if ivs, err := s.cfg.Anchors.Intervals(); err == nil && len(ivs) > 0 {
			if m, err := s.cfg.Anchors.Manifest(ivs[len(ivs)-1].StartMS); err == nil && m.Builder.SpanMS > 0 {
				span = time.Duration(m.Builder.SpanMS) * time.Millisecond
			}
		}
	}
	q.Step = span
	if q, err = q.resolve(s.cfg.Now(), MaxWindowRange); err != nil {
		return nil, err
	}
	if s.cfg.Readings == nil {
		return nil, unavailable("readings", nil)
	}
	if s.cfg.Anchors == nil {
		return nil, unavailable("proof store", nil)
	}
	pts, err := s.cfg.Readings.Series(ctx, d.ID, q.From.Truncate(span), q.To, span)
	if err != nil {
		return nil, unavailable("readings", err)
	}
	out := []DeviceWindow{}
	for _, pt := range pts {
		if pt.Count == 0 {
			continue
		}
		w := DeviceWindow{Start: pt.Time.UTC(), End: pt.Time.Add(span).UTC(), Readings: pt.Count,
			FirstSeq: pt.FirstSeq, LastSeq: pt.LastSeq, Status: WindowPending}
		first, err := s.cfg.Anchors.Locate(d.ID, pt.FirstSeq)
		if err != nil {
			return nil, unavailable("proof store", err)
		}
		last, err := s.cfg.Anchors.Locate(d.ID, pt.LastSeq)
		if err != nil {
			return nil, unavailable("proof store", err)
		}
		loc, seq := first, pt.FirstSeq
		if len(loc) == 0 {
			loc, seq = last, pt.LastSeq
		}
		if len(loc) > 0 {
			w.Status = WindowPartial
			if len(first) > 0 && len(last) > 0 {
				w.Status = WindowAnchored
			}
			if err := s.fillWindow(&w, d.ID, seq, loc[0]); err != nil {
				return nil, err
			}
		}
		out = append(out, w)
	}
	return out, nil
}

func (s *Server) fillWindow(w *DeviceWindow, deviceID string, seq uint64, loc anchor.IndexEntry) error {
	w.IntervalStartMS = loc.IntervalStartMS
	w.ProofURL = "/v1/proofs/" + url.PathEscape(deviceID) + "/" + strconv.FormatUint(seq, 10)
	m, err := s.cfg.Anchors.Manifest(loc.IntervalStartMS)
	if err != nil {
		return unavailable("proof store", err)
	}
	if int(loc.Window) < len(m.Windows) {
		w.WindowID = m.Windows[loc.Window].ID
	}
	rec, err := s.cfg.Anchors.Receipt(loc.IntervalStartMS)
	switch {
	case errors.Is(err, anchor.ErrNotAnchored):
		w.Status = WindowPending
	case err != nil:
		return unavailable("proof store", err)
	default:
		w.TxHash, w.BlockNumber, w.TxURL = rec.TxHash, rec.BlockNumber, s.txURL(rec)
	}
	return nil
}

// CarbonReports lists the reports of the devices and sites p sees.
func (s *Server) CarbonReports(ctx context.Context, p *Principal) ([]CarbonReport, error) {
	if s.cfg.Carbon == nil {
		return nil, unavailable("carbon reports", nil)
	}
	all, err := s.cfg.Carbon.CarbonReports(ctx)
	if err != nil {
		return nil, unavailable("carbon reports", err)
	}
	out := []CarbonReport{}
	for _, r := range all {
		if s.seesReport(p, &r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b CarbonReport) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (s *Server) seesReport(p *Principal, r *CarbonReport) bool {
	if p.Role == RoleAdmin || p.Role == RoleVerifier {
		return true
	}
	if r.DeviceID != "" {
		_, err := s.device(p, r.DeviceID)
		return err == nil
	}
	_, err := s.Site(p, r.SiteID)
	return err == nil
}

// CarbonReport returns one report's summary and document.
func (s *Server) CarbonReport(ctx context.Context, p *Principal, id string) (CarbonReport, []byte, error) {
	if s.cfg.Carbon == nil {
		return CarbonReport{}, nil, unavailable("carbon reports", nil)
	}
	r, doc, err := s.cfg.Carbon.CarbonReport(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return r, nil, notFound("no carbon report %q", id)
	}
	if err != nil {
		return r, nil, unavailable("carbon reports", err)
	}
	if !s.seesReport(p, &r) {
		return CarbonReport{}, nil, notFound("no carbon report %q", id)
	}
	return r, doc, nil
}

// LoanView is a loan with what the API adds: its open alerts and latest
// measured coverage.
type LoanView struct {
	Loan
	OpenAlerts     int      `json:"open_alerts"`
	LatestMonth    string   `json:"latest_month"`    // newest measured month; "" if none
	LatestCoverage *float64 `json:"latest_coverage"` // its coverage; null if none
	BelowThreshold bool     `json:"below_threshold"` // latest coverage < threshold
}

// Loans lists the loans p sees.
func (s *Server) Loans(ctx context.Context, p *Principal) ([]LoanView, error) {
	if s.cfg.Loans == nil {
		return nil, unavailable("loans", nil)
	}
	all, err := s.cfg.Loans.Loans(ctx)
	if err != nil {
		return nil, unavailable("loans", err)
	}
	var open map[string]int
	if s.cfg.Alerts != nil {
		as, err := s.alerts(ctx, &Principal{Role: RoleAdmin}, AlertQuery{State: string(anomaly.StateOpen)})
		if err != nil {
			return nil, err
		}
		open = map[string]int{}
		for _, a := range as {
			open[a.DeviceID]++
		}
	}
	out := []LoanView{}
	for _, l := range all {
		if !p.SeesLoan(l.Ref) {
			continue
		}
		v := LoanView{Loan: l}
		if v.SiteIDs == nil {
			v.SiteIDs = []string{}
		}
		if v.DeviceIDs == nil {
			v.DeviceIDs = []string{}
		}
		if v.Months == nil {
			v.Months = []LoanMonth{}
		} else {
			v.Months = slices.Clone(v.Months)
		}
		for i := range v.Months {
			if v.Months[i].Problems == nil {
				v.Months[i].Problems = []string{}
			}
		}
		for _, id := range l.DeviceIDs {
			v.OpenAlerts += open[id]
		}
		for i := len(l.Months) - 1; i >= 0; i-- {
			if m := l.Months[i]; !m.Projected {
				c := m.Coverage
				v.LatestMonth, v.LatestCoverage = m.Month, &c
				v.BelowThreshold = c < l.CoverageThreshold
				break
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b LoanView) int { return cmp.Compare(a.Ref, b.Ref) })
	return out, nil
}

// Loan returns one loan.
func (s *Server) Loan(ctx context.Context, p *Principal, ref string) (LoanView, error) {
	ls, err := s.Loans(ctx, p)
	if err != nil {
		return LoanView{}, err
	}
	for _, l := range ls {
		if l.Ref == ref {
			return l, nil
		}
	}
	return LoanView{}, notFound("no loan %q", ref)
}
