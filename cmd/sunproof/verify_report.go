package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	ethcommon "github.com/ethereum/go-ethereum/common"

	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/internal/service"
)

// verifyReport recomputes r and verifies its proofs; it writes one line
// per failing check (or one OK line) and reports whether all passed. A
// proof that could not be checked (chain unreachable) is a failing line
// too: "NOT CHECKED" rather than a verdict on the report.
func verifyReport(ctx context.Context, r *carbon.Report, table *carbon.Table, v carbon.BundleVerifier, w io.Writer) bool {
	ver, err := carbon.Recompute(ctx, r, carbon.RecomputeOptions{Table: table, Verifier: v})
	if err == nil {
		fmt.Fprintf(w, "OK %s %s: %d devices, %d proofs verified, factor %s checked, %.6f tCO2e\n",
			r.Subject.Kind, r.Subject.ID, ver.Devices, ver.ProofsChecked, r.Factor.FactorID, r.Totals.ERTCO2)
		return true
	}
	for _, e := range flatten(err) {
		verdict := "FAIL"
		if errors.Is(e, carbon.ErrChainUnavailable) {
			verdict = "FAIL (NOT CHECKED)"
		}
		fmt.Fprintf(w, "%s %s\n", verdict, strings.ReplaceAll(e.Error(), "\n", " "))
	}
	return false
}

// flatten lists the leaves of joined errors.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// errVerifyFailed makes the command exit 1 after its lines are printed.
var errVerifyFailed = errors.New("report does not verify")

func runVerifyReport(args []string) error {
	fs := flag.NewFlagSet("verify-report", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof verify-report REPORT --rpc URL [--contract ADDR]\n\nRecomputes every number of a carbon report and verifies every proof bundle against the\nchain. Exit 0 if all hold; else exit 1 with one line per failing check (FAIL (NOT CHECKED):\nthe chain could not be read).\n\nflags:")
		fs.PrintDefaults()
	}
	rpc := fs.String("rpc", env("SUNPROOF_ETH_RPC", "http://127.0.0.1:8545"), "chain JSON-RPC URL (env SUNPROOF_ETH_RPC)")
	factors := fs.String("factors", "", "YAML file adding or overriding emission factors")
	contract := fs.String("contract", "", "the anchoring contract you trust; without it each bundle's own contract address is used")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		os.Exit(2)
	}
	if *contract != "" && !ethcommon.IsHexAddress(*contract) {
		return fmt.Errorf("--contract %q is not an address", *contract)
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	r, err := carbon.DecodeReport(f)
	f.Close()
	if err != nil {
		fmt.Printf("FAIL decode: %v\n", err)
		return errVerifyFailed
	}
	table, err := loadTable(*factors)
	if err != nil {
		return err
	}
	ctx, stop := service.SignalContext()
	defer stop()
	v, done, err := carbon.DialAnchorVerifier(ctx, *rpc)
	if err != nil {
		return err
	}
	defer done()
	v.Contract = *contract
	if !verifyReport(ctx, r, table, v, os.Stdout) {
		return errVerifyFailed
	}
	return nil
}
