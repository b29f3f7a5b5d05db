package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/service"
)

// proofSource is what a carbon report needs from the proof store
// (anchor.Store implements it): is a reading anchored, and its bundle.
type proofSource interface {
	Anchored(deviceID string, seq uint64) (bool, error)
	ProofFor(ctx context.Context, deviceID string, seq uint64) (*anchor.Bundle, error)
}

// reportInput is what buildCarbonReport needs besides the devices.
type reportInput struct {
	Kind, ID string
	Period   carbon.Period
	Devices  []devices.Device
	Loader   anomaly.Loader
	Alerts   []anomaly.Alert
	Proofs   proofSource
	Options  carbon.Options
}

// dailyGen is one device-day of counter increments, for the chart.
type dailyGen struct {
	Day time.Time
	Wh  uint64
}

// errNoBoundary: a device has fewer than two anchored, signed readings in
// the period, so no certified generation can be measured.
var errNoBoundary = errors.New("fewer than two anchored, signed readings in the period")

// pickBoundary returns the index of the first (dir > 0) or last (dir < 0)
// sample that is anchored and whose proof bundle the store can build (the
// bundle carries the device's signature and the key that verifies it), and
// that bundle; ok is false if there is none.
func pickBoundary(ctx context.Context, ps proofSource, id string, ss []anomaly.Sample, dir int) (int, *anchor.Bundle, bool, error) {
	i, end := 0, len(ss)
	if dir < 0 {
		i, end = len(ss)-1, -1
	}
	for ; i != end; i += dir {
		if ss[i].Seq == 0 {
			continue
		}
		ok, err := ps.Anchored(id, ss[i].Seq)
		if err != nil {
			return 0, nil, false, err
		}
		if !ok {
			continue
		}
		b, err := ps.ProofFor(ctx, id, ss[i].Seq)
		if errors.Is(err, anchor.ErrNoProof) {
			continue
		}
		if err != nil {
			return 0, nil, false, fmt.Errorf("proof of %s/%d: %w", id, ss[i].Seq, err)
		}
		return i, b, true, nil
	}
	return 0, nil, false, nil
}

func boundaryOf(s anomaly.Sample, b *anchor.Bundle) (carbon.Boundary, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return carbon.Boundary{}, err
	}
	return carbon.Boundary{Seq: s.Seq, TimeMS: s.T.UnixMilli(), EnergyWh: s.EnergyWh, Bundle: raw}, nil
}

// certifiedInput is one device's carbon.DeviceInput over a period, as both
// carbon reports and loan months use it: of the device's samples in
// [period.From, period.To), sorted by (seq, time), the first and the last
// anchored, signed readings are the boundaries, with their proof bundles;
// the readings between them and the device's alerts go with them.
// Unanchored counts the samples (with a seq) outside the boundaries: their
// increments are not certified. It wraps errNoBoundary if there are not
// two anchored readings.
type certifiedInput struct {
	carbon.DeviceInput
	Unanchored int
}

func deviceInput(ctx context.Context, ps proofSource, dev devices.Device, samples []anomaly.Sample, period carbon.Period, alerts []anomaly.Alert) (certifiedInput, error) {
	var ss []anomaly.Sample
	for _, x := range samples {
		if !x.T.Before(period.From) && x.T.Before(period.To) {
			ss = append(ss, x)
		}
	}
	slices.SortFunc(ss, func(a, b anomaly.Sample) int { return cmp.Or(cmp.Compare(a.Seq, b.Seq), a.T.Compare(b.T)) })
	id := dev.ID
	si, sb, ok, err := pickBoundary(ctx, ps, id, ss, +1)
	if err != nil || !ok {
		return certifiedInput{}, cmp.Or(err, fmt.Errorf("%s: %w (%d readings)", id, errNoBoundary, len(ss)))
	}
	ei, eb, _, err := pickBoundary(ctx, ps, id, ss, -1)
	if err != nil {
		return certifiedInput{}, err
	}
	if ei <= si {
		return certifiedInput{}, fmt.Errorf("%s: %w (%d readings, one anchored)", id, errNoBoundary, len(ss))
	}
	start, err := boundaryOf(ss[si], sb)
	if err != nil {
		return certifiedInput{}, err
	}
	end, err := boundaryOf(ss[ei], eb)
	if err != nil {
		return certifiedInput{}, err
	}
	in := certifiedInput{DeviceInput: carbon.DeviceInput{Device: dev, Start: start, End: end, Readings: ss[si : ei+1]}}
	for _, a := range alerts {
		if a.DeviceID == id {
			in.Alerts = append(in.Alerts, a)
		}
	}
	for k, x := range ss {
		if x.Seq != 0 && (k < si || k > ei) {
			in.Unanchored++
		}
	}
	return in, nil
}

// buildCarbonReport loads the devices' readings in the period, picks the
// first and last anchored, signed readings of each as boundaries, attaches
// their proof bundles and builds the report. It also returns the daily
// counter increments between the boundaries (for the HTML chart).
func buildCarbonReport(ctx context.Context, in reportInput) (*carbon.Report, []dailyGen, error) {
	series, _, err := in.Loader.Load(ctx, in.Devices, in.Period.From, in.Period.To)
	if err != nil {
		return nil, nil, err
	}
	var inputs []carbon.DeviceInput
	days := map[int64]uint64{}
	for _, s := range series {
		ci, err := deviceInput(ctx, in.Proofs, s.Device, s.Samples, in.Period, in.Alerts)
		if err != nil {
			return nil, nil, err
		}
		rs := ci.Readings
		for k := 1; k < len(rs); k++ {
			if rs[k].EnergyWh >= rs[k-1].EnergyWh {
				d := dayStart(rs[k].T, in.Period.From.Location())
				days[d.Unix()] += rs[k].EnergyWh - rs[k-1].EnergyWh
			}
		}
		inputs = append(inputs, ci.DeviceInput)
	}
	r, err := carbon.Build(ctx, in.Kind, in.ID, in.Period, inputs, in.Options)
	if err != nil {
		return nil, nil, err
	}
	var daily []dailyGen
	for d := dayStart(in.Period.From, in.Period.From.Location()); d.Before(in.Period.To); d = d.AddDate(0, 0, 1) {
		daily = append(daily, dailyGen{Day: d, Wh: days[d.Unix()]})
	}
	return r, daily, nil
}

func dayStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// parseDay parses RFC 3339 or YYYY-MM-DD (midnight China Standard Time).
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", s, time.FixedZone("CST", 8*3600))
}

func loadTable(path string) (*carbon.Table, error) {
	t := carbon.DefaultTable()
	if path == "" {
		return t, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return t.Extend(f)
}

func writeFileOrStdout(path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(os.Stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runCarbon(args []string) error {
	if len(args) == 0 || args[0] != "report" {
		fmt.Fprintln(os.Stderr, "usage: sunproof carbon report --device ID | --site ID --from DATE --to DATE [-out FILE] [-html FILE]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("carbon report", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof carbon report --device ID | --site ID --from DATE --to DATE [flags]\n\nWrites the avoided-emissions report (docs/formats/carbon-report.md) of a device or site:\ncertified generation between the first and last anchored, signed readings of each device\nin [from, to), with their proof bundles. DATE is YYYY-MM-DD (CST midnight) or RFC 3339.\n\nflags:")
		fs.PrintDefaults()
	}
	dev := fs.String("device", "", "device id")
	site := fs.String("site", "", "site id: every device of the site")
	from := fs.String("from", "", "period start (inclusive)")
	to := fs.String("to", "", "period end (exclusive)")
	out := fs.String("out", "", "JSON report file (default stdout)")
	html := fs.String("html", "", "also write an HTML rendering with a generation chart here")
	influx := fs.String("influx", env("SUNPROOF_INFLUX_URL", "http://127.0.0.1:8086"), "InfluxDB URL (env SUNPROOF_INFLUX_URL)")
	db := fs.String("db", env("SUNPROOF_INFLUX_DB", "sunproof"), "InfluxDB database (readings and alerts)")
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory (env SUNPROOF_PROOF_STORE)")
	factors := fs.String("factors", "", "YAML file adding or overriding emission factors")
	verify := fs.Bool("verify", true, "verify every boundary proof against the chain (-rpc) while building")
	var kf keyFlags
	kf.register(fs)
	fs.Lookup("contract").Usage = "the anchoring contract trusted for -verify and -keys chain (default: from -deployment, if that file exists; else each bundle's own)"
	_ = fs.Parse(args[1:])
	if (*dev == "") == (*site == "") || *from == "" || *to == "" {
		fs.Usage()
		os.Exit(2)
	}
	pf, err := parseDay(*from)
	if err != nil {
		return fmt.Errorf("-from: %w", err)
	}
	pt, err := parseDay(*to)
	if err != nil {
		return fmt.Errorf("-to: %w", err)
	}
	table, err := loadTable(*factors)
	if err != nil {
		return err
	}
	ctx, stop := service.SignalContext()
	defer stop()
	log := service.Logger("text")
	reg, done, err := kf.reg.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	in := reportInput{Kind: "device", ID: *dev, Period: carbon.Period{From: pf, To: pt}, Options: carbon.Options{Table: table}}
	if *site != "" {
		in.Kind, in.ID = "site", *site
		for _, d := range reg.Devices() {
			if d.SiteID == *site {
				in.Devices = append(in.Devices, d)
			}
		}
		if len(in.Devices) == 0 {
			return fmt.Errorf("site %s has no device", *site)
		}
	} else {
		d, err := reg.Device(*dev)
		if err != nil {
			return err
		}
		in.Devices = []devices.Device{d}
	}
	keys, kdone, err := kf.open(ctx)
	if err != nil {
		return err
	}
	defer kdone()
	store, err := anchor.OpenStore(*storeDir, anchor.StoreOptions{ReadOnly: true, Keys: keys, Logger: log})
	if err != nil {
		return err
	}
	in.Proofs = store
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = *influx, *db
	if in.Loader, err = anomaly.NewSource(icfg, nil); err != nil {
		return err
	}
	astore, err := anomaly.NewInfluxStore(icfg, nil)
	if err != nil {
		return err
	}
	if in.Alerts, err = astore.All(ctx); err != nil {
		return fmt.Errorf("read alerts: %w", err)
	}
	if *verify {
		v, vdone, err := dialPinnedVerifier(ctx, &kf.chain)
		if err != nil {
			return err
		}
		defer vdone()
		in.Options.Verifier = v
	}
	r, daily, err := buildCarbonReport(ctx, in)
	if err != nil {
		return err
	}
	if err := writeFileOrStdout(*out, r.Encode); err != nil {
		return err
	}
	if *html != "" {
		if err := writeFileOrStdout(*html, func(w io.Writer) error { return renderReportHTML(w, r, daily) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s %s: %d devices, net %.6f MWh × %.4f tCO2/MWh = %.6f tCO2e (%s)\n", r.Subject.Kind, r.Subject.ID,
		len(r.Devices), r.Totals.EGMWh, r.Totals.EFTCO2PerMWh, r.Totals.ERTCO2, r.Factor.FactorID)
	return nil
}

// reportHTML is the human-readable rendering of a carbon report.
var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"mwh": func(wh uint64) string { return fmt.Sprintf("%.6f", float64(wh)/1e6) },
	"kwh": func(wh uint64) string { return fmt.Sprintf("%.1f", float64(wh)/1e3) },
	"t":   func(t time.Time) string { return t.Format("2006-01-02 15:04 MST") },
	"ms":  func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05Z") },
	"f6":  func(x float64) string { return fmt.Sprintf("%.6f", x) },
	"f4":  func(x float64) string { return fmt.Sprintf("%.4f", x) },
	"join": func(ts []anomaly.Type) string {
		s := make([]string, len(ts))
		for i, x := range ts {
			s[i] = string(x)
		}
		return strings.Join(s, ", ")
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Carbon report {{.R.Subject.Kind}} {{.R.Subject.ID}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#7a4b00}</style></head>
<body>
<h1>Avoided emissions: {{.R.Subject.Kind}} {{.R.Subject.ID}}</h1>
<p>Period {{t .R.Period.From}} – {{t .R.Period.To}} · grid {{.R.Subject.GridRegion}} · capacity {{printf "%.0f" .R.Subject.CapacityW}} W · generated {{t .R.GeneratedAt}}</p>
<table>
<tr><th>Certified generation EG</th><td class="n">{{f6 .R.Totals.EGMWh}} MWh</td></tr>
<tr><th>Emission factor EF</th><td class="n">{{f4 .R.Totals.EFTCO2PerMWh}} tCO2/MWh</td></tr>
<tr><th>Baseline emissions BE = EG × EF</th><td class="n">{{f6 .R.Totals.BETCO2}} tCO2</td></tr>
<tr><th>Project emissions PE, leakage LE</th><td class="n">{{f6 .R.Totals.PETCO2}}, {{f6 .R.Totals.LETCO2}} tCO2</td></tr>
<tr><th>Emission reductions ER = BE − PE − LE</th><td class="n"><b>{{f6 .R.Totals.ERTCO2}} tCO2e</b></td></tr>
<tr><th>Gross / excluded / net</th><td class="n">{{mwh .R.Totals.GrossWh}} / {{mwh .R.Totals.ExcludedWh}} / {{mwh .R.Totals.NetWh}} MWh</td></tr>
</table>
<h2>Daily generation</h2>
{{.Chart}}
<h2>Method and factor</h2>
<p>{{.R.Methodology.Name}}: {{.R.Methodology.Formula}}. {{.R.Methodology.Reason}}</p>
<p>Factor {{.R.Factor.FactorID}}: {{f4 .R.Factor.Factor.TCO2PerMWh}} tCO2/MWh ({{.R.Factor.Factor.Kind}}, {{.R.Factor.Factor.Region}} {{.R.Factor.Factor.Year}}). Source: {{.R.Factor.Factor.Source}}. {{.R.Factor.Reason}}</p>
{{range .R.Factor.Warnings}}<p class="note">⚠ {{.}}</p>{{end}}
{{range .R.Notes}}<p class="note">Note: {{.}}</p>{{end}}
<h2>Exclusion policy</h2>
<p>{{.R.Exclusion.Description}} (types: {{join .R.Exclusion.Types}}; from severity {{.R.Exclusion.MinSeverity}}).</p>
<h2>Devices</h2>
<table><tr><th>device</th><th>start (seq, time, counter)</th><th>end (seq, time, counter)</th><th>gross kWh</th><th>excluded kWh</th><th>net kWh</th></tr>
{{range .R.Devices}}<tr><td>{{.DeviceID}}</td><td>{{.Start.Seq}}, {{ms .Start.TimeMS}}, {{.Start.EnergyWh}} Wh</td><td>{{.End.Seq}}, {{ms .End.TimeMS}}, {{.End.EnergyWh}} Wh</td>
<td class="n">{{kwh .GrossWh}}</td><td class="n">{{kwh .ExcludedWh}}</td><td class="n">{{kwh .NetWh}}</td></tr>
{{range .Excluded}}<tr><td></td><td colspan="4">excluded {{join .Types}} {{t .From}} – {{t .To}} (seq {{.FromSeq}}–{{.ToSeq}}; alerts {{range .AlertIDs}}{{.}} {{end}})</td><td class="n">−{{kwh .ExcludedWh}}</td></tr>{{end}}
{{end}}</table>
<p>Each boundary reading carries its proof bundle in the JSON report; check it with <code>sunproof verify-report REPORT --rpc URL</code>.</p>
</body></html>
`))

// renderReportHTML writes r as HTML with an inline SVG bar chart of daily
// generation (counter increments between the boundaries, all devices).
func renderReportHTML(w io.Writer, r *carbon.Report, daily []dailyGen) error {
	return reportHTML.Execute(w, struct {
		R     *carbon.Report
		Chart template.HTML
	}{r, template.HTML(svgChart(daily))})
}

// svgChart draws daily kWh as bars; it only formats numbers and dates, so
// its output is safe to inline.
func svgChart(daily []dailyGen) string {
	const W, H, left, bottom, top = 900, 260, 50, 30, 10
	if len(daily) == 0 {
		return "<p>No readings.</p>"
	}
	var maxWh uint64 = 1
	for _, d := range daily {
		maxWh = max(maxWh, d.Wh)
	}
	bw := float64(W-left-10) / float64(len(daily))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="daily generation, kWh">`, W, H, W, H)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, left, H-bottom, W-10, H-bottom)
	fmt.Fprintf(&b, `<text x="4" y="%d" font-size="11">%.1f kWh</text><text x="4" y="%d" font-size="11">0</text>`, top+10, float64(maxWh)/1e3, H-bottom)
	plotH := float64(H - bottom - top)
	step := max(1, len(daily)/10)
	for i, d := range daily {
		h := plotH * float64(d.Wh) / float64(maxWh)
		x := float64(left) + float64(i)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2b8a3e"><title>%s: %.1f kWh</title></rect>`,
			x+1, float64(H-bottom)-h, max(bw-2, 1), h, d.Day.Format("2006-01-02"), float64(d.Wh)/1e3)
		if i%step == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10">%s</text>`, x, H-bottom+14, d.Day.Format("01-02"))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
