package webui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/internal/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures the UI.
type Config struct {
	// SecureCookie marks the session cookie Secure (serve over HTTPS).
	SecureCookie bool
	// LiveRefresh is how often the fleet page refreshes its chart and
	// numbers (30 s); 0 keeps the default, negative disables it.
	LiveRefresh time.Duration
	// Logger may be nil.
	Logger *slog.Logger
}

// UI serves the web pages and, under /v1/, the API it is built on.
type UI struct {
	api    *httpapi.Server
	apiH   http.Handler
	cfg    Config
	log    *slog.Logger
	pages  map[string]*template.Template
	static http.Handler
	mux    *http.ServeMux
}

// New returns the handler of `sunproof serve`: the UI's pages, its static
// assets, and the API under /v1/.
func New(api *httpapi.Server, cfg Config) (http.Handler, error) {
	u, err := NewUI(api, cfg)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// NewUI returns the UI.
func NewUI(api *httpapi.Server, cfg Config) (*UI, error) {
	if api == nil {
		return nil, errors.New("webui: no API server")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LiveRefresh == 0 {
		cfg.LiveRefresh = 30 * time.Second
	}
	u := &UI{api: api, apiH: api.Handler(), cfg: cfg, log: cfg.Logger.With("component", "webui"), pages: map[string]*template.Template{}}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("webui: %s: %w", base, err)
		}
		u.pages[strings.TrimSuffix(base, ".html")] = t
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	u.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	u.routes()
	return u, nil
}

func (u *UI) routes() {
	m := http.NewServeMux()
	readers := []httpapi.Role{httpapi.RoleAdmin, httpapi.RoleInstaller, httpapi.RoleBank}
	all := httpapi.Roles
	m.Handle("/v1/", u.apiH)
	m.Handle("GET /static/", u.cacheStatic(u.static))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /{$}", u.page(readers, u.fleetPage))
	m.HandleFunc("GET /fleet/chart.svg", u.page(readers, u.fleetChart))
	m.HandleFunc("GET /sites/{site_id}", u.page(readers, u.sitePage))
	m.HandleFunc("GET /devices/{device_id}", u.page(readers, u.devicePage))
	m.HandleFunc("GET /alerts", u.page(readers, u.alertsPage))
	m.HandleFunc("GET /anchors", u.page(all, u.anchorsPage))
	m.HandleFunc("GET /anchors/{interval_start_ms}", u.page(all, u.anchorPage))
	m.HandleFunc("GET /portfolio", u.page([]httpapi.Role{httpapi.RoleAdmin, httpapi.RoleBank}, u.portfolioPage))
	m.HandleFunc("GET /loans/{loan_ref}", u.page([]httpapi.Role{httpapi.RoleAdmin, httpapi.RoleBank}, u.loanPage))
	m.HandleFunc("GET /carbon", u.page(all, u.carbonPage))
	m.HandleFunc("GET /carbon/{report_id}", u.page(all, u.carbonReportPage))
	m.HandleFunc("GET /verify", u.public(u.verifyPage))
	m.HandleFunc("POST /verify", u.public(u.verifyPost))
	m.HandleFunc("GET /login", u.public(u.loginPage))
	m.HandleFunc("POST /login", u.public(u.loginPost))
	m.HandleFunc("POST /logout", u.public(u.logout))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.render(w, r, http.StatusNotFound, "error", nil, &view{Title: "Not found", Data: errorData{Status: 404, Message: "There is no page at " + r.URL.Path + "."}})
	})
	u.mux = m
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	}
	u.mux.ServeHTTP(w, r)
}

func (u *UI) cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

// view is what every template gets.
type view struct {
	Status  int // response status; 0 = the caller's
	Title   string
	User    *httpapi.Principal
	Nav     []navItem
	Path    string
	Refresh int // live refresh in seconds, 0 = none
	Data    any
}

type navItem struct {
	Href, Label string
	Active      bool
}

func (u *UI) nav(p *httpapi.Principal, cur string) []navItem {
	type item struct {
		href, label string
		roles       []httpapi.Role
	}
	readers := []httpapi.Role{httpapi.RoleAdmin, httpapi.RoleInstaller, httpapi.RoleBank}
	items := []item{
		{"/", "Fleet", readers},
		{"/alerts", "Alerts", readers},
		{"/portfolio", "Portfolio", []httpapi.Role{httpapi.RoleAdmin, httpapi.RoleBank}},
		{"/anchors", "Anchors", httpapi.Roles},
		{"/carbon", "Carbon", httpapi.Roles},
		{"/verify", "Verify", nil},
	}
	var out []navItem
	for _, it := range items {
		if it.roles != nil && (p == nil || !slices.Contains(it.roles, p.Role)) {
			continue
		}
		active := cur == it.href || it.href != "/" && strings.HasPrefix(cur, it.href)
		out = append(out, navItem{Href: it.href, Label: it.label, Active: active})
	}
	return out
}

// user returns the request's principal from the session cookie, or nil.
func (u *UI) user(r *http.Request) *httpapi.Principal {
	c, err := r.Cookie(httpapi.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	p, ok := u.api.Config().Tokens.Authenticate(c.Value)
	if !ok {
		return nil
	}
	return &p
}

type pageFunc func(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error)

// page wraps a handler that needs a signed-in user with one of roles.
func (u *UI) page(roles []httpapi.Role, f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := u.user(r)
		if p == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !slices.Contains(roles, p.Role) {
			if r.URL.Path == "/" {
				http.Redirect(w, r, "/anchors", http.StatusSeeOther)
				return
			}
			u.render(w, r, http.StatusForbidden, "error", p, &view{Title: "Not allowed",
				Data: errorData{Status: 403, Message: fmt.Sprintf("A %s token may not open this page.", p.Role)}})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		name, v, err := f(w, r, p)
		if err != nil {
			status, _ := httpapi.StatusOf(err)
			msg := err.Error()
			var e *httpapi.Error
			if errors.As(err, &e) {
				msg = e.Msg
			}
			if status >= 500 {
				u.log.Warn("page failed", "path", r.URL.Path, "err", err)
				if status == 500 {
					msg = "internal error"
				}
			}
			u.render(w, r, status, "error", p, &view{Title: http.StatusText(status), Data: errorData{Status: status, Message: msg}})
			return
		}
		if name == "" { // the handler wrote the response
			return
		}
		u.render(w, r, http.StatusOK, name, p, v)
	}
}

func (u *UI) public(f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := u.user(r)
		name, v, err := f(w, r, p)
		if err != nil {
			status, _ := httpapi.StatusOf(err)
			u.render(w, r, status, "error", p, &view{Title: http.StatusText(status), Data: errorData{Status: status, Message: err.Error()}})
			return
		}
		if name != "" {
			u.render(w, r, http.StatusOK, name, p, v)
		}
	}
}

type errorData struct {
	Status  int
	Message string
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p *httpapi.Principal, v *view) {
	t, ok := u.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	if v.Status != 0 {
		status = v.Status
	}
	v.User, v.Path = p, r.URL.Path
	v.Nav = u.nav(p, r.URL.Path)
	var buf bytes.Buffer
	tname := "layout.html"
	if r.URL.Query().Get("fragment") == "1" && t.Lookup("fragment") != nil {
		tname = "fragment"
	}
	if err := t.ExecuteTemplate(&buf, tname, v); err != nil {
		u.log.Error("template failed", "template", name, "err", err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Page handlers.

type fleetData struct {
	Fleet  *httpapi.Fleet
	Chart  template.HTML
	Alerts []httpapi.Alert
	Range  chartRange
}

// chartRange is a page's time range, shown on its chart so that the
// browser tests ask the API for the same buckets.
type chartRange struct {
	From, To time.Time
	Step     time.Duration
	Label    string
}

// StepParam is the step as the API's step parameter spells it.
func (c chartRange) StepParam() string { return httpapi.StepName(c.Step) }

func (c chartRange) Query() httpapi.SeriesQuery {
	return httpapi.SeriesQuery{From: c.From, To: c.To, Step: c.Step}
}

var ranges = map[string]time.Duration{"6h": 6 * time.Hour, "24h": 24 * time.Hour, "48h": 48 * time.Hour, "7d": 7 * 24 * time.Hour}

// rangeOf reads ?range= (6h, 24h, 48h, 7d; default 24h) and picks a step
// giving about 144–288 buckets, aligned so that every bucket is whole.
func rangeOf(r *http.Request, now time.Time) chartRange {
	label := r.URL.Query().Get("range")
	d, ok := ranges[label]
	if !ok {
		label, d = "24h", 24*time.Hour
	}
	step := 5 * time.Minute
	switch {
	case d > 48*time.Hour:
		step = time.Hour
	case d > 24*time.Hour:
		step = 15 * time.Minute
	}
	to := now.UTC().Truncate(step).Add(step)
	return chartRange{From: to.Add(-d), To: to, Step: step, Label: label}
}

func (u *UI) fleetPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	ctx := r.Context()
	f, err := u.api.Fleet(ctx, p)
	if err != nil {
		return "", nil, err
	}
	rg := rangeOf(r, u.api.Config().Now())
	chart, err := u.fleetChartSVG(ctx, p, rg)
	if err != nil {
		return "", nil, err
	}
	d := fleetData{Fleet: f, Chart: chart, Range: rg}
	if u.api.Config().Alerts != nil {
		if d.Alerts, err = u.api.Alerts(ctx, p, httpapi.AlertQuery{State: "open", Limit: 10}); err != nil {
			return "", nil, err
		}
	}
	refresh := 0
	if u.cfg.LiveRefresh > 0 {
		refresh = int(u.cfg.LiveRefresh / time.Second)
	}
	return "fleet", &view{Title: "Fleet", Data: d, Refresh: refresh}, nil
}

func (u *UI) fleetChartSVG(ctx context.Context, p *httpapi.Principal, rg chartRange) (template.HTML, error) {
	fp, err := u.api.FleetPower(ctx, p, rg.Query())
	if err != nil {
		return "", err
	}
	line := Line{Name: "fleet AC power", Class: "line-measured"}
	for _, pt := range fp.Points {
		line.Pts = append(line.Pts, XY{pt.Time, pt.ACPowerW})
	}
	c := &Chart{Title: "Fleet AC power", Unit: "kW", Scale: 1e-3, From: rg.From, To: rg.To, Lines: []Line{line}}
	return c.SVG(), nil
}

// fleetChart serves the fleet chart alone, for the page's live refresh.
func (u *UI) fleetChart(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	svg, err := u.fleetChartSVG(r.Context(), p, rangeOf(r, u.api.Config().Now()))
	if err != nil {
		return "", nil, err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	io.WriteString(w, string(svg))
	return "", nil, nil
}

type siteData struct {
	Site    httpapi.Site
	Devices []httpapi.Device
	Alerts  []httpapi.Alert
}

func (u *UI) sitePage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	st, err := u.api.Site(p, r.PathValue("site_id"))
	if err != nil {
		return "", nil, err
	}
	d := siteData{Site: st, Devices: u.api.Devices(p, st.ID)}
	if u.api.Config().Alerts != nil {
		if d.Alerts, err = u.api.Alerts(r.Context(), p, httpapi.AlertQuery{SiteID: st.ID, Limit: 50}); err != nil {
			return "", nil, err
		}
	}
	return "site", &view{Title: st.Name, Data: d}, nil
}

type deviceData struct {
	Device      httpapi.Device
	Range       chartRange
	EnergyStep  time.Duration
	PowerChart  template.HTML
	EnergyChart template.HTML
	Stats       deviceStats
	Alerts      []httpapi.Alert
	Windows     []httpapi.DeviceWindow
	WindowsNote string
	Ranges      []string
}

// deviceStats are the plant page's numbers, all from the readings the
// charts show.
type deviceStats struct {
	Readings  int     // readings in the range
	PeakW     float64 // highest AC power
	EnergyWh  uint64  // counter increase over the range (last − first bucket's counter)
	LastPower float64 // mean power of the last bucket
	Anchored  int     // window spans fully anchored
	Pending   int     // spans not (fully) anchored
}

func (u *UI) devicePage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	ctx := r.Context()
	dev, err := u.api.Device(p, r.PathValue("device_id"))
	if err != nil {
		return "", nil, err
	}
	rg := rangeOf(r, u.api.Config().Now())
	rd, err := u.api.Readings(ctx, p, dev.ID, rg.Query())
	if err != nil {
		return "", nil, err
	}
	d := deviceData{Device: dev, Range: rg, Ranges: []string{"6h", "24h", "48h", "7d"}}
	measured := Line{Name: "measured AC power (bucket mean)", Class: "line-measured"}
	for _, pt := range rd.Points {
		measured.Pts = append(measured.Pts, XY{pt.Time, pt.ACPowerW})
		d.Stats.Readings += pt.Count
		d.Stats.PeakW = math.Max(d.Stats.PeakW, pt.ACPowerMaxW)
	}
	if n := len(rd.Points); n > 0 {
		d.Stats.LastPower = rd.Points[n-1].ACPowerW
		if last, first := rd.Points[n-1].EnergyWh, rd.Points[0].EnergyWh; last >= first {
			d.Stats.EnergyWh = last - first
		}
	}
	expected := Line{Name: "clear-sky expected power", Class: "line-expected"}
	band := Band{Name: fmt.Sprintf("%.0f–%.0f %% of clear-sky expected", rd.ExpectedBand[0]*100, rd.ExpectedBand[1]*100), Class: "band-expected"}
	for _, e := range rd.Expected {
		t := e.Time.Add(rg.Step / 2)
		expected.Pts = append(expected.Pts, XY{t, e.ACPowerW})
		band.Lo = append(band.Lo, XY{t, e.ACPowerW * rd.ExpectedBand[0]})
		band.Hi = append(band.Hi, XY{t, e.ACPowerW * rd.ExpectedBand[1]})
	}
	d.PowerChart = (&Chart{Title: "AC power, measured and expected", Unit: "kW", Scale: 1e-3, From: rg.From, To: rg.To,
		Lines: []Line{expected, measured}, Bands: []Band{band}}).SVG()

	// Energy per hour from the lifetime counter (bucket-to-bucket increase).
	d.EnergyStep = time.Hour
	if rg.To.Sub(rg.From) > 48*time.Hour {
		d.EnergyStep = 24 * time.Hour
	}
	er, err := u.api.Readings(ctx, p, dev.ID, httpapi.SeriesQuery{From: rg.From, To: rg.To, Step: d.EnergyStep})
	if err != nil {
		return "", nil, err
	}
	bars := &Line{Name: "energy", Class: "bar-energy"}
	for i := 1; i < len(er.Points); i++ {
		prev, cur := er.Points[i-1], er.Points[i]
		if cur.EnergyWh >= prev.EnergyWh && cur.Time.Sub(prev.Time) == d.EnergyStep {
			bars.Pts = append(bars.Pts, XY{cur.Time, float64(cur.EnergyWh - prev.EnergyWh)})
		}
	}
	d.EnergyChart = (&Chart{Title: "Energy per " + strings.TrimSuffix(d.EnergyStep.String(), "0m0s"), Unit: "kWh", Scale: 1e-3,
		From: rg.From, To: rg.To, Bars: bars, BarWidth: d.EnergyStep}).SVG()

	if u.api.Config().Alerts != nil {
		if d.Alerts, err = u.api.Alerts(ctx, p, httpapi.AlertQuery{DeviceID: dev.ID, Limit: 50}); err != nil {
			return "", nil, err
		}
	}
	if u.api.Config().Anchors != nil {
		wq := rg.Query()
		if wq.To.Sub(wq.From) > httpapi.MaxWindowRange {
			wq.From = wq.To.Add(-httpapi.MaxWindowRange)
			d.WindowsNote = "Anchoring status of the last 48 hours."
		}
		if d.Windows, err = u.api.DeviceWindows(ctx, p, dev.ID, wq); err != nil {
			return "", nil, err
		}
		slices.Reverse(d.Windows) // newest first
		for _, w := range d.Windows {
			if w.Status == httpapi.WindowAnchored {
				d.Stats.Anchored++
			} else {
				d.Stats.Pending++
			}
		}
	}
	return "device", &view{Title: dev.ID, Data: d}, nil
}

func (u *UI) alertsPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	state := r.URL.Query().Get("state")
	as, err := u.api.Alerts(r.Context(), p, httpapi.AlertQuery{State: state, Limit: 500})
	if err != nil {
		return "", nil, err
	}
	return "alerts", &view{Title: "Alerts", Data: struct {
		Alerts []httpapi.Alert
		State  string
	}{as, state}}, nil
}

func (u *UI) anchorsPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	as, err := u.api.Anchors(100, 0)
	if err != nil {
		return "", nil, err
	}
	return "anchors", &view{Title: "Anchors", Data: as}, nil
}

func (u *UI) anchorPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	start, err := strconv.ParseInt(r.PathValue("interval_start_ms"), 10, 64)
	if err != nil {
		return "", nil, &httpapi.Error{Status: 404, Code: "not_found", Msg: "no such interval"}
	}
	a, err := u.api.Anchor(start)
	if err != nil {
		return "", nil, err
	}
	return "anchor", &view{Title: "Interval " + a.IntervalStart.Format("2006-01-02 15:04"), Data: a}, nil
}

type loanRow struct {
	httpapi.LoanView
	Trend template.HTML
}

func coverageChart(l *httpapi.LoanView, w, h int) template.HTML {
	if len(l.Months) == 0 {
		return ""
	}
	bars := &Line{Name: "coverage", Class: "bar-coverage"}
	var from, to time.Time
	for _, m := range l.Months {
		t, err := time.Parse("2006-01", m.Month)
		if err != nil {
			continue
		}
		if from.IsZero() {
			from = t
		}
		to = t.AddDate(0, 1, 0)
		bars.Pts = append(bars.Pts, XY{t, m.Coverage})
	}
	c := &Chart{Title: "Monthly coverage ratio of " + l.Ref, Unit: "×", From: from, To: to, Bars: bars, BarWidth: 28 * 24 * time.Hour,
		Threshold: l.CoverageThreshold, W: w, H: h, TimeFormat: "Jan"}
	return c.SVG()
}

func (u *UI) portfolioPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	ls, err := u.api.Loans(r.Context(), p)
	if err != nil {
		return "", nil, err
	}
	rows := make([]loanRow, len(ls))
	below := 0
	for i := range ls {
		rows[i] = loanRow{LoanView: ls[i], Trend: coverageChart(&ls[i], 320, 90)}
		if ls[i].BelowThreshold {
			below++
		}
	}
	return "portfolio", &view{Title: "Loan portfolio", Data: struct {
		Loans []loanRow
		Below int
	}{rows, below}}, nil
}

func (u *UI) loanPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	l, err := u.api.Loan(r.Context(), p, r.PathValue("loan_ref"))
	if err != nil {
		return "", nil, err
	}
	var alerts []httpapi.Alert
	if u.api.Config().Alerts != nil {
		all, err := u.api.Alerts(r.Context(), p, httpapi.AlertQuery{State: "open"})
		if err != nil {
			return "", nil, err
		}
		for _, a := range all {
			if slices.Contains(l.DeviceIDs, a.DeviceID) {
				alerts = append(alerts, a)
			}
		}
	}
	return "loan", &view{Title: "Loan " + l.Ref, Data: struct {
		Loan   httpapi.LoanView
		Chart  template.HTML
		Alerts []httpapi.Alert
	}{l, coverageChart(&l, 800, 220), alerts}}, nil
}

func (u *UI) carbonPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	rs, err := u.api.CarbonReports(r.Context(), p)
	if err != nil {
		return "", nil, err
	}
	return "carbon", &view{Title: "Carbon reports", Data: rs}, nil
}

func (u *UI) carbonReportPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	rep, _, err := u.api.CarbonReport(r.Context(), p, r.PathValue("report_id"))
	if err != nil {
		return "", nil, err
	}
	return "carbon_report", &view{Title: "Carbon report " + rep.ID, Data: rep}, nil
}

func (u *UI) verifyPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	return "verify", &view{Title: "Verify a proof", Data: verifyData{Mode: u.api.Health().Verify}}, nil
}

type verifyData struct {
	Mode   string
	Result *httpapi.Verification
	Name   string
}

// verifyPost verifies an uploaded document: a multipart form (file or
// pasted text) from the page without JavaScript, or the document itself
// as the body (the page's script, which asks for ?fragment=1).
func (u *UI) verifyPost(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	limit := u.api.Config().MaxVerifyBytes
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	var doc []byte
	name := ""
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(limit); err != nil {
			return "", nil, &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Msg: "the upload is too large or malformed"}
		}
		if f, hdr, err := r.FormFile("file"); err == nil {
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, limit+1))
			if err != nil {
				return "", nil, err
			}
			doc, name = b, hdr.Filename
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			doc, name = []byte(r.FormValue("text")), "pasted text"
		}
	case "application/x-www-form-urlencoded":
		doc, name = []byte(r.FormValue("text")), "pasted text"
	default:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return "", nil, &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Msg: "the document is too large"}
		}
		doc, name = b, r.Header.Get("X-File-Name")
	}
	if int64(len(doc)) > limit {
		return "", nil, &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Msg: fmt.Sprintf("the document is larger than %d bytes", limit)}
	}
	res := u.api.Verify(r.Context(), doc)
	return "verify", &view{Title: "Verify a proof", Data: verifyData{Mode: res.Mode, Result: res, Name: name}}, nil
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request, p *httpapi.Principal) (string, *view, error) {
	return "login", &view{Title: "Sign in", Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}}, nil
}

type loginData struct {
	Next  string
	Error string
}

// safeNext keeps only local paths, so the login form can't redirect
// elsewhere.
func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/"
	}
	return n
}

func (u *UI) loginPost(w http.ResponseWriter, r *http.Request, _ *httpapi.Principal) (string, *view, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return "", nil, &httpapi.Error{Status: 400, Code: "bad_request", Msg: "malformed form"}
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	p, ok := u.api.Config().Tokens.Authenticate(tok)
	if !ok {
		return "login", &view{Status: http.StatusUnauthorized, Title: "Sign in", Data: loginData{Next: next, Error: "That token is not valid."}}, nil
	}
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: u.cfg.SecureCookie, SameSite: http.SameSiteStrictMode, MaxAge: 7 * 24 * 3600})
	if p.Role == httpapi.RoleVerifier && next == "/" {
		next = "/anchors"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return "", nil, nil
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, _ *httpapi.Principal) (string, *view, error) {
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: u.cfg.SecureCookie, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return "", nil, nil
}
