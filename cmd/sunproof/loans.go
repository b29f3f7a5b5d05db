package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/service"
	"github.com/sunproof/sunproof/loans"
)

func defaultLoanBook() string { return env("SUNPROOF_LOANS_FILE", "loans.yaml") }

// certifier computes the certified generation of loan months with the
// code carbon reports use: per device, the boundaries a report would pick
// (deviceInput: first and last anchored, signed readings of the month,
// with their proof bundles) and carbon.DeviceGeneration (the bundles
// verified with verifier, the exclusion policy applied to the device's
// alerts). A loan's month and a carbon report over the same month certify
// the same Wh.
type certifier struct {
	loader anomaly.Loader
	proofs proofSource
	// verifier checks each boundary bundle against the chain; nil leaves
	// the figures "not chain-verified" (the boundaries are anchored
	// according to the local proof store only).
	verifier carbon.BundleVerifier
	// alerts are every alert, resolved ones too: an excluded span stays
	// excluded after its alert resolves.
	alerts    []anomaly.Alert
	exclusion carbon.Exclusion // zero: carbon.DefaultExclusion
}

// monthGen returns the devices' certified generation in [from, to). A
// device that cannot be certified (fewer than two anchored readings, a
// boundary bundle the proof store cannot build, a boundary proof that does
// not verify, a counter reset) is listed with its reason and adds nothing;
// the month is then not Complete. Errors are failures to read the readings
// (InfluxDB) or the chain (carbon.ErrChainUnavailable), never a verdict on
// the data.
func (c *certifier) monthGen(ctx context.Context, devs []devices.Device, from, to time.Time) (loans.MonthGen, error) {
	month := from.Format(loans.MonthLayout)
	series, _, err := c.loader.Load(ctx, devs, from, to)
	if err != nil {
		return loans.MonthGen{Month: month}, err
	}
	samples := map[string][]anomaly.Sample{}
	for _, s := range series {
		samples[s.Device.ID] = append(samples[s.Device.ID], s.Samples...)
	}
	period := carbon.Period{From: from, To: to}
	opt := carbon.Options{Verifier: c.verifier, Exclusion: c.exclusion}
	var dms []loans.DeviceMonth
	for _, d := range devs {
		dm := loans.DeviceMonth{DeviceID: d.ID}
		in, err := deviceInput(ctx, c.proofs, d, samples[d.ID], period, c.alerts)
		if err != nil && ctx.Err() == nil {
			// No two anchored readings, or a boundary whose bundle the
			// proof store cannot build (e.g. no key that verifies it).
			dm.Problem = strings.TrimPrefix(oneLine(err.Error()), d.ID+": ")
			dms = append(dms, dm)
			continue
		}
		if err != nil {
			return loans.MonthGen{Month: month}, err
		}
		dm.StartSeq, dm.EndSeq = in.Start.Seq, in.End.Seq
		dm.StartEnergyWh, dm.EndEnergyWh = in.Start.EnergyWh, in.End.EnergyWh
		g, err := carbon.DeviceGeneration(ctx, in.DeviceInput, period, opt)
		if errors.Is(err, carbon.ErrChainUnavailable) {
			return loans.MonthGen{Month: month}, fmt.Errorf("device %s: %w", d.ID, err)
		}
		if err != nil {
			dm.Problem = strings.TrimPrefix(oneLine(err.Error()), d.ID+": ")
			dms = append(dms, dm)
			continue
		}
		dm.Certified, dm.ChainVerified = true, c.verifier != nil
		dm.GrossWh, dm.ExcludedWh, dm.NetWh = g.GrossWh, g.ExcludedWh, g.NetWh
		if in.Unanchored > 0 {
			dm.Partial = true
			dm.Problem = fmt.Sprintf("%d readings of the month outside the anchored boundaries (seq %d..%d) are not certified", in.Unanchored, in.Start.Seq, in.End.Seq)
		}
		dms = append(dms, dm)
	}
	return loans.NewMonthGen(month, dms, c.verifier != nil), nil
}

// trustedContract is the anchoring contract a verifier pins: -contract,
// else the deployment file's if there is one, else "" (each bundle's own).
func trustedContract(cf *chainFlags) (string, error) {
	if cf.contract == "" {
		if _, err := os.Stat(cf.deployment); err != nil {
			return "", nil
		}
	}
	a, err := cf.contractAddr()
	if err != nil {
		return "", err
	}
	return strings.ToLower(a.Hex()), nil
}

// dialPinnedVerifier connects a chain verifier to cf's RPC, pinned to the
// trusted contract (trustedContract).
func dialPinnedVerifier(ctx context.Context, cf *chainFlags) (*carbon.AnchorVerifier, func(), error) {
	v, done, err := carbon.DialAnchorVerifier(ctx, cf.rpc)
	if err != nil {
		return nil, nil, err
	}
	if v.Contract, err = trustedContract(cf); err != nil {
		done()
		return nil, nil, err
	}
	return v, done, nil
}

// notChainVerified is printed when figures come from the proof store alone.
const notChainVerified = "figures are NOT chain-verified: the boundary readings are anchored according to the local proof store, their proof bundles were not checked against the chain (pass -rpc URL)"

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
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory (env SUNPROOF_PROOF_STORE)")
	var kf keyFlags
	kf.register(fs)
	fs.Lookup("rpc").Usage = "chain JSON-RPC URL: every boundary proof is verified against the chain (env SUNPROOF_ETH_RPC); empty: figures are NOT chain-verified"
	fs.Lookup("contract").Usage = "the anchoring contract trusted for verification and -keys chain (default: from -deployment, if that file exists; else each bundle's own)"
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
	log := service.Logger("text")
	reg, done, err := kf.reg.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := os.Stat(filepath.Join(*storeDir, "STORE")); err != nil {
		return fmt.Errorf("coverage needs the proof store (-store): certified generation is between anchored readings: %w", err)
	}
	if kf.source == "chain" && kf.chain.rpc == "" {
		return errors.New("-keys chain needs -rpc")
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
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = *influx, *db
	src, err := anomaly.NewSource(icfg, nil)
	if err != nil {
		return err
	}
	astore, err := anomaly.NewInfluxStore(icfg, nil)
	if err != nil {
		return err
	}
	alerts, err := astore.All(ctx)
	if err != nil {
		return fmt.Errorf("read alerts: %w", err)
	}
	c := &certifier{loader: src, proofs: store, alerts: alerts}
	if kf.chain.rpc != "" {
		v, vdone, err := dialPinnedVerifier(ctx, &kf.chain)
		if err != nil {
			return err
		}
		defer vdone()
		c.verifier = v
	} else if *asJSON { // the table says so itself
		fmt.Fprintln(os.Stderr, "NOTE: "+notChainVerified)
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
	sts, err := loanStatuses(ctx, book, reg.Devices(), c, fromM, toM, only)
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
// toM (default: last month), with c's certified generation. Months are in
// China Standard Time.
func loanStatuses(ctx context.Context, book *loans.Book, all []devices.Device, c *certifier,
	fromM, toM time.Time, only string) ([]*loans.Status, error) {
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
			g, err := c.monthGen(ctx, devs, m, m.AddDate(0, 1, 0))
			if err != nil {
				return nil, fmt.Errorf("loan %s, %s: %w", l.ID, m.Format(loans.MonthLayout), err)
			}
			gen[g.Month] = g
		}
		st, err := loans.Evaluate(loans.Input{Loan: l, Devices: devs, Gen: gen, Alerts: c.alerts, Loc: cst})
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

// monthKind names how a month's figure was obtained: projected, or
// certified (chain-verified or from the proof store only), partly
// certified (a lower bound), or uncertified (nothing could be certified).
func monthKind(m *loans.MonthCoverage) string {
	if !m.Actual {
		return "projected"
	}
	certified := 0
	for _, d := range m.Devices {
		if d.Certified {
			certified++
		}
	}
	kind := "certified"
	switch {
	case !m.Complete && certified == 0 && m.GenWh == 0:
		return "UNCERTIFIED"
	case !m.Complete:
		kind = "partly certified"
	}
	if !m.ChainVerified {
		kind += ", NOT chain-verified"
	}
	return kind
}

func printCoverage(w io.Writer, sts []*loans.Status) {
	verified := true
	for _, s := range sts {
		for _, m := range s.Months {
			verified = verified && (!m.Actual || m.ChainVerified)
		}
	}
	if !verified {
		fmt.Fprintln(w, "NOTE: "+notChainVerified)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "loan\tmonth\tkind\tkWh\texcluded kWh\tincome CNY\tdue CNY\tcoverage\t")
	for _, s := range sts {
		for i := range s.Months {
			m := &s.Months[i]
			flag := ""
			if m.BelowTarget {
				flag = "LOW"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%.2f\t%.2f\t%.3f %s\t\n", s.LoanID, m.Month, monthKind(m), m.GenWh/1000, m.ExcludedWh/1000,
				m.IncomeCNY, m.DueCNY, m.Coverage, flag)
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

// serveLoans is the API's LoanSource: the loan book's coverage, with
// certified generation as carbon reports compute it (certifier), boundary
// proofs verified against the chain when serve has one, cached for a few
// minutes (each refresh queries InfluxDB per device and month).
type serveLoans struct {
	book     *loans.Book
	devs     interface{ Devices() []devices.Device }
	src      anomaly.Loader
	proofs   proofSource
	verifier carbon.BundleVerifier // nil: months say chain_verified false
	alerts   interface {
		All(ctx context.Context) ([]anomaly.Alert, error)
	}
	ttl time.Duration

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
	alerts, err := s.alerts.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	all := s.devs.Devices()
	c := &certifier{loader: s.src, proofs: s.proofs, verifier: s.verifier, alerts: alerts}
	sts, err := loanStatuses(ctx, s.book, all, c, time.Time{}, time.Time{}, "")
	if err != nil {
		return nil, err
	}
	out := loanDTOs(s.book, all, sts)
	s.current, s.at = out, time.Now()
	return out, nil
}

// loanDTOs converts the statuses of book's loans into the API's loans.
func loanDTOs(book *loans.Book, all []devices.Device, sts []*loans.Status) []httpapi.Loan {
	byID := map[string]*loans.Status{}
	for _, st := range sts {
		byID[st.LoanID] = st
	}
	out := make([]httpapi.Loan, 0, len(book.Loans))
	for i := range book.Loans {
		l := &book.Loans[i]
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
			hl.ChainVerified = st.ChainVerified
			for _, m := range st.Months {
				lm := httpapi.LoanMonth{Month: m.Month, IncomeCNY: m.IncomeCNY, DueCNY: m.DueCNY, Coverage: m.Coverage, Projected: !m.Actual,
					Problems: []string{}}
				if m.Actual {
					lm.CertifiedKWh = m.GenWh / 1000
					lm.ExcludedKWh = m.ExcludedWh / 1000
					lm.Complete, lm.ChainVerified = m.Complete, m.ChainVerified
					lm.Problems = append(lm.Problems, m.Problems...)
				}
				hl.Months = append(hl.Months, lm)
			}
		}
		out = append(out, hl)
	}
	return out
}
