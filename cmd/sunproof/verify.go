package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	ethcommon "github.com/ethereum/go-ethereum/common"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/internal/service"
)

func runVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof verify BUNDLE --rpc URL [--contract ADDR]\n\n"+
			"Checks a proof bundle (a file, or - for stdin) against the chain: signature → leaf → window root →\n"+
			"batch root → on-chain anchor → device key registration, using nothing but the bundle and the\n"+
			"chain. Prints one line; exits 0 if the bundle verifies, 1 with the first failing step if not.\n\nflags:")
		fs.PrintDefaults()
	}
	rpc := fs.String("rpc", env("SUNPROOF_ETH_RPC", "http://127.0.0.1:8545"), "chain JSON-RPC URL (env SUNPROOF_ETH_RPC)")
	contract := fs.String("contract", "", "the anchoring contract you trust; without it the bundle's own contract address is used")
	timeout := fs.Duration("timeout", 30*time.Second, "overall time limit")
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
	ctx, stop := service.SignalContext()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	line, ok := verifyCommand(ctx, pos[0], *rpc, *contract)
	fmt.Println(line)
	if !ok {
		cancel()
		stop()
		os.Exit(1)
	}
	return nil
}

// verifyCommand reads the bundle at path and verifies it against the chain
// at rpc; it returns the line to print and whether the bundle verified.
func verifyCommand(ctx context.Context, path, rpc, contract string) (string, bool) {
	data, err := readBundleFile(path)
	if err != nil {
		return "FAIL decode: " + err.Error(), false
	}
	cfg := anchor.DefaultEthReaderConfig()
	cfg.RPCURL = rpc
	r, err := anchor.DialEthReader(ctx, cfg)
	if err != nil {
		return "FAIL " + string(anchor.StepDeviceKey) + ": " + err.Error(), false
	}
	defer r.Close()
	return verifyBundle(ctx, data, r, contract)
}

func readBundleFile(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 16<<20))
	}
	return os.ReadFile(path)
}

// chainReader is a ChainReader that knows its chain id (EthReader).
type chainReader interface {
	anchor.ChainReader
	ChainID(ctx context.Context) (uint64, error)
}

// verifyBundle verifies the JSON bundle data against chain; with contract
// set, only that contract is trusted (a bundle naming another one fails at
// the first lookup, device_key).
func verifyBundle(ctx context.Context, data []byte, chain chainReader, contract string) (string, bool) {
	var b anchor.Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return "FAIL " + string(anchor.StepDecode) + ": " + err.Error(), false
	}
	if contract != "" {
		chain = pinnedChain{chain, strings.ToLower(contract)}
	}
	res, err := anchor.Verify(ctx, &b, chain)
	if err != nil {
		step := anchor.StepOf(err)
		if step == "" {
			step = anchor.StepDecode
		}
		msg := err.Error()
		if se, ok := err.(*anchor.StepError); ok {
			msg = se.Err.Error()
		}
		return "FAIL " + string(step) + ": " + oneLine(msg), false
	}
	kind := "on-time"
	if res.Late {
		kind = "late (original window " + res.OriginalID + ")"
	}
	trust := ""
	if contract == "" {
		trust = " (the bundle's contract: pass --contract to pin it)"
	}
	return fmt.Sprintf("OK %s/%d at %s: leaf %d of %d in %s window %s, window %d of %d in the batch anchored on chain %d by contract %s%s for [%s, %s) in block %d, tx %s",
		res.DeviceID, res.Seq, time.UnixMilli(res.TimeMS).UTC().Format(time.RFC3339Nano),
		res.LeafIndex, res.WindowSize, kind, res.WindowID, res.BatchIndex, res.BatchSize,
		b.Anchor.ChainID, b.Anchor.Contract, trust,
		time.UnixMilli(b.Anchor.IntervalStartMS).UTC().Format(time.RFC3339), time.UnixMilli(b.Anchor.IntervalEndMS).UTC().Format(time.RFC3339),
		b.Anchor.BlockNumber, b.Anchor.TxHash), true
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// pinnedChain answers only for the trusted contract.
type pinnedChain struct {
	chainReader
	contract string // lowercase
}

func (p pinnedChain) check(contract string) error {
	if strings.ToLower(contract) != p.contract {
		return fmt.Errorf("the bundle names contract %s, the trusted contract is %s: %w", contract, p.contract, anchor.ErrNotFound)
	}
	return nil
}

func (p pinnedChain) Anchor(ctx context.Context, contract string, start int64) (anchor.AnchorRecord, error) {
	if err := p.check(contract); err != nil {
		return anchor.AnchorRecord{}, err
	}
	return p.chainReader.Anchor(ctx, contract, start)
}

func (p pinnedChain) DeviceKeys(ctx context.Context, contract, deviceID string) ([]anchor.DeviceKeyRecord, error) {
	if err := p.check(contract); err != nil {
		return nil, err
	}
	return p.chainReader.DeviceKeys(ctx, contract, deviceID)
}
