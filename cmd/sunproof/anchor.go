package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	ethcommon "github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/collector"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/service"
)

// Default locations under the local stack's directory (SUNPROOF_STACK_DIR,
// .stack): the proof store and the anchoring contract's deployment, the
// submitting key's keystore and password, and its nonce file.
func stackDir() string { return env("SUNPROOF_STACK_DIR", ".stack") }

func defaultStoreDir() string {
	return env("SUNPROOF_PROOF_STORE", filepath.Join(stackDir(), "proofs"))
}

func defaultDeployment() string {
	return env("SUNPROOF_ANCHOR_DEPLOYMENT", filepath.Join(stackDir(), "anchor", "deployment.json"))
}

func anchorKeyDir() string { return filepath.Join(stackDir(), "anchor", "keystore") }

func defaultPasswordFile() string {
	return env(anchor.EnvPasswordFile, filepath.Join(stackDir(), "anchor", "password"))
}

// defaultKeystore is SUNPROOF_KEYSTORE_FILE, or the only keystore file that
// `sunproof anchor deploy` imported.
func defaultKeystore() string {
	if v := os.Getenv(anchor.EnvKeystoreFile); v != "" {
		return v
	}
	m, _ := filepath.Glob(filepath.Join(anchorKeyDir(), "sunproof-*.json"))
	if len(m) == 1 {
		return m[0]
	}
	return ""
}

// chainFlags locate the chain, the contract and the signing key.
type chainFlags struct {
	rpc, deployment, contract, keystore, password, nonceFile string
	confirmations                                            int
	gasMode                                                  string
}

func (c *chainFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.rpc, "rpc", env("SUNPROOF_ETH_RPC", "http://127.0.0.1:8545"), "chain JSON-RPC URL (env SUNPROOF_ETH_RPC)")
	fs.StringVar(&c.deployment, "deployment", defaultDeployment(), "deployment file written by 'sunproof anchor deploy' (env SUNPROOF_ANCHOR_DEPLOYMENT)")
	fs.StringVar(&c.contract, "contract", "", "anchoring contract address (default: from -deployment)")
	fs.StringVar(&c.keystore, "keystore", defaultKeystore(), "keystore file of the submitting key (env "+anchor.EnvKeystoreFile+")")
	fs.StringVar(&c.password, "password-file", defaultPasswordFile(), "file holding the keystore's password (env "+anchor.EnvPasswordFile+")")
	fs.StringVar(&c.nonceFile, "nonce-file", filepath.Join(stackDir(), "anchor", "nonce.json"), "where the key's next nonce survives restarts; empty for none")
	fs.IntVar(&c.confirmations, "confirmations", 1, "blocks (the transaction's included) before an anchor counts as confirmed")
	fs.StringVar(&c.gasMode, "gas-mode", anchor.GasModeEIP1559, "fee mode: "+anchor.GasModeEIP1559+" or "+anchor.GasModeLegacy+" (chains without a fee market)")
}

// contractAddr returns -contract, or the deployment file's contract.
func (c *chainFlags) contractAddr() (ethcommon.Address, error) {
	if c.contract != "" {
		if !ethcommon.IsHexAddress(c.contract) {
			return ethcommon.Address{}, fmt.Errorf("-contract %q is not an address", c.contract)
		}
		return ethcommon.HexToAddress(c.contract), nil
	}
	d, err := anchor.ReadDeployment(c.deployment)
	if err != nil {
		return ethcommon.Address{}, fmt.Errorf("%w (deploy with `sunproof anchor deploy`, or pass -contract)", err)
	}
	return d.Contract, nil
}

func (c *chainFlags) submitterConfig() (anchor.SubmitterConfig, error) {
	sc := anchor.DefaultSubmitterConfig()
	sc.RPCURL, sc.KeystoreFile, sc.PasswordFile, sc.NonceFile = c.rpc, c.keystore, c.password, c.nonceFile
	sc.Confirmations, sc.GasMode = c.confirmations, c.gasMode
	var err error
	if sc.Contract, err = c.contractAddr(); err != nil {
		return sc, err
	}
	return sc, sc.Validate()
}

func runAnchor(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "deploy":
			return anchorDeploy(args[1:])
		case "register":
			return anchorRegister(args[1:])
		}
	}
	fs := flag.NewFlagSet("anchor", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof anchor [flags]          run the batcher: pv.readings → windows → one anchor per interval\n"+
			"       sunproof anchor deploy [flags]   deploy the anchoring contract (dev chain) and register the devices' keys\n"+
			"       sunproof anchor register [flags] register the registry's devices' keys in the contract\n\nflags:")
		fs.PrintDefaults()
	}
	brokers := fs.String("kafka", env("SUNPROOF_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka bootstrap brokers, comma-separated (env SUNPROOF_KAFKA_BROKERS)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9473", "serve /metrics here; empty to disable")
	logFormat := fs.String("log-format", "text", "text or json")
	var cf chainFlags
	cf.register(fs)
	cfg := anchor.DefaultBatcherConfig()
	fs.StringVar(&cfg.Topic, "readings-topic", cfg.Topic, "Kafka topic of valid readings")
	fs.StringVar(&cfg.Group, "group", cfg.Group, "Kafka consumer group (the batcher must be its only member)")
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory (env SUNPROOF_PROOF_STORE)")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "anchoring interval: one transaction per interval")
	fs.DurationVar(&cfg.Span, "span", cfg.Span, "window span (event time)")
	fs.DurationVar(&cfg.Lateness, "lateness", cfg.Lateness, "allowed lateness before a window is sealed")
	fs.StringVar(&cfg.FailAt, "fail-at", env("SUNPROOF_ANCHOR_FAIL_AT", ""), "TESTING ONLY: exit with status 3 at this failpoint (after-prepare, during-submit, after-submit, after-mark, after-commit[:N])")
	_ = fs.Parse(args)
	cfg.Brokers = splitList(*brokers)
	if err := cfg.Validate(); err != nil {
		return err
	}
	sc, err := cf.submitterConfig()
	if err != nil {
		return err
	}
	log := service.Logger(*logFormat)
	reg := service.NewRegistry()
	ctx, stop := service.SignalContext()
	defer stop()
	sub, err := anchor.NewSubmitter(ctx, sc, log, reg)
	if err != nil {
		return err
	}
	defer sub.Close()
	store, err := anchor.OpenStore(*storeDir, anchor.StoreOptions{Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := kafkatopic.Ensure(ctx, cfg.Brokers, kafkatopic.Spec{Name: cfg.Topic, Partitions: collector.DefaultConfig().Partitions}); err != nil {
		return err
	}
	b, err := anchor.NewBatcher(cfg, store, sub, log, reg)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return service.ServeMetrics(ctx, *metricsAddr, reg, log) })
	g.Go(func() error {
		log.Info("anchor batcher starting", "store", *storeDir, "contract", sc.Contract.Hex(), "submitter", sub.Address().Hex(),
			"chain_id", sub.ChainID(), "interval", cfg.Interval, "span", cfg.Span)
		err := b.Run(ctx)
		stop() // the batcher ends the service
		return err
	})
	return g.Wait()
}

// anchorDeploy deploys the contract with the geth dev key (or -keystore),
// writes the deployment file and registers the registry's devices.
func anchorDeploy(args []string) error {
	fs := flag.NewFlagSet("anchor deploy", flag.ExitOnError)
	var cf chainFlags
	cf.register(fs)
	var rf registryFlags
	rf.register(fs)
	devKey := fs.Bool("dev", true, "sign with the geth dev key (imported into "+anchorKeyDir()+"); only on the dev chain (id 1337)")
	force := fs.Bool("force", false, "deploy a new contract even if -deployment exists")
	noRegister := fs.Bool("no-register", false, "do not register the registry's devices")
	_ = fs.Parse(args)
	log := service.Logger("text")
	ctx, stop := service.SignalContext()
	defer stop()

	if _, err := os.Stat(cf.deployment); err == nil && !*force {
		d, err := anchor.ReadDeployment(cf.deployment)
		if err != nil {
			return err
		}
		return fmt.Errorf("already deployed at %s on chain %d (%s); use -force for a new contract", d.Contract.Hex(), d.ChainID, cf.deployment)
	}
	client, err := ethclient.DialContext(ctx, cf.rpc)
	if err != nil {
		return fmt.Errorf("dial %s: %w", cf.rpc, err)
	}
	defer client.Close()
	id, err := client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("eth_chainId: %w", err)
	}
	if *devKey {
		if id.Uint64() != 1337 {
			return fmt.Errorf("chain %d is not the dev chain (1337): the geth dev key is public; pass -dev=false -keystore …", id)
		}
		if cf.keystore, err = importDevKey(cf.password); err != nil {
			return err
		}
	}
	if cf.keystore == "" {
		return errors.New("no keystore: pass -keystore or set " + anchor.EnvKeystoreFile)
	}
	key, err := anchor.LoadKey(cf.keystore, cf.password)
	if err != nil {
		return err
	}
	dep, err := anchor.DeployDev(ctx, client, key, log)
	if err != nil {
		return err
	}
	if err := anchor.WriteDeployment(cf.deployment, dep); err != nil {
		return err
	}
	fmt.Printf("deployed %s on chain %d in block %d (tx %s, %d gas); written to %s\nkeystore: %s\n",
		dep.Contract.Hex(), dep.ChainID, dep.BlockNumber, dep.TxHash.Hex(), dep.GasUsed, cf.deployment, cf.keystore)
	if *noRegister {
		return nil
	}
	cf.contract = dep.Contract.Hex()
	return registerDevices(ctx, &cf, &rf, log)
}

// importDevKey imports the geth dev key into the stack's keystore
// directory, creating a random password file if there is none.
func importDevKey(passwordFile string) (string, error) {
	if _, err := os.Stat(passwordFile); errors.Is(err, fs.ErrNotExist) {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(passwordFile), 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(passwordFile, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	pw, err := anchor.ReadPassword(passwordFile)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(anchorKeyDir(), 0o700); err != nil {
		return "", err
	}
	return anchor.ImportDevKey(anchor.GethDevKey, pw, anchorKeyDir())
}

func anchorRegister(args []string) error {
	fs := flag.NewFlagSet("anchor register", flag.ExitOnError)
	var cf chainFlags
	cf.register(fs)
	var rf registryFlags
	rf.register(fs)
	_ = fs.Parse(args)
	ctx, stop := service.SignalContext()
	defer stop()
	return registerDevices(ctx, &cf, &rf, service.Logger("text"))
}

// registerDevices registers the key of every active device of the registry
// in the contract (idempotently); a device whose registry key differs from
// its valid key on chain gets its key rotated. Disabled devices are left
// alone: revoking a key is a decision for `sunproof devices disable`'s
// operator, not a side effect.
func registerDevices(ctx context.Context, cf *chainFlags, rf *registryFlags, log *slog.Logger) error {
	sc, err := cf.submitterConfig()
	if err != nil {
		return err
	}
	r, err := anchor.NewRegistrar(ctx, sc, log)
	if err != nil {
		return err
	}
	defer r.Close()
	regy, done, err := rf.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	var n, skipped int
	for _, d := range regy.Devices() {
		if d.Status != devices.StatusActive {
			skipped++
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		ref, err := r.RegisterDevice(rctx, d.ID, d.PublicKey)
		if errors.Is(err, anchor.ErrConflictingDeviceKey) {
			log.Warn("device key differs from the one on chain; rotating", "device_id", d.ID)
			ref, err = r.RotateDeviceKey(rctx, d.ID, d.PublicKey)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("register %s: %w", d.ID, err)
		}
		n++
		log.Info("device key on chain", "device_id", d.ID, "tx_hash", ref.TxHash.Hex(), "block", ref.BlockNumber, "existing", ref.Existing)
	}
	fmt.Printf("%d device keys registered in %s (%d disabled devices skipped)\n", n, sc.Contract.Hex(), skipped)
	return nil
}
