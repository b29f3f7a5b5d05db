// Package carbon turns certified generation into avoided emissions, in a
// report anyone can recompute (docs/formats/carbon-report.md).
//
//	r, err := carbon.Build(ctx, "device", "inv-1", period, []carbon.DeviceInput{{
//		Device: dev, Start: start, End: end, Readings: readings, Alerts: alerts,
//	}}, carbon.Options{Verifier: v})
//	_ = r.Encode(w)
//	…
//	r, _ = carbon.DecodeReport(rd)
//	_, err = carbon.Recompute(ctx, r, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: v})
//
// # Method
//
// CDM methodologies ACM0002 (large-scale grid-connected renewable
// electricity) and AMS-I.D (small-scale, output capacity ≤ 15 MW):
// ER = BE − PE − LE, BE = EG × EF_grid, with PE = LE = 0 for grid-connected
// PV. EG is in MWh, EF in tCO2/MWh. The report names the methodology that
// the subject's capacity (Σ AC rating) calls for.
//
// # Emission factors
//
// Table holds rows (region × year × kind), each with its source; DefaultTable
// is seeded from docs/REFERENCE.md: China's national and regional grid
// factors for 2021–2023 published by MEE and NBS (and MEE's 2022 factor for
// enterprise reporting), and the CDM combined-margin example ASB0038 (0.75 ×
// 0.4620 + 0.25 × 0.3456 = 0.4329). Table.Extend adds or overrides rows from
// YAML (factors: [{region, year, kind, tco2_per_mwh, source, note}]).
//
// Table.Select applies a Policy: kinds in order of preference (default:
// combined margin, then grid average), the device's GridRegion then its
// parents ("CN-East" → "CN"), the reporting year's vintage then the latest
// earlier one (factors are published one to three years late). The
// Selection states the row, the reason and the warnings. China publishes no
// combined margin: its factors are averages for accounting for electricity
// consumption, so every report using one says that it is a proxy and that
// its reductions are not CDM-certified figures.
//
// # Certified generation
//
// For each device, the difference of its lifetime energy counter between two
// boundary readings inside the period — the first and last anchored,
// signed readings, chosen by the caller from the proof store (`sunproof
// carbon report` takes the first and last readings of the period that
// anchor.Store says are anchored and whose bundle it can build) — minus the
// spans excluded by the Exclusion policy. Each boundary carries its proof
// bundle (json.RawMessage, package anchor's format, docs/formats/proof.md).
// A BundleVerifier checks that the bundle verifies and proves the
// boundary's device, seq, time and counter; without one nothing about the
// boundaries is checked (`sunproof carbon report -verify=false`):
//
//   - AnchorVerifier is the BundleVerifier over anchor.Verify and a chain
//     (DialAnchorVerifier: the node's JSON-RPC URL; `sunproof carbon report`
//     and `sunproof verify-report -rpc`, `sunproof loans coverage -rpc`,
//     `sunproof serve -rpc`): the device key is the one registered on chain
//     and valid at the reading's time, the batch root the one anchored.
//     Its Contract, if set, pins the anchoring contract (`-contract`); else
//     each bundle's own contract address is trusted.
//   - A chain error other than "not found" is a transport failure: the
//     verifier returns it wrapping ErrChainUnavailable, and Build,
//     DeviceGeneration and Recompute pass it on without calling the proof
//     bad (nothing was decided). A rejected bundle wraps ErrProof (with the
//     verifier's error: anchor.StepOf names the failing step); a bundle of
//     another reading than the boundary claims, ErrBoundary.
//
// The exclusions come from package anomaly's alerts of the device — every
// stored alert, resolved ones too (the CLI reads anomaly.InfluxStore.All):
// an excluded span stays excluded after its alert resolves. The default
// policy excludes, from warning severity up, the spans of
// over-performance, over-capacity and energy-mismatch alerts (fabricated,
// impossible or inconsistent output): the counter increments from the last
// reading at or before each span to the first at or after it, overlapping
// spans merged. Outages and communication gaps need no exclusion: the
// counter either did not move or moved with real production. The policy is
// written into the report. A counter that goes down inside the period
// makes Build fail (ErrCounterRegression): split the period at the reset,
// each part with its own anchored boundaries.
//
// DeviceGeneration is that computation for one device, exported so that
// other users of certified generation get the reports' figures: loan
// monitoring (package loans, `sunproof loans coverage`, GET /v1/loans)
// calls it per device and month, with the same boundary choice, verifier
// and alerts.
//
// # Numbers
//
// Energies are integer Wh (exact). MWh = Wh / 10⁶ as a float64 (exact
// decimal up to 2⁵³ Wh). tCO2 values are EG × EF rounded half away from
// zero to 6 decimals (grams); Recompute accepts ±5·10⁻⁷ t so that other
// implementations may round a tie differently. Recompute checks every
// number, the structure, the methodology, the factor row and its selection
// against a table, and every proof; it reports all discrepancies, each
// wrapping ErrMismatch (a rejected proof also ErrProof, or ErrBoundary,
// and the verifier's error). A proof that could not be checked because the
// chain was unreachable wraps ErrChainUnavailable, not ErrMismatch: the
// report does not verify, but it is not shown to be wrong either.
//
// # Invariants
//
//   - Start.Seq < End.Seq, Start.TimeMS ≤ End.TimeMS, both inside the period;
//     Start.EnergyWh ≤ every exclusion edge ≤ End.EnergyWh, exclusions in
//     seq order without overlap.
//   - NetWh = GrossWh − ExcludedWh ≥ 0 per device; totals are the sums.
//   - Every boundary has a bundle: a report without proofs is invalid.
//
// Build, DeviceGeneration, Recompute, DecodeReport and Table are safe for
// concurrent use; so is AnchorVerifier if its ChainReader is (EthReader is).
package carbon
