package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/loans"
)

// rejectVerifier is a fake verifier: it rejects every bundle of device and
// passes the others to next.
type rejectVerifier struct {
	next   carbon.BundleVerifier
	device string
}

func (v rejectVerifier) Verify(ctx context.Context, raw json.RawMessage) (reading.Reading, error) {
	r, err := v.next.Verify(ctx, raw)
	if err == nil && r.DeviceID == v.device {
		return reading.Reading{}, errors.New("batch root mismatch (fake)")
	}
	return r, err
}

// keylessProofs is a proof store that cannot build device's bundles (no
// key of the device verifies them).
type keylessProofs struct {
	*memProofs
	device string
}

func (k keylessProofs) ProofFor(ctx context.Context, id string, seq uint64) (*anchor.Bundle, error) {
	if id == k.device {
		return nil, errors.New("none of the 1 known keys of device " + id + " verifies the reading")
	}
	return k.memProofs.ProofFor(ctx, id, seq)
}

// downChain is a chain node that does not answer.
type downChain struct{}

func (downChain) Anchor(context.Context, string, int64) (anchor.AnchorRecord, error) {
	return anchor.AnchorRecord{}, errors.New("connection refused")
}

func (downChain) DeviceKeys(context.Context, string, string) ([]anchor.DeviceKeyRecord, error) {
	return nil, errors.New("connection refused")
}

// counterWh is the counter of device n (of signedMonth) at hour h.
func counterWh(series memLoader, n, h int) uint64 { return series[n].Samples[h].EnergyWh }

// TestMonthGen: a loan month's certified generation, per device, from the
// month's first and last anchored readings whose proofs verify, minus the
// excluded spans; devices that cannot be certified are flagged with their
// reason and add nothing.
func TestMonthGen(t *testing.T) {
	ctx := context.Background()
	june := time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	all := func(_, _, _ int) bool { return true }
	const last = 30*24 - 1
	// ct-1: 11 June 09:00–15:00 over-performance (warning): readings
	// 08:01 → 15:01 excluded, 7 × 1600 Wh.
	overPerf := anomaly.Alert{ID: "ct-1/over_performance/x", DeviceID: "ct-1", Type: anomaly.TypeOverPerformance, Severity: anomaly.SeverityWarning,
		State: anomaly.StateResolved, Span: anomaly.Span{From: june.AddDate(0, 0, 10).Add(9 * time.Hour), To: june.AddDate(0, 0, 10).Add(15 * time.Hour)}}
	// Not excluded: a communication gap, and an info-level over-capacity.
	gap := anomaly.Alert{ID: "ct-0/comm_gap/x", DeviceID: "ct-0", Type: anomaly.TypeCommGap, Severity: anomaly.SeverityCritical,
		State: anomaly.StateOpen, Span: anomaly.Span{From: june.AddDate(0, 0, 3).Add(9 * time.Hour), To: june.AddDate(0, 0, 3).Add(15 * time.Hour)}}
	info := anomaly.Alert{ID: "ct-0/over_capacity/x", DeviceID: "ct-0", Type: anomaly.TypeOverCapacity, Severity: anomaly.SeverityInfo,
		State: anomaly.StateResolved, Span: anomaly.Span{From: june.AddDate(0, 0, 4).Add(9 * time.Hour), To: june.AddDate(0, 0, 4).Add(15 * time.Hour)}}

	type want struct {
		net      [2]uint64 // per device; 0 and certified false for a flagged device
		excluded [2]uint64
		flagged  [2]string // substring of the device's Problem; "" = certified over the whole month
		partial  [2]bool
		complete bool
		verified bool
	}
	full := func(series memLoader, n int) uint64 { return counterWh(series, n, last) - counterWh(series, n, 0) }
	tests := []struct {
		desc     string
		anchored func(dev, h, hours int) bool
		edit     func(dev, h int, s *anomaly.Sample)
		alerts   []anomaly.Alert
		verifier func(chain carbon.BundleVerifier) carbon.BundleVerifier // nil: no chain verification
		proofs   func(mp *memProofs) proofSource                         // nil: mp
		want     func(series memLoader) want
		wantErr  error
	}{
		{
			desc: "verified, whole month, one excluded span", anchored: all, alerts: []anomaly.Alert{overPerf, gap, info},
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return v },
			want: func(s memLoader) want {
				return want{net: [2]uint64{full(s, 0), full(s, 1) - 7*1600}, excluded: [2]uint64{0, 7 * 1600}, complete: true, verified: true}
			},
		},
		{
			desc: "no chain: same figures, not chain-verified", anchored: all, alerts: []anomaly.Alert{overPerf},
			want: func(s memLoader) want {
				return want{net: [2]uint64{full(s, 0), full(s, 1) - 7*1600}, excluded: [2]uint64{0, 7 * 1600}, complete: true}
			},
		},
		{
			desc: "first and last hours not anchored: lower bound", anchored: func(_, h, hours int) bool { return h >= 5 && h < hours-3 },
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return v },
			want: func(s memLoader) want {
				return want{net: [2]uint64{counterWh(s, 0, last-3) - counterWh(s, 0, 5), counterWh(s, 1, last-3) - counterWh(s, 1, 5)},
					flagged: [2]string{"8 readings of the month outside", "8 readings of the month outside"}, partial: [2]bool{true, true}, verified: true}
			},
		},
		{
			desc: "missing boundary: ct-1 has one anchored reading", anchored: func(dev, h, _ int) bool { return dev == 0 || h == 100 },
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return v },
			want: func(s memLoader) want {
				return want{net: [2]uint64{full(s, 0), 0}, flagged: [2]string{"", "fewer than two anchored, signed readings"}, verified: true}
			},
		},
		{
			desc: "missing boundary: nothing anchored", anchored: func(_, _, _ int) bool { return false },
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return v },
			want: func(memLoader) want {
				return want{flagged: [2]string{"fewer than two anchored", "fewer than two anchored"}, verified: true}
			},
		},
		{
			desc: "unverifiable: ct-1's proofs are rejected", anchored: all,
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return rejectVerifier{v, "ct-1"} },
			want: func(s memLoader) want {
				return want{net: [2]uint64{full(s, 0), 0}, flagged: [2]string{"", "boundary proof does not verify: batch root mismatch (fake)"}, verified: true}
			},
		},
		{
			desc: "unverifiable: the proof store cannot build ct-1's bundles", anchored: all,
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return v },
			proofs:   func(mp *memProofs) proofSource { return keylessProofs{mp, "ct-1"} },
			want: func(s memLoader) want {
				return want{net: [2]uint64{full(s, 0), 0}, flagged: [2]string{"", "none of the 1 known keys of device ct-1"}, verified: true}
			},
		},
		{
			desc: "counter reset inside the month", anchored: all,
			edit: func(dev, h int, s *anomaly.Sample) {
				if dev == 0 && h >= 400 {
					s.EnergyWh -= 500_000
				}
			},
			verifier: func(v carbon.BundleVerifier) carbon.BundleVerifier { return v },
			want: func(s memLoader) want {
				return want{net: [2]uint64{0, full(s, 1)}, flagged: [2]string{"counter went down", ""}, verified: true}
			},
		},
		{
			desc: "chain unreachable: an error, not a verdict", anchored: all,
			verifier: func(carbon.BundleVerifier) carbon.BundleVerifier { return &carbon.AnchorVerifier{Chain: downChain{}} },
			wantErr:  carbon.ErrChainUnavailable,
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			series, mp, chain, devs := signedMonth(t, 2, tc.anchored, tc.edit)
			c := &certifier{loader: series, proofs: mp, alerts: tc.alerts}
			if tc.proofs != nil {
				c.proofs = tc.proofs(mp)
			}
			if tc.verifier != nil {
				c.verifier = tc.verifier(&carbon.AnchorVerifier{Chain: chain, Contract: ctContract})
			}
			g, err := c.monthGen(ctx, devs, june, june.AddDate(0, 1, 0))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want(series)
			if g.Month != "2024-06" || len(g.Devices) != 2 {
				t.Fatalf("month %s with %d devices", g.Month, len(g.Devices))
			}
			var sum, excl uint64
			for i, d := range g.Devices {
				certified := w.flagged[i] == "" || w.partial[i]
				if got, want := d.NetWh, w.net[i]; got != want {
					t.Errorf("%s net %d Wh, want %d", d.DeviceID, got, want)
				}
				if got, want := d.ExcludedWh, w.excluded[i]; got != want {
					t.Errorf("%s excluded %d Wh, want %d", d.DeviceID, got, want)
				}
				if d.Certified != certified || d.Partial != w.partial[i] || d.ChainVerified != (certified && w.verified) {
					t.Errorf("%s certified %t partial %t chain-verified %t, want %t %t %t", d.DeviceID, d.Certified, d.Partial, d.ChainVerified,
						certified, w.partial[i], certified && w.verified)
				}
				if !strings.Contains(d.Problem, w.flagged[i]) || (w.flagged[i] == "") != (d.Problem == "") {
					t.Errorf("%s problem %q, want %q", d.DeviceID, d.Problem, w.flagged[i])
				}
				if d.Certified {
					sum += d.NetWh
					excl += d.ExcludedWh
					if d.GrossWh != d.EndEnergyWh-d.StartEnergyWh || d.NetWh != d.GrossWh-d.ExcludedWh {
						t.Errorf("%s: %+v does not add up", d.DeviceID, d)
					}
				}
			}
			if g.CertifiedWh != float64(sum) || g.ExcludedWh != float64(excl) || g.Complete != w.complete || g.ChainVerified != w.verified {
				t.Errorf("month %g Wh (excluded %g) complete %t chain-verified %t; want %d (%d) %t %t", g.CertifiedWh, g.ExcludedWh,
					g.Complete, g.ChainVerified, sum, excl, w.complete, w.verified)
			}
			if got := len(g.Problems()); (got == 0) != w.complete {
				t.Errorf("problems %q, complete %t", g.Problems(), w.complete)
			}
		})
	}
}

// TestLoanMonthIsCarbonReport: a loan's month certifies exactly the Wh of
// a carbon report over the same month (same boundaries, same exclusions).
func TestLoanMonthIsCarbonReport(t *testing.T) {
	ctx := context.Background()
	in, _ := carbonWorld(t)
	r, _, err := buildCarbonReport(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	c := &certifier{loader: in.Loader, proofs: in.Proofs, verifier: in.Options.Verifier, alerts: in.Alerts}
	g, err := c.monthGen(ctx, in.Devices, in.Period.From, in.Period.To)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.CertifiedWh, float64(r.Totals.NetWh); got != want {
		t.Errorf("loan month %g Wh, carbon report %g Wh", got, want)
	}
	if got, want := g.ExcludedWh, float64(r.Totals.ExcludedWh); got != want || want == 0 {
		t.Errorf("loan month excludes %g Wh, carbon report %g Wh", got, want)
	}
	for i, d := range g.Devices {
		if rd := r.Devices[i]; d.StartSeq != rd.Start.Seq || d.EndSeq != rd.End.Seq || d.NetWh != rd.NetWh {
			t.Errorf("%s: loan seq %d..%d net %d, report seq %d..%d net %d", d.DeviceID, d.StartSeq, d.EndSeq, d.NetWh, rd.Start.Seq, rd.End.Seq, rd.NetWh)
		}
	}
}

// TestLoanStatusesFlagUncertifiedMonths: the loans command and the API
// show a month that could not be certified, with its reasons, and say
// when figures are not chain-verified.
func TestLoanStatusesFlagUncertifiedMonths(t *testing.T) {
	ctx := context.Background()
	cstz := time.FixedZone("CST", 8*3600)
	series, mp, chain, devs := signedMonth(t, 2, func(dev, _, _ int) bool { return dev == 0 }, nil)
	book, err := loans.Decode(strings.NewReader(`loans: [{id: L1, borrower: Wang, site_id: ct-site, principal_cny: 50000, tariff_cny_per_kwh: 0.4,
  schedule: [{month: 2024-05, amount_cny: 100}, {month: 2024-06, amount_cny: 100}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	may, june := time.Date(2024, 5, 1, 0, 0, 0, 0, cstz), time.Date(2024, 6, 1, 0, 0, 0, 0, cstz)
	for _, verified := range []bool{true, false} {
		c := &certifier{loader: series, proofs: mp}
		if verified {
			c.verifier = &carbon.AnchorVerifier{Chain: chain}
		}
		sts, err := loanStatuses(ctx, book, devs, c, may, june, "")
		if err != nil {
			t.Fatal(err)
		}
		st := sts[0]
		if len(st.Months) != 2 || !st.Months[0].Actual || !st.Months[1].Actual {
			t.Fatalf("months %+v", st.Months)
		}
		mayC, juneC := st.Months[0], st.Months[1]
		wantJune := float64(counterWh(series, 0, 30*24-1) - counterWh(series, 0, 0))
		if mayC.GenWh != 0 || mayC.Complete || len(mayC.Problems) != 2 {
			t.Errorf("May (no readings): %g Wh complete %t problems %q", mayC.GenWh, mayC.Complete, mayC.Problems)
		}
		if juneC.GenWh != wantJune || juneC.Complete || len(juneC.Problems) != 1 || !strings.Contains(juneC.Problems[0], "ct-1 not certified") {
			t.Errorf("June: %g Wh (want %g) complete %t problems %q", juneC.GenWh, wantJune, juneC.Complete, juneC.Problems)
		}
		if st.ChainVerified != verified || juneC.ChainVerified != verified {
			t.Errorf("chain-verified %t/%t, want %t", st.ChainVerified, juneC.ChainVerified, verified)
		}
		var out bytes.Buffer
		printCoverage(&out, sts)
		t.Logf("chain-verified %t:\n%s", verified, out.String())
		wants := []string{"2024-05  UNCERTIFIED", "2024-06  partly certified", "ALERT L1: 2024-06 generation not fully certified: coverage is a lower bound (ct-1 not certified: fewer than two anchored"}
		if verified {
			if strings.Contains(out.String(), "NOT chain-verified") {
				t.Errorf("verified output says NOT chain-verified:\n%s", out.String())
			}
		} else {
			wants = append(wants, "NOTE: figures are NOT chain-verified", "partly certified, NOT chain-verified")
		}
		for _, w := range wants {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out.String())
			}
		}

		// The API's view of the same.
		hl := loanDTOs(book, devs, sts)
		if len(hl) != 1 || len(hl[0].Months) != 2 || hl[0].ChainVerified != verified {
			t.Fatalf("API loans %+v", hl)
		}
		m := hl[0].Months[1]
		if m.CertifiedKWh != wantJune/1000 || m.Complete || m.ChainVerified != verified || len(m.Problems) != 1 || m.Projected {
			t.Errorf("API June %+v", m)
		}
		if m := hl[0].Months[0]; m.Problems == nil || len(m.Problems) != 2 || m.Complete {
			t.Errorf("API May %+v", m)
		}
	}
}

func TestLoansListAndCoverageOutput(t *testing.T) {
	b, err := loans.Decode(strings.NewReader(`loans: [{id: L1, borrower: Wang, site_id: s, principal_cny: 5000, tariff_cny_per_kwh: 0.4, schedule: [{month: 2024-06, amount_cny: 100}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := listLoans(&out, b); err != nil || !strings.Contains(out.String(), "L1") || !strings.Contains(out.String(), "Wang") {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	dev := devices.Device{ID: "a", SiteID: "s", KWp: 5, Lat: 31.8, Lon: 117.2, TiltDeg: 25, AzimuthDeg: 180}
	st, err := loans.Evaluate(loans.Input{Loan: &b.Loans[0], Devices: []devices.Device{dev},
		Gen: map[string]loans.MonthGen{"2024-06": loans.NewMonthGen("2024-06", []loans.DeviceMonth{{DeviceID: "a", Certified: true, ChainVerified: true, GrossWh: 200_000, NetWh: 200_000}}, true)}})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	printCoverage(&out, []*loans.Status{st})
	for _, want := range []string{"2024-06", "certified", "0.800 LOW", "ALERT L1: 2024-06 coverage 0.80 below 1.20", "portfolio: 1 loans"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("coverage output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "NOT chain-verified") {
		t.Errorf("chain-verified figures flagged as not verified:\n%s", out.String())
	}
}
