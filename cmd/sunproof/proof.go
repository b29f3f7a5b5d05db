package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/internal/service"
)

// keyFlags choose where ProofFor takes device public keys from: the
// registry (Kafka) or the anchoring contract (the keys a verifier trusts).
type keyFlags struct {
	source string
	reg    registryFlags
	chain  chainFlags
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.source, "keys", "registry", "where device public keys come from: registry (Kafka) or chain (the anchoring contract)")
	k.reg.register(fs)
	fs.StringVar(&k.chain.rpc, "rpc", env("SUNPROOF_ETH_RPC", "http://127.0.0.1:8545"), "chain JSON-RPC URL, for -keys chain (env SUNPROOF_ETH_RPC)")
	fs.StringVar(&k.chain.deployment, "deployment", defaultDeployment(), "deployment file, for -keys chain")
	fs.StringVar(&k.chain.contract, "contract", "", "anchoring contract, for -keys chain (default: from -deployment)")
}

// open returns the key source and a function releasing it.
func (k *keyFlags) open(ctx context.Context) (anchor.KeySource, func(), error) {
	switch k.source {
	case "registry":
		reg, done, err := k.reg.snapshot(ctx)
		if err != nil {
			return nil, nil, err
		}
		return anchor.KeySourceFunc(func(_ context.Context, id string) ([]ed25519.PublicKey, error) {
			d, err := reg.Device(id)
			if err != nil {
				return nil, err
			}
			return []ed25519.PublicKey{d.PublicKey}, nil
		}), done, nil
	case "chain":
		addr, err := k.chain.contractAddr()
		if err != nil {
			return nil, nil, err
		}
		cfg := anchor.DefaultEthReaderConfig()
		cfg.RPCURL = k.chain.rpc
		r, err := anchor.DialEthReader(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return anchor.ChainKeys(r, strings.ToLower(addr.Hex())), r.Close, nil
	}
	return nil, nil, fmt.Errorf("-keys %q: want registry or chain", k.source)
}

// parseInterspersed parses flags wherever they appear among the positional
// arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runProof(args []string) error {
	fs := flag.NewFlagSet("proof", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof proof [flags] DEVICE SEQ\n\nPrints the proof bundle (docs/formats/proof.md) of an anchored reading.\n\nflags:")
		fs.PrintDefaults()
	}
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory (env SUNPROOF_PROOF_STORE)")
	var kf keyFlags
	kf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		os.Exit(2)
	}
	seq, err := strconv.ParseUint(pos[1], 10, 64)
	if err != nil {
		return fmt.Errorf("seq %q: want an unsigned integer", pos[1])
	}
	ctx, stop := service.SignalContext()
	defer stop()
	keys, done, err := kf.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	store, err := anchor.OpenStore(*storeDir, anchor.StoreOptions{ReadOnly: true, Keys: keys, Logger: service.Logger("text")})
	if err != nil {
		return err
	}
	b, err := store.ProofFor(ctx, pos[0], seq)
	if errors.Is(err, anchor.ErrNoProof) {
		return fmt.Errorf("%s/%d is not anchored (yet): %w", pos[0], seq, err)
	}
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", out)
	return err
}
