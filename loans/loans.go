// Package loans monitors plants that collateralise bank loans: per loan and
// per portfolio, certified generation, income, the monthly coverage ratio
// (income / repayment due), a projection from expected generation, and
// alerts when coverage falls below a threshold or the plant has open
// anomalies.
//
// # Loan book
//
// Loans are kept in one YAML (or JSON, a subset) file for now:
//
//	loans:
//	  - id: L-2024-001
//	    borrower: Zhang San
//	    site_id: site-7          # all its devices, and/or
//	    device_ids: [inv-1]      # explicit devices
//	    principal_cny: 60000
//	    tariff_cny_per_kwh: 0.3844   # grid purchase price (desulfurised coal benchmark)
//	    subsidy_cny_per_kwh: 0       # per-kWh subsidy, if any
//	    min_coverage: 1.2            # default DefaultMinCoverage
//	    schedule:                    # repayments due per month
//	      - {month: 2024-06, amount_cny: 650}
//	      - {month: 2024-07, amount_cny: 650}
//
// Devices may also name their loan (devices.Device.LoanRef); Book.Devices
// resolves both.
//
// # Numbers
//
// Income(month) = certified kWh × (tariff + subsidy), in CNY. Coverage =
// income / amount due that month (no coverage is computed for a month with
// nothing due). Certified generation is supplied by the caller per device
// and month (DeviceMonth, summed by NewMonthGen): the lifetime-counter
// difference between the first and last anchored, signed readings of the
// month, minus the spans the exclusion policy takes out — computed by
// carbon.DeviceGeneration, the code carbon reports use, so a loan's month
// and a carbon report over the same month certify the same Wh. The
// boundary proof bundles are verified against the chain when the caller
// has one (ChainVerified); figures that were not say so.
//
// A month is Complete when every device's generation is certified from
// its first to its last reading of the month. A device that cannot be
// certified (no anchored boundaries, a proof that does not verify, a
// counter reset) contributes nothing and its reason is kept (Problems); a
// device whose first or last readings are not anchored contributes the
// certified part. Either way the month's figure is a lower bound, and the
// month is alerted with the reasons.
//
// Projection: for months without data, expected generation is the plant's
// clear-sky energy (anomaly/pvmodel.ExpectedEnergy, 15-minute steps) times a
// weather factor, the median ratio certified / clear-sky of the loan's
// months with data (DefaultWeatherFactor 0.7 without any); projected
// coverage is computed from it the same way.
//
// # Alerts
//
// A month is alerted when coverage (actual, or projected for future
// months) is below the loan's MinCoverage, and a loan is alerted while any
// of its devices has an open alert of warning severity or above.
package loans

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
)

// Defaults.
const (
	DefaultMinCoverage   = 1.2
	DefaultWeatherFactor = 0.7
	MonthLayout          = "2006-01"
)

// Installment is one repayment due in a month.
type Installment struct {
	Month     string  `yaml:"month" json:"month"` // YYYY-MM
	AmountCNY float64 `yaml:"amount_cny" json:"amount_cny"`
}

// Loan is one loan collateralised by a site's or devices' generation.
type Loan struct {
	ID               string        `yaml:"id" json:"id"`
	Borrower         string        `yaml:"borrower" json:"borrower"`
	SiteID           string        `yaml:"site_id" json:"site_id,omitempty"`
	DeviceIDs        []string      `yaml:"device_ids" json:"device_ids,omitempty"`
	PrincipalCNY     float64       `yaml:"principal_cny" json:"principal_cny"`
	TariffCNYPerKWh  float64       `yaml:"tariff_cny_per_kwh" json:"tariff_cny_per_kwh"`
	SubsidyCNYPerKWh float64       `yaml:"subsidy_cny_per_kwh" json:"subsidy_cny_per_kwh"`
	MinCoverage      float64       `yaml:"min_coverage" json:"min_coverage"`
	Schedule         []Installment `yaml:"schedule" json:"schedule"`
}

// Book is the loan book.
type Book struct {
	Loans []Loan `yaml:"loans" json:"loans"`
}

// ErrInvalid wraps every validation error.
var ErrInvalid = errors.New("invalid loan")

// Validate checks a loan.
func (l *Loan) Validate() error {
	var errs []error
	if l.ID == "" {
		errs = append(errs, errors.New("empty id"))
	}
	if l.SiteID == "" && len(l.DeviceIDs) == 0 {
		errs = append(errs, errors.New("neither site_id nor device_ids"))
	}
	if l.PrincipalCNY <= 0 || l.TariffCNYPerKWh <= 0 || l.SubsidyCNYPerKWh < 0 || l.MinCoverage < 0 {
		errs = append(errs, fmt.Errorf("principal %g, tariff %g, subsidy %g, min coverage %g: principal and tariff must be positive",
			l.PrincipalCNY, l.TariffCNYPerKWh, l.SubsidyCNYPerKWh, l.MinCoverage))
	}
	seen := map[string]bool{}
	for _, in := range l.Schedule {
		if _, err := time.Parse(MonthLayout, in.Month); err != nil {
			errs = append(errs, fmt.Errorf("schedule month %q: want YYYY-MM", in.Month))
		}
		if in.AmountCNY <= 0 || seen[in.Month] {
			errs = append(errs, fmt.Errorf("schedule %s: amount %g must be positive, one installment per month", in.Month, in.AmountCNY))
		}
		seen[in.Month] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("loan %q: %w: %w", l.ID, ErrInvalid, err)
	}
	return nil
}

// Due returns the amount due in month (0 if none).
func (l *Loan) Due(month string) float64 {
	for _, in := range l.Schedule {
		if in.Month == month {
			return in.AmountCNY
		}
	}
	return 0
}

// Income returns the income of wh at the loan's tariff plus subsidy, CNY.
func (l *Loan) Income(wh float64) float64 {
	return wh / 1000 * (l.TariffCNYPerKWh + l.SubsidyCNYPerKWh)
}

func (l *Loan) minCoverage() float64 {
	if l.MinCoverage > 0 {
		return l.MinCoverage
	}
	return DefaultMinCoverage
}

// Decode reads a book (YAML or JSON) and validates it; loan ids must be
// unique.
func Decode(r io.Reader) (*Book, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var b Book
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("loan book: %w", err)
	}
	ids := map[string]bool{}
	for i := range b.Loans {
		l := &b.Loans[i]
		if err := l.Validate(); err != nil {
			return nil, err
		}
		if ids[l.ID] {
			return nil, fmt.Errorf("loan %q appears twice: %w", l.ID, ErrInvalid)
		}
		ids[l.ID] = true
		slices.SortFunc(l.Schedule, func(a, b Installment) int { return cmp.Compare(a.Month, b.Month) })
	}
	return &b, nil
}

// Load reads a book file.
func Load(path string) (*Book, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// Loan returns the loan with id.
func (b *Book) Loan(id string) (*Loan, bool) {
	for i := range b.Loans {
		if b.Loans[i].ID == id {
			return &b.Loans[i], true
		}
	}
	return nil, false
}

// Devices returns the devices collateralising l among devs: those listed by
// id, those of its site, and those whose LoanRef names it.
func (l *Loan) Devices(devs []devices.Device) []devices.Device {
	var out []devices.Device
	for _, d := range devs {
		if slices.Contains(l.DeviceIDs, d.ID) || (l.SiteID != "" && d.SiteID == l.SiteID) || d.LoanRef == l.ID {
			out = append(out, d)
		}
	}
	return out
}

// DeviceMonth is one device's certified generation in one month
// (carbon.DeviceGeneration over the month).
type DeviceMonth struct {
	DeviceID string `json:"device_id"`
	// Certified is true if the device's boundaries are anchored (and, with
	// ChainVerified, their proofs verified on chain): NetWh counts.
	Certified bool `json:"certified"`
	// ChainVerified: the boundary proof bundles were verified against the
	// chain, not only found in the local proof store.
	ChainVerified bool   `json:"chain_verified"`
	StartSeq      uint64 `json:"start_seq,omitempty"`
	EndSeq        uint64 `json:"end_seq,omitempty"`
	StartEnergyWh uint64 `json:"start_energy_wh,omitempty"`
	EndEnergyWh   uint64 `json:"end_energy_wh,omitempty"`
	GrossWh       uint64 `json:"gross_wh"`    // end − start counter
	ExcludedWh    uint64 `json:"excluded_wh"` // spans excluded by the policy
	NetWh         uint64 `json:"net_wh"`      // gross − excluded: certified generation
	// Partial: certified, but the boundaries are not the month's first and
	// last readings (some are not anchored): NetWh is a lower bound.
	Partial bool `json:"partial,omitempty"`
	// Problem says why the device is not certified, or why only partly.
	Problem string `json:"problem,omitempty"`
}

// MonthGen is a loan's generation in one month, summed over its devices.
type MonthGen struct {
	Month       string  `json:"month"`
	CertifiedWh float64 `json:"certified_wh"`
	// Complete is false if some device's month is not fully certified
	// (see Devices): the figure is a lower bound.
	Complete bool `json:"complete"`
	// ChainVerified: the boundary proofs behind CertifiedWh were verified
	// against the chain.
	ChainVerified bool          `json:"chain_verified"`
	ExcludedWh    float64       `json:"excluded_wh"`
	Devices       []DeviceMonth `json:"devices,omitempty"`
}

// NewMonthGen sums the devices' certified generation: only certified
// devices count; the month is Complete if there is at least one device and
// each is certified over the whole month; ChainVerified says the caller
// verified the boundary proofs on chain.
func NewMonthGen(month string, devs []DeviceMonth, chainVerified bool) MonthGen {
	g := MonthGen{Month: month, Complete: len(devs) > 0, ChainVerified: chainVerified, Devices: devs}
	for _, d := range devs {
		if !d.Certified {
			g.Complete = false
			continue
		}
		if d.Partial {
			g.Complete = false
		}
		g.CertifiedWh += float64(d.NetWh)
		g.ExcludedWh += float64(d.ExcludedWh)
	}
	return g
}

// Problems lists why the month is not Complete, one line per device.
func (g *MonthGen) Problems() []string {
	var out []string
	if len(g.Devices) == 0 && !g.Complete {
		out = append(out, "no device: nothing to certify")
	}
	for _, d := range g.Devices {
		switch {
		case !d.Certified:
			out = append(out, fmt.Sprintf("%s not certified: %s", d.DeviceID, d.Problem))
		case d.Partial:
			out = append(out, fmt.Sprintf("%s partly certified: %s", d.DeviceID, d.Problem))
		}
	}
	return out
}

// MonthCoverage is one month of a loan.
type MonthCoverage struct {
	Month       string  `json:"month"`
	DueCNY      float64 `json:"due_cny"`
	Actual      bool    `json:"actual"` // from certified generation; else projected
	Complete    bool    `json:"complete"`
	GenWh       float64 `json:"gen_wh"` // certified, or projected
	IncomeCNY   float64 `json:"income_cny"`
	Coverage    float64 `json:"coverage"` // income / due; NaN-free: 0 when nothing is due
	BelowTarget bool    `json:"below_target"`
	// ChainVerified (actual months): the certified figure's boundary proofs
	// were verified against the chain.
	ChainVerified bool    `json:"chain_verified"`
	ExcludedWh    float64 `json:"excluded_wh"`
	// Problems say why an actual month is not Complete (MonthGen.Problems).
	Problems []string      `json:"problems,omitempty"`
	Devices  []DeviceMonth `json:"devices,omitempty"`
}

// Status is a loan's monitoring result.
type Status struct {
	LoanID        string          `json:"loan_id"`
	Months        []MonthCoverage `json:"months"`
	WeatherFactor float64         `json:"weather_factor"`
	OpenAlerts    []string        `json:"open_alerts,omitempty"`
	Alerts        []string        `json:"alerts,omitempty"`
	CertifiedWh   float64         `json:"certified_wh"`
	IncomeCNY     float64         `json:"income_cny"`
	DueCNY        float64         `json:"due_cny"` // over the months with actual data
	// ChainVerified: every actual month's figure was verified against the
	// chain (false when there is no actual month).
	ChainVerified bool `json:"chain_verified"`
}

// Input is what Evaluate needs for one loan.
type Input struct {
	Loan    *Loan
	Devices []devices.Device
	// Gen is the certified generation per month (MonthLayout keys) for the
	// months with data.
	Gen map[string]MonthGen
	// Alerts are the devices' alerts; the open ones of warning severity or
	// above raise a loan alert.
	Alerts []anomaly.Alert
	// Plant maps a device to its model (anomaly.PlantFor); nil uses
	// pvmodel.DefaultPlant with the device's location, orientation, kWp and
	// AC rating.
	Plant func(devices.Device) pvmodel.Plant
	// Loc is the zone months are counted in (China Standard Time if nil).
	Loc *time.Location
}

func defaultPlant(d devices.Device) pvmodel.Plant {
	p := pvmodel.DefaultPlant()
	p.LatDeg, p.LonDeg, p.TiltDeg, p.AzimuthDeg, p.KWp = d.Lat, d.Lon, d.TiltDeg, d.AzimuthDeg, d.KWp
	if d.ACRatingW > 0 {
		p.ACRatingW = d.ACRatingW
	} else {
		p.ACRatingW = d.KWp * 1000
	}
	return p
}

// ClearSkyWh returns the devices' clear-sky energy in month.
func ClearSkyWh(devs []devices.Device, month string, loc *time.Location, plant func(devices.Device) pvmodel.Plant) (float64, error) {
	from, err := time.ParseInLocation(MonthLayout, month, loc)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, d := range devs {
		e, err := pvmodel.ExpectedEnergy(plant(d), from, from.AddDate(0, 1, 0), 15*time.Minute)
		if err != nil {
			return 0, fmt.Errorf("device %s: %w", d.ID, err)
		}
		sum += e
	}
	return sum, nil
}

// Evaluate computes a loan's monthly coverage over every month of its
// schedule and of in.Gen, with projections where there is no data.
func Evaluate(in Input) (*Status, error) {
	l := in.Loan
	if in.Plant == nil {
		in.Plant = defaultPlant
	}
	if in.Loc == nil {
		in.Loc = time.FixedZone("CST", 8*3600)
	}
	months := map[string]bool{}
	for _, s := range l.Schedule {
		months[s.Month] = true
	}
	for m := range in.Gen {
		months[m] = true
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for m := range months {
			if !yield(m) {
				return
			}
		}
	})
	clear := map[string]float64{}
	var ratios []float64
	for _, m := range keys {
		cs, err := ClearSkyWh(in.Devices, m, in.Loc, in.Plant)
		if err != nil {
			return nil, err
		}
		clear[m] = cs
		if g, ok := in.Gen[m]; ok && g.Complete && cs > 0 {
			ratios = append(ratios, g.CertifiedWh/cs)
		}
	}
	st := &Status{LoanID: l.ID, WeatherFactor: DefaultWeatherFactor, ChainVerified: len(in.Gen) > 0}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		st.WeatherFactor = ratios[(len(ratios)-1)/2] // lower median
	}
	for _, m := range keys {
		mc := MonthCoverage{Month: m, DueCNY: l.Due(m)}
		if g, ok := in.Gen[m]; ok {
			mc.Actual, mc.Complete, mc.GenWh = true, g.Complete, g.CertifiedWh
			mc.ChainVerified, mc.ExcludedWh, mc.Problems, mc.Devices = g.ChainVerified, g.ExcludedWh, g.Problems(), g.Devices
			st.CertifiedWh += g.CertifiedWh
			st.ChainVerified = st.ChainVerified && g.ChainVerified
		} else {
			mc.GenWh = clear[m] * st.WeatherFactor
		}
		mc.IncomeCNY = round2(l.Income(mc.GenWh))
		if mc.DueCNY > 0 {
			mc.Coverage = math.Round(mc.IncomeCNY/mc.DueCNY*1000) / 1000
			mc.BelowTarget = mc.Coverage < l.minCoverage()
		}
		if mc.Actual {
			st.IncomeCNY += mc.IncomeCNY
			st.DueCNY += mc.DueCNY
		}
		if mc.BelowTarget {
			kind := "coverage"
			if !mc.Actual {
				kind = "projected coverage"
			}
			st.Alerts = append(st.Alerts, fmt.Sprintf("%s %s %.2f below %.2f (income %.2f CNY, due %.2f CNY)", m, kind, mc.Coverage, l.minCoverage(), mc.IncomeCNY, mc.DueCNY))
		}
		if mc.Actual && !mc.Complete {
			why := ""
			if len(mc.Problems) > 0 {
				why = " (" + strings.Join(mc.Problems, "; ") + ")"
			}
			st.Alerts = append(st.Alerts, fmt.Sprintf("%s generation not fully certified: coverage is a lower bound%s", m, why))
		}
		st.Months = append(st.Months, mc)
	}
	st.IncomeCNY = round2(st.IncomeCNY)
	ids := map[string]bool{}
	for _, d := range in.Devices {
		ids[d.ID] = true
	}
	for _, a := range in.Alerts {
		if ids[a.DeviceID] && a.State == anomaly.StateOpen && a.Severity >= anomaly.SeverityWarning {
			st.OpenAlerts = append(st.OpenAlerts, a.ID)
			st.Alerts = append(st.Alerts, fmt.Sprintf("open %s anomaly on %s since %s: %s", a.Type, a.DeviceID, a.Span.From.In(in.Loc).Format("2006-01-02 15:04"), a.Summary))
		}
	}
	return st, nil
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Portfolio sums loans' statuses.
type Portfolio struct {
	Loans       int      `json:"loans"`
	CertifiedWh float64  `json:"certified_wh"`
	IncomeCNY   float64  `json:"income_cny"`
	DueCNY      float64  `json:"due_cny"`
	Coverage    float64  `json:"coverage"` // income / due over the months with data
	Alerted     []string `json:"alerted,omitempty"`
	// ChainVerified: every loan's figures were verified against the chain.
	ChainVerified bool `json:"chain_verified"`
}

// Summarize returns the portfolio totals of statuses.
func Summarize(sts []*Status) Portfolio {
	p := Portfolio{ChainVerified: len(sts) > 0}
	for _, s := range sts {
		p.Loans++
		p.ChainVerified = p.ChainVerified && s.ChainVerified
		p.CertifiedWh += s.CertifiedWh
		p.IncomeCNY += s.IncomeCNY
		p.DueCNY += s.DueCNY
		if len(s.Alerts) > 0 {
			p.Alerted = append(p.Alerted, s.LoanID)
		}
	}
	p.IncomeCNY, p.DueCNY = round2(p.IncomeCNY), round2(p.DueCNY)
	if p.DueCNY > 0 {
		p.Coverage = math.Round(p.IncomeCNY/p.DueCNY*1000) / 1000
	}
	return p
}
