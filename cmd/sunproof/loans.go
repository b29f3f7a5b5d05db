package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/service"
	"github.com/sunproof/sunproof/loans"
)

func defaultLoanBook() string { return env("SUNPROOF_LOANS_FILE", "loans.yaml") }

// anchoredIndex is the proof store's Anchored (anchor.Store implements it).
type anchoredIndex interface {
	Anchored(deviceID string, seq uint64) (bool, error)
}

// monthGen returns the devices' certified generation in [from, to): per
// device the counter difference between its first and last anchored
// readings in the month. The month is Complete only if every device has
// two anchored boundaries and they are the month's first and last
// readings (else the figure is a lower bound).
func monthGen(ctx context.Context, l anomaly.Loader, idx anchoredIndex, devs []devices.Device, from, to time.Time) (loans.MonthGen, error) {
	g := loans.MonthGen{Month: from.Format(loans.MonthLayout), Complete: true}
	series, _, err := l.Load(ctx, devs, from, to)
	if err != nil {
		return g, err
	}
	for _, s := range series {
		var ss []anomaly.Sample
		for _, x := range s.Samples {
			if !x.T.Before(from) && x.T.Before(to) && x.Seq != 0 {
				ss = append(ss, x)
			}
		}
		slices.SortFunc(ss, func(a, b anomaly.Sample) int { return a.T.Compare(b.T) })
		first, last := -1, -1
		for i := range ss {
			ok, err := idx.Anchored(s.Device.ID, ss[i].Seq)
			if err != nil {
				return g, err
			}
			if ok {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 || last <= first || ss[last].EnergyWh < ss[first].EnergyWh {
			g.Complete = false
			continue
		}
		if first != 0 || last != len(ss)-1 {
			g.Complete = false
		}
		g.CertifiedWh += float64(ss[last].EnergyWh - ss[first].EnergyWh)
	}
	return g, nil
}

func runLoans(args []string) error {
	usage := "usage: sunproof loans list | show ID | coverage [ID] [flags]\n\nThe loan book is a YAML file (package loans documents it; -file, env SUNPROOF_LOANS_FILE)."
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	fs := flag.NewFlagSet("loans "+args[0], flag.ExitOnError)
	file := fs.String("file", defaultLoanBook(), "loan book (YAML or JSON)")
	asJSON := fs.Bool("json", false, "print JSON")
	from := fs.String("from", "", "coverage: first month (YYYY-MM; default: the schedule's first)")
	to := fs.String("to", "", "coverage: last month with data (YYYY-MM; default: last month)")
	influx := fs.String("influx", env("SUNPROOF_INFLUX_URL", "http://127.0.0.1:8086"), "InfluxDB URL (env SUNPROOF_INFLUX_URL)")
	db := fs.String("db", env("SUNPROOF_INFLUX_DB", "sunproof"), "InfluxDB database")
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory")
	var rf registryFlags
	rf.register(fs)
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	book, err := loans.Load(*file)
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		return listLoans(os.Stdout, book)
	case "show":
		if len(pos) != 1 {
			return errors.New("loans show ID")
		}
		l, ok := book.Loan(pos[0])
		if !ok {
			return fmt.Errorf("no loan %q in %s", pos[0], *file)
		}
		b, _ := json.MarshalIndent(l, "", "  ")
		_, err := fmt.Printf("%s\n", b)
		return err
	case "coverage":
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := service.SignalContext()
	defer stop()
	reg, done, err := rf.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	idx, err := openProofIndex(*storeDir, true, service.Logger("text"))
	if err != nil {
		return err
	}
	if idx == nil {
		return errors.New("coverage needs the proof store (-store): certified generation is between anchored readings")
	}
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = *influx, *db
	src, err := anomaly.NewSource(icfg, nil)
	if err != nil {
		return err
	}
	astore, _ := anomaly.NewInfluxStore(icfg, nil)
	alerts, err := astore.Open(ctx)
	if err != nil {
		return fmt.Errorf("read alerts: %w", err)
	}
	cst := time.FixedZone("CST", 8*3600)
	var fromM, toM time.Time
	if *to != "" {
		if toM, err = time.ParseInLocation(loans.MonthLayout, *to, cst); err != nil {
			return fmt.Errorf("-to: %w", err)
		}
	}
	if *from != "" {
		if fromM, err = time.ParseInLocation(loans.MonthLayout, *from, cst); err != nil {
			return fmt.Errorf("-from: %w", err)
		}
	}
	only := ""
	if len(pos) > 0 {
		only = pos[0]
	}
	sts, err := loanStatuses(ctx, book, reg.Devices(), src, idx, alerts, fromM, toM, only)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Loans     []*loans.Status `json:"loans"`
			Portfolio loans.Portfolio `json:"portfolio"`
		}{sts, loans.Summarize(sts)}, "", "  ")
		_, err := fmt.Printf("%s\n", b)
		return err
	}
	printCoverage(os.Stdout, sts)
	return nil
}

// loanStatuses evaluates the loans of a book (only the one with id only, if
// set) month by month from fromM (default: each schedule's first month) to
// toM (default: last month), with certified generation between anchored
// readings. Months are in China Standard Time.
func loanStatuses(ctx context.Context, book *loans.Book, all []devices.Device, src anomaly.Loader, idx anchoredIndex,
	alerts []anomaly.Alert, fromM, toM time.Time, only string) ([]*loans.Status, error) {
	cst := time.FixedZone("CST", 8*3600)
	if toM.IsZero() {
		now := time.Now().In(cst)
		toM = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, cst).AddDate(0, -1, 0)
	}
	var sts []*loans.Status
	for i := range book.Loans {
		l := &book.Loans[i]
		if only != "" && only != l.ID {
			continue
		}
		devs := l.Devices(all)
		first := fromM
		if first.IsZero() {
			first = toM
			if len(l.Schedule) > 0 {
				first, _ = time.ParseInLocation(loans.MonthLayout, l.Schedule[0].Month, cst)
			}
		}
		gen := map[string]loans.MonthGen{}
		for m := first; !m.After(toM); m = m.AddDate(0, 1, 0) {
			g, err := monthGen(ctx, src, idx, devs, m, m.AddDate(0, 1, 0))
			if err != nil {
				return nil, fmt.Errorf("loan %s, %s: %w", l.ID, m.Format(loans.MonthLayout), err)
			}
			gen[g.Month] = g
		}
		st, err := loans.Evaluate(loans.Input{Loan: l, Devices: devs, Gen: gen, Alerts: alerts, Loc: cst})
		if err != nil {
			return nil, err
		}
		sts = append(sts, st)
	}
	return sts, nil
}

func listLoans(w io.Writer, b *loans.Book) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tborrower\tsite\tdevices\tprincipal CNY\ttariff+subsidy CNY/kWh\tinstallments")
	for _, l := range b.Loans {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%.4f\t%d\n", l.ID, l.Borrower, l.SiteID, len(l.DeviceIDs), l.PrincipalCNY, l.TariffCNYPerKWh+l.SubsidyCNYPerKWh, len(l.Schedule))
	}
	return tw.Flush()
}

func printCoverage(w io.Writer, sts []*loans.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "loan\tmonth\tkind\tkWh\tincome CNY\tdue CNY\tcoverage\t")
	for _, s := range sts {
		for _, m := range s.Months {
			kind := "projected"
			if m.Actual {
				kind = "certified"
				if !m.Complete {
					kind = "certified (partial)"
				}
			}
			flag := ""
			if m.BelowTarget {
				flag = "LOW"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.2f\t%.2f\t%.3f %s\t\n", s.LoanID, m.Month, kind, m.GenWh/1000, m.IncomeCNY, m.DueCNY, m.Coverage, flag)
		}
	}
	tw.Flush()
	for _, s := range sts {
		for _, a := range s.Alerts {
			fmt.Fprintf(w, "ALERT %s: %s\n", s.LoanID, a)
		}
	}
	p := loans.Summarize(sts)
	fmt.Fprintf(w, "portfolio: %d loans, certified %.1f kWh, income %.2f CNY, due %.2f CNY, coverage %.3f, alerted %v\n",
		p.Loans, p.CertifiedWh/1000, p.IncomeCNY, p.DueCNY, p.Coverage, p.Alerted)
}

// serveLoans is the API's LoanSource: the loan book's coverage, computed
// from anchored readings, cached for a few minutes (each refresh queries
// InfluxDB per device and month).
type serveLoans struct {
	book   *loans.Book
	devs   interface{ Devices() []devices.Device }
	src    anomaly.Loader
	idx    anchoredIndex
	alerts *anomaly.InfluxStore
	ttl    time.Duration

	mu      sync.Mutex
	at      time.Time
	current []httpapi.Loan
}

func (s *serveLoans) Loans(ctx context.Context) ([]httpapi.Loan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil && time.Since(s.at) < s.ttl {
		return s.current, nil
	}
	open, err := s.alerts.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	all := s.devs.Devices()
	sts, err := loanStatuses(ctx, s.book, all, s.src, s.idx, open, time.Time{}, time.Time{}, "")
	if err != nil {
		return nil, err
	}
	byID := map[string]*loans.Status{}
	for _, st := range sts {
		byID[st.LoanID] = st
	}
	out := make([]httpapi.Loan, 0, len(s.book.Loans))
	for i := range s.book.Loans {
		l := &s.book.Loans[i]
		hl := httpapi.Loan{Ref: l.ID, Borrower: l.Borrower, PrincipalCNY: l.PrincipalCNY,
			TariffCNYPerKWh: l.TariffCNYPerKWh, SubsidyCNYPerKWh: l.SubsidyCNYPerKWh, CoverageThreshold: l.MinCoverage,
			SiteIDs: []string{}, DeviceIDs: []string{}, Months: []httpapi.LoanMonth{}}
		if hl.CoverageThreshold == 0 {
			hl.CoverageThreshold = loans.DefaultMinCoverage
		}
		if l.SiteID != "" {
			hl.SiteIDs = append(hl.SiteIDs, l.SiteID)
		}
		for _, d := range l.Devices(all) {
			hl.DeviceIDs = append(hl.DeviceIDs, d.ID)
		}
		if st := byID[l.ID]; st != nil {
			for _, m := range st.Months {
				lm := httpapi.LoanMonth{Month: m.Month, IncomeCNY: m.IncomeCNY, DueCNY: m.DueCNY, Coverage: m.Coverage, Projected: !m.Actual}
				if m.Actual {
					lm.CertifiedKWh = m.GenWh / 1000
				}
				hl.Months = append(hl.Months, lm)
			}
		}
		out = append(out, hl)
	}
	s.current, s.at = out, time.Now()
	return out, nil
}
