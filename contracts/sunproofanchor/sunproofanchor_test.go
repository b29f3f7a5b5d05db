package sunproofanchor_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

// account is a funded externally owned account of the simulated chain.
type account struct {
	name string
	key  *ecdsa.PrivateKey
	addr common.Address
}

func newAccount(tb testing.TB, name string) *account {
	tb.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return &account{name: name, key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// realisticGas turns off the "Bogota" and "Amsterdam" forks that geth 1.17's
// dev chain config (params.AllDevChainProtocolChanges) enables. They reprice
// state creation several-fold; the consortium chains we target (Besu, GoQuorum,
// FISCO BCOS) run Prague-or-older rules, which the remaining config matches.
func realisticGas(_ *node.Config, ethConf *ethconfig.Config) {
	cfg := *ethConf.Genesis.Config // copy: the default points at a package variable
	cfg.BogotaTime = nil
	cfg.AmsterdamTime = nil
	ethConf.Genesis.Config = &cfg
}

// env is a simulated chain with the contract deployed by admin1 (threshold 2
// of admin1..3), submitter and registrar holding their roles, and outsider
// holding none.
type env struct {
	sim      *simulated.Backend
	client   simulated.Client
	chainID  *big.Int
	contract *sunproofanchor.SunproofAnchor
	inst     *bind.BoundContract
	addr     common.Address

	admin1, admin2, admin3, submitter, registrar, outsider *account
}

type envConfig struct {
	realisticGas bool
	threshold    uint32
}

func newEnv(tb testing.TB, cfg envConfig) *env {
	tb.Helper()
	e := &env{
		admin1:    newAccount(tb, "admin1"),
		admin2:    newAccount(tb, "admin2"),
		admin3:    newAccount(tb, "admin3"),
		submitter: newAccount(tb, "submitter"),
		registrar: newAccount(tb, "registrar"),
		outsider:  newAccount(tb, "outsider"),
		contract:  sunproofanchor.NewSunproofAnchor(),
	}
	alloc := types.GenesisAlloc{}
	balance := new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
	for _, a := range e.accounts() {
		alloc[a.addr] = types.Account{Balance: balance}
	}
	var opts []func(*node.Config, *ethconfig.Config)
	if cfg.realisticGas {
		opts = append(opts, realisticGas)
	}
	e.sim = simulated.NewBackend(alloc, opts...)
	tb.Cleanup(func() { _ = e.sim.Close() })
	e.client = e.sim.Client()
	var err error
	if e.chainID, err = e.client.ChainID(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if cfg.threshold == 0 {
		cfg.threshold = 2
	}
	addr, tx, err := sunproofanchor.Deploy(e.opts(e.admin1), e.client,
		[]common.Address{e.admin1.addr, e.admin2.addr, e.admin3.addr}, cfg.threshold,
		[]common.Address{e.submitter.addr}, []common.Address{e.registrar.addr})
	if err != nil {
		tb.Fatalf("deploy: %v", err)
	}
	e.sim.Commit()
	if _, err := bind.WaitDeployed(context.Background(), e.client, tx.Hash()); err != nil {
		tb.Fatalf("wait deployed: %v", err)
	}
	e.addr = addr
	e.inst = e.contract.Instance(e.client, addr)
	return e
}

func (e *env) accounts() []*account {
	return []*account{e.admin1, e.admin2, e.admin3, e.submitter, e.registrar, e.outsider}
}

func (e *env) opts(from *account) *bind.TransactOpts {
	return bind.NewKeyedTransactor(from.key, e.chainID)
}

// send signs and sends calldata from an account, mines a block and returns the
// receipt. Without a fixed gas limit bind estimates gas first, so a call that
// would revert returns the revert (decodable with DecodeRevert) and sends nothing.
func (e *env) send(from *account, data []byte) (*types.Receipt, error) {
	tx, err := bind.Transact(e.inst, e.opts(from), data)
	if err != nil {
		return nil, err
	}
	e.sim.Commit()
	receipt, err := e.client.TransactionReceipt(context.Background(), tx.Hash())
	if err != nil {
		return nil, err
	}
	if receipt.Status != types.ReceiptStatusSuccessful {
		return receipt, fmt.Errorf("tx %s failed", tx.Hash())
	}
	return receipt, nil
}

func (e *env) mustSend(tb testing.TB, from *account, data []byte) *types.Receipt {
	tb.Helper()
	r, err := e.send(from, data)
	if err != nil {
		tb.Fatalf("send from %s: %v (revert: %s)", from.name, err, e.describeRevert(err))
	}
	return r
}

func (e *env) describeRevert(err error) string {
	if v, ok := e.contract.DecodeRevert(err); ok {
		return fmt.Sprintf("%T %+v", v, v)
	}
	return "none"
}

// wantRevert checks that err carries exactly the custom error want.
func (e *env) wantRevert(tb testing.TB, err error, want any) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want revert %T %+v", want, want)
	}
	got, ok := e.contract.DecodeRevert(err)
	if !ok {
		tb.Fatalf("error %v carries no contract error, want %T %+v", err, want, want)
	}
	if g, w := fmt.Sprintf("%T %+v", got, got), fmt.Sprintf("%T %+v", want, want); g != w {
		tb.Fatalf("revert = %s, want %s", g, w)
	}
}

func call[T any](tb testing.TB, e *env, data []byte, unpack func([]byte) (T, error)) T {
	tb.Helper()
	v, err := bind.Call(e.inst, &bind.CallOpts{}, data, unpack)
	if err != nil {
		tb.Fatalf("call: %v (revert: %s)", err, e.describeRevert(err))
	}
	return v
}

// events returns the logs of r that unpack as T.
func events[T any](tb testing.TB, r *types.Receipt, unpack func(*types.Log) (*T, error)) []*T {
	tb.Helper()
	var out []*T
	for _, l := range r.Logs {
		ev, err := unpack(l)
		if errors.Is(err, bind.ErrEventSignatureMismatch) {
			continue
		}
		if err != nil {
			tb.Fatalf("unpack log: %v", err)
		}
		out = append(out, ev)
	}
	return out
}

// show formats events for test failures (%+v of each event, not its address).
func show[T any](evs []*T) string {
	parts := make([]string, len(evs))
	for i, ev := range evs {
		parts[i] = fmt.Sprintf("%+v", *ev)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func root(b byte) [32]byte {
	var r [32]byte
	for i := range r {
		r[i] = b ^ byte(i) | 0x80 // no zero bytes: calldata cost does not vary
	}
	return r
}

func key(b byte) [32]byte {
	var k [32]byte
	k[0], k[31] = b, 0xed
	return k
}

func TestDeployState(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	if got, want := call(t, e, c.PackThreshold(), c.UnpackThreshold), uint32(2); got != want {
		t.Errorf("threshold = %d, want %d", got, want)
	}
	if got, want := call(t, e, c.PackAdminCount(), c.UnpackAdminCount), uint32(3); got != want {
		t.Errorf("adminCount = %d, want %d", got, want)
	}
	if got, want := call(t, e, c.PackAdminEpoch(), c.UnpackAdminEpoch), uint64(1); got != want {
		t.Errorf("adminEpoch = %d, want %d", got, want)
	}
	if got := call(t, e, c.PackAnchorCount(), c.UnpackAnchorCount); got != 0 {
		t.Errorf("anchorCount = %d, want 0", got)
	}
	for _, tc := range []struct {
		acct                        *account
		admin, submitter, registrar bool
	}{
		{e.admin1, true, false, false},
		{e.admin3, true, false, false},
		{e.submitter, false, true, false},
		{e.registrar, false, false, true},
		{e.outsider, false, false, false},
	} {
		got := [3]bool{
			call(t, e, c.PackIsAdmin(tc.acct.addr), c.UnpackIsAdmin),
			call(t, e, c.PackIsSubmitter(tc.acct.addr), c.UnpackIsSubmitter),
			call(t, e, c.PackIsRegistrar(tc.acct.addr), c.UnpackIsRegistrar),
		}
		if want := [3]bool{tc.admin, tc.submitter, tc.registrar}; got != want {
			t.Errorf("%s: [admin submitter registrar] = %v, want %v", tc.acct.name, got, want)
		}
	}
}

func TestConstructorRejects(t *testing.T) {
	e := newEnv(t, envConfig{})
	a, b := e.admin1.addr, e.admin2.addr
	for _, tc := range []struct {
		desc       string
		admins     []common.Address
		threshold  uint32
		submitters []common.Address
		want       any
	}{
		{"zero threshold", []common.Address{a, b}, 0, nil,
			&sunproofanchor.SunproofAnchorInvalidThreshold{Threshold: big.NewInt(0), AdminCount: big.NewInt(2)}},
		{"threshold above admins", []common.Address{a, b}, 3, nil,
			&sunproofanchor.SunproofAnchorInvalidThreshold{Threshold: big.NewInt(3), AdminCount: big.NewInt(2)}},
		{"no admins", nil, 1, nil,
			&sunproofanchor.SunproofAnchorInvalidThreshold{Threshold: big.NewInt(1), AdminCount: big.NewInt(0)}},
		{"duplicate admin", []common.Address{a, a}, 1, nil,
			&sunproofanchor.SunproofAnchorRoleAlreadyGranted{Role: sunproofanchor.RoleAdmin, Account: a}},
		{"zero admin", []common.Address{a, {}}, 1, nil, &sunproofanchor.SunproofAnchorZeroAddress{}},
		{"zero submitter", []common.Address{a}, 1, []common.Address{{}}, &sunproofanchor.SunproofAnchorZeroAddress{}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, _, err := sunproofanchor.Deploy(e.opts(e.admin1), e.client, tc.admins, tc.threshold, tc.submitters, nil)
			e.wantRevert(t, err, tc.want)
		})
	}
}

func TestAnchor(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	const start, end = uint64(1_767_225_600), uint64(1_767_229_200) // one hour, Unix seconds
	r := e.mustSend(t, e.submitter, c.PackAnchor(start, end, root(1), 96, 1))

	header, err := e.client.HeaderByNumber(context.Background(), r.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, e, c.PackGetAnchor(start), c.UnpackGetAnchor)
	want := sunproofanchor.GetAnchorOutput{
		BatchRoot:   root(1),
		IntervalEnd: end,
		BatchSize:   96,
		Scheme:      1,
		Submitter:   e.submitter.addr,
		BlockNumber: r.BlockNumber.Uint64(),
		Timestamp:   header.Time,
	}
	if got != want {
		t.Errorf("getAnchor = %+v, want %+v", got, want)
	}
	if !call(t, e, c.PackIsAnchored(start), c.UnpackIsAnchored) {
		t.Error("isAnchored(start) = false, want true")
	}
	if call(t, e, c.PackIsAnchored(end), c.UnpackIsAnchored) {
		t.Error("isAnchored(end) = true, want false")
	}
	if got := call(t, e, c.PackGetAnchor(end), c.UnpackGetAnchor); got != (sunproofanchor.GetAnchorOutput{}) {
		t.Errorf("getAnchor(unanchored) = %+v, want zero", got)
	}
	if got, want := call(t, e, c.PackAnchorCount(), c.UnpackAnchorCount), uint64(1); got != want {
		t.Errorf("anchorCount = %d, want %d", got, want)
	}

	// The event, from the receipt.
	evs := events(t, r, c.UnpackAnchoredEvent)
	if len(evs) != 1 {
		t.Fatalf("got %d Anchored events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.IntervalStart != start || ev.IntervalEnd != end || ev.BatchRoot != root(1) ||
		ev.BatchSize != 96 || ev.Scheme != 1 || ev.Submitter != e.submitter.addr {
		t.Errorf("Anchored = %+v", ev)
	}

	// The event, from a log filter on the indexed interval start.
	e.mustSend(t, e.submitter, c.PackAnchor(end, end+3600, root(2), 7, 1))
	it, err := bind.FilterEvents(e.inst, &bind.FilterOpts{}, c.UnpackAnchoredEvent, []any{end})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var roots [][32]byte
	for it.Next() {
		roots = append(roots, it.Value().BatchRoot)
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || roots[0] != root(2) {
		t.Errorf("filtered Anchored roots = %x, want [%x]", roots, root(2))
	}
}

func TestAnchorRejects(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	const start, end = uint64(3600), uint64(7200)
	e.mustSend(t, e.submitter, c.PackAnchor(start, end, root(1), 10, 1))

	for _, tc := range []struct {
		desc string
		from *account
		data []byte
		want any
	}{
		{"duplicate interval, other root", e.submitter, c.PackAnchor(start, end, root(2), 10, 1),
			&sunproofanchor.SunproofAnchorIntervalAlreadyAnchored{IntervalStart: start, ExistingRoot: root(1)}},
		{"duplicate interval, same root (a retry)", e.submitter, c.PackAnchor(start, end+1, root(1), 10, 1),
			&sunproofanchor.SunproofAnchorIntervalAlreadyAnchored{IntervalStart: start, ExistingRoot: root(1)}},
		{"empty interval", e.submitter, c.PackAnchor(end, end, root(3), 1, 1),
			&sunproofanchor.SunproofAnchorInvalidInterval{IntervalStart: end, IntervalEnd: end}},
		{"end before start", e.submitter, c.PackAnchor(end, start, root(3), 1, 1),
			&sunproofanchor.SunproofAnchorInvalidInterval{IntervalStart: end, IntervalEnd: start}},
		{"zero batch size", e.submitter, c.PackAnchor(end, end+3600, root(3), 0, 1),
			&sunproofanchor.SunproofAnchorZeroBatchSize{}},
		{"zero root", e.submitter, c.PackAnchor(end, end+3600, [32]byte{}, 1, 1),
			&sunproofanchor.SunproofAnchorZeroRoot{}},
		{"outsider", e.outsider, c.PackAnchor(end, end+3600, root(3), 1, 1),
			&sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleSubmitter, Caller: e.outsider.addr}},
		{"admin is not a submitter", e.admin1, c.PackAnchor(end, end+3600, root(3), 1, 1),
			&sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleSubmitter, Caller: e.admin1.addr}},
		{"registrar is not a submitter", e.registrar, c.PackAnchor(end, end+3600, root(3), 1, 1),
			&sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleSubmitter, Caller: e.registrar.addr}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := e.send(tc.from, tc.data)
			e.wantRevert(t, err, tc.want)
		})
	}
	if got, want := call(t, e, c.PackAnchorCount(), c.UnpackAnchorCount), uint64(1); got != want {
		t.Errorf("anchorCount = %d, want %d", got, want)
	}
	if got := call(t, e, c.PackGetAnchor(start), c.UnpackGetAnchor); got.BatchRoot != root(1) {
		t.Errorf("root after rejected duplicate = %x, want %x", got.BatchRoot, root(1))
	}
}

// A transaction sent with a fixed gas limit skips estimation: if it reverts it
// is mined with status 0 and its receipt carries no reason. Replaying it as an
// eth_call at the parent block recovers the custom error.
func TestRevertedTxReplay(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	e.mustSend(t, e.submitter, c.PackAnchor(100, 200, root(1), 1, 1))

	opts := e.opts(e.submitter)
	opts.GasLimit = 200_000
	data := c.PackAnchor(100, 200, root(2), 1, 1)
	tx, err := bind.Transact(e.inst, opts, data)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Commit()
	r, err := e.client.TransactionReceipt(context.Background(), tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != types.ReceiptStatusFailed {
		t.Fatalf("status = %d, want failed", r.Status)
	}
	parent := new(big.Int).Sub(r.BlockNumber, big.NewInt(1))
	_, err = bind.Call(e.inst, &bind.CallOpts{From: e.submitter.addr, BlockNumber: parent}, data, func([]byte) (any, error) { return nil, nil })
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorIntervalAlreadyAnchored{IntervalStart: 100, ExistingRoot: root(1)})
}

func TestAdminTwoOfThree(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	newSubmitter := e.outsider

	// admin1 proposes; its own approval is the first of two.
	r := e.mustSend(t, e.admin1, c.PackPropose(sunproofanchor.ActionAddSubmitter, newSubmitter.addr, 0))
	created := events(t, r, c.UnpackProposalCreatedEvent)
	if len(created) != 1 {
		t.Fatalf("got %d ProposalCreated events, want 1", len(created))
	}
	id := created[0].Id
	if got := created[0]; got.Action != sunproofanchor.ActionAddSubmitter || got.Target != newSubmitter.addr || got.Proposer != e.admin1.addr {
		t.Errorf("ProposalCreated = %+v", got)
	}
	if n := len(events(t, r, c.UnpackProposalExecutedEvent)); n != 0 {
		t.Errorf("one approval executed the proposal (%d ProposalExecuted events)", n)
	}
	if call(t, e, c.PackIsSubmitter(newSubmitter.addr), c.UnpackIsSubmitter) {
		t.Fatal("submitter added after one approval of two")
	}
	p := call(t, e, c.PackGetProposal(id), c.UnpackGetProposal)
	if p.Approvals != 1 || p.Executed || p.Proposer != e.admin1.addr || p.Epoch != 1 {
		t.Errorf("getProposal = %+v, want 1 approval by admin1, not executed, epoch 1", p)
	}

	// Approvals that must not count.
	_, err := e.send(e.admin1, c.PackApprove(id))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorAlreadyApproved{Id: id, Admin: e.admin1.addr})
	_, err = e.send(e.outsider, c.PackApprove(id))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleAdmin, Caller: e.outsider.addr})
	_, err = e.send(e.submitter, c.PackApprove(id))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleAdmin, Caller: e.submitter.addr})

	// The second admin's approval executes it.
	r = e.mustSend(t, e.admin2, c.PackApprove(id))
	if approved := events(t, r, c.UnpackProposalApprovedEvent); len(approved) != 1 || approved[0].Approvals != 2 || approved[0].Admin != e.admin2.addr {
		t.Errorf("ProposalApproved events = %s", show(approved))
	}
	if n := len(events(t, r, c.UnpackProposalExecutedEvent)); n != 1 {
		t.Errorf("got %d ProposalExecuted events, want 1", n)
	}
	granted := events(t, r, c.UnpackRoleGrantedEvent)
	if len(granted) != 1 || granted[0].Role != sunproofanchor.RoleSubmitter || granted[0].Account != newSubmitter.addr {
		t.Errorf("RoleGranted events = %s", show(granted))
	}
	if !call(t, e, c.PackIsSubmitter(newSubmitter.addr), c.UnpackIsSubmitter) {
		t.Fatal("submitter not added after two approvals")
	}
	e.mustSend(t, newSubmitter, c.PackAnchor(1, 2, root(1), 1, 1))

	_, err = e.send(e.admin3, c.PackApprove(id))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorProposalAlreadyExecuted{Id: id})
	_, err = e.send(e.admin3, c.PackApprove(big.NewInt(99)))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorUnknownProposal{Id: big.NewInt(99)})
}

// propose executes a proposal with the given approvers (the first proposes)
// and returns its id.
func (e *env) propose(tb testing.TB, action uint8, target common.Address, value uint32, approvers ...*account) *big.Int {
	tb.Helper()
	c := e.contract
	r := e.mustSend(tb, approvers[0], c.PackPropose(action, target, value))
	id := events(tb, r, c.UnpackProposalCreatedEvent)[0].Id
	for _, a := range approvers[1:] {
		e.mustSend(tb, a, c.PackApprove(id))
	}
	return id
}

func TestAdminMembershipAndThreshold(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	newAdmin := e.outsider

	// A proposal left pending while the admin set changes goes stale.
	r := e.mustSend(t, e.admin1, c.PackPropose(sunproofanchor.ActionAddRegistrar, e.submitter.addr, 0))
	pending := events(t, r, c.UnpackProposalCreatedEvent)[0].Id

	e.propose(t, sunproofanchor.ActionAddAdmin, newAdmin.addr, 0, e.admin2, e.admin3)
	if got, want := call(t, e, c.PackAdminCount(), c.UnpackAdminCount), uint32(4); got != want {
		t.Fatalf("adminCount = %d, want %d", got, want)
	}
	_, err := e.send(e.admin2, c.PackApprove(pending))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorProposalStale{Id: pending, ProposalEpoch: 1, CurrentEpoch: 2})

	// Raise the threshold to 3: two approvals no longer execute.
	e.propose(t, sunproofanchor.ActionSetThreshold, common.Address{}, 3, e.admin1, newAdmin)
	if got, want := call(t, e, c.PackThreshold(), c.UnpackThreshold), uint32(3); got != want {
		t.Fatalf("threshold = %d, want %d", got, want)
	}
	id := e.propose(t, sunproofanchor.ActionRemoveAdmin, e.admin3.addr, 0, e.admin1, e.admin2)
	if !call(t, e, c.PackIsAdmin(e.admin3.addr), c.UnpackIsAdmin) {
		t.Fatal("admin removed with 2 approvals at threshold 3")
	}
	r = e.mustSend(t, newAdmin, c.PackApprove(id))
	if revoked := events(t, r, c.UnpackRoleRevokedEvent); len(revoked) != 1 || revoked[0].Account != e.admin3.addr || revoked[0].Role != sunproofanchor.RoleAdmin {
		t.Errorf("RoleRevoked events = %s", show(revoked))
	}
	if call(t, e, c.PackIsAdmin(e.admin3.addr), c.UnpackIsAdmin) {
		t.Fatal("admin not removed with 3 approvals at threshold 3")
	}

	// 3 admins left at threshold 3: removing another would lock the contract.
	_, err = e.send(e.admin1, c.PackPropose(sunproofanchor.ActionRemoveAdmin, e.admin2.addr, 0))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorInvalidThreshold{Threshold: big.NewInt(3), AdminCount: big.NewInt(2)})
	// The removed admin can no longer propose.
	_, err = e.send(e.admin3, c.PackPropose(sunproofanchor.ActionAddAdmin, e.admin3.addr, 0))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleAdmin, Caller: e.admin3.addr})
	if got, want := call(t, e, c.PackAdminEpoch(), c.UnpackAdminEpoch), uint64(4); got != want {
		t.Errorf("adminEpoch = %d, want %d", got, want)
	}
}

func TestProposeRejects(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	for _, tc := range []struct {
		desc   string
		from   *account
		action uint8
		target common.Address
		value  uint32
		want   any
	}{
		{"not an admin", e.registrar, sunproofanchor.ActionAddAdmin, e.outsider.addr, 0,
			&sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleAdmin, Caller: e.registrar.addr}},
		{"add existing admin", e.admin1, sunproofanchor.ActionAddAdmin, e.admin2.addr, 0,
			&sunproofanchor.SunproofAnchorRoleAlreadyGranted{Role: sunproofanchor.RoleAdmin, Account: e.admin2.addr}},
		{"add existing submitter", e.admin1, sunproofanchor.ActionAddSubmitter, e.submitter.addr, 0,
			&sunproofanchor.SunproofAnchorRoleAlreadyGranted{Role: sunproofanchor.RoleSubmitter, Account: e.submitter.addr}},
		{"remove non-registrar", e.admin1, sunproofanchor.ActionRemoveRegistrar, e.outsider.addr, 0,
			&sunproofanchor.SunproofAnchorRoleNotGranted{Role: sunproofanchor.RoleRegistrar, Account: e.outsider.addr}},
		{"remove non-admin", e.admin1, sunproofanchor.ActionRemoveAdmin, e.outsider.addr, 0,
			&sunproofanchor.SunproofAnchorRoleNotGranted{Role: sunproofanchor.RoleAdmin, Account: e.outsider.addr}},
		{"zero target", e.admin1, sunproofanchor.ActionAddRegistrar, common.Address{}, 0,
			&sunproofanchor.SunproofAnchorZeroAddress{}},
		{"value on a role action", e.admin1, sunproofanchor.ActionAddRegistrar, e.outsider.addr, 1,
			&sunproofanchor.SunproofAnchorInvalidProposal{}},
		{"target on set threshold", e.admin1, sunproofanchor.ActionSetThreshold, e.outsider.addr, 1,
			&sunproofanchor.SunproofAnchorInvalidProposal{}},
		{"threshold zero", e.admin1, sunproofanchor.ActionSetThreshold, common.Address{}, 0,
			&sunproofanchor.SunproofAnchorInvalidThreshold{Threshold: big.NewInt(0), AdminCount: big.NewInt(3)}},
		{"threshold above admins", e.admin1, sunproofanchor.ActionSetThreshold, common.Address{}, 4,
			&sunproofanchor.SunproofAnchorInvalidThreshold{Threshold: big.NewInt(4), AdminCount: big.NewInt(3)}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := e.send(tc.from, c.PackPropose(tc.action, tc.target, tc.value))
			e.wantRevert(t, err, tc.want)
		})
	}
	if got := call(t, e, c.PackProposalCount(), c.UnpackProposalCount); got != 0 {
		t.Errorf("proposalCount = %d, want 0", got)
	}
}

func TestThresholdOneExecutesOnPropose(t *testing.T) {
	e := newEnv(t, envConfig{threshold: 1})
	c := e.contract
	r := e.mustSend(t, e.admin2, c.PackPropose(sunproofanchor.ActionRemoveSubmitter, e.submitter.addr, 0))
	if n := len(events(t, r, c.UnpackProposalExecutedEvent)); n != 1 {
		t.Fatalf("got %d ProposalExecuted events, want 1", n)
	}
	_, err := e.send(e.submitter, c.PackAnchor(1, 2, root(1), 1, 1))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleSubmitter, Caller: e.submitter.addr})
}

func TestDevices(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	dev := sunproofanchor.DeviceIDHash("inv-0001")
	other := sunproofanchor.DeviceIDHash("inv-0002")

	if got := call(t, e, c.PackGetDevice(dev), c.UnpackGetDevice); got != (sunproofanchor.GetDeviceOutput{}) {
		t.Errorf("getDevice(unknown) = %+v, want zero", got)
	}

	r := e.mustSend(t, e.registrar, c.PackRegisterDevice(dev, key(1)))
	regHeader, err := e.client.HeaderByNumber(context.Background(), r.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	if evs := events(t, r, c.UnpackDeviceRegisteredEvent); len(evs) != 1 ||
		evs[0].DeviceIdHash != dev || evs[0].PublicKey != key(1) || evs[0].KeyIndex != 0 || evs[0].Registrar != e.registrar.addr {
		t.Errorf("DeviceRegistered events = %s", show(evs))
	}
	got := call(t, e, c.PackGetDevice(dev), c.UnpackGetDevice)
	if want := (sunproofanchor.GetDeviceOutput{PublicKey: key(1), RegisteredAt: regHeader.Time, Exists: true}); got != want {
		t.Errorf("getDevice = %+v, want %+v", got, want)
	}
	if got := call(t, e, c.PackDeviceOfKey(key(1)), c.UnpackDeviceOfKey); got != dev {
		t.Errorf("deviceOfKey = %x, want %x", got, dev)
	}

	for _, tc := range []struct {
		desc string
		from *account
		data []byte
		want any
	}{
		{"register twice", e.registrar, c.PackRegisterDevice(dev, key(2)),
			&sunproofanchor.SunproofAnchorDeviceAlreadyActive{DeviceIdHash: dev}},
		{"key of another device", e.registrar, c.PackRegisterDevice(other, key(1)),
			&sunproofanchor.SunproofAnchorKeyAlreadyUsed{PublicKey: key(1), DeviceIdHash: dev}},
		{"zero key", e.registrar, c.PackRegisterDevice(other, [32]byte{}), &sunproofanchor.SunproofAnchorZeroKey{}},
		{"zero device id", e.registrar, c.PackRegisterDevice([32]byte{}, key(9)), &sunproofanchor.SunproofAnchorZeroDeviceId{}},
		{"admin is not a registrar", e.admin1, c.PackRegisterDevice(other, key(9)),
			&sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleRegistrar, Caller: e.admin1.addr}},
		{"submitter cannot revoke", e.submitter, c.PackRevokeDevice(dev),
			&sunproofanchor.SunproofAnchorUnauthorized{Required: sunproofanchor.RoleRegistrar, Caller: e.submitter.addr}},
		{"revoke unknown", e.registrar, c.PackRevokeDevice(other), &sunproofanchor.SunproofAnchorUnknownDevice{DeviceIdHash: other}},
		{"rotate unknown", e.registrar, c.PackRotateDeviceKey(other, key(9)), &sunproofanchor.SunproofAnchorUnknownDevice{DeviceIdHash: other}},
		{"rotate to same key", e.registrar, c.PackRotateDeviceKey(dev, key(1)),
			&sunproofanchor.SunproofAnchorKeyAlreadyUsed{PublicKey: key(1), DeviceIdHash: dev}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := e.send(tc.from, tc.data)
			e.wantRevert(t, err, tc.want)
		})
	}

	// Revoke.
	r = e.mustSend(t, e.registrar, c.PackRevokeDevice(dev))
	revHeader, err := e.client.HeaderByNumber(context.Background(), r.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	if evs := events(t, r, c.UnpackDeviceRevokedEvent); len(evs) != 1 || evs[0].PublicKey != key(1) || evs[0].KeyIndex != 0 || evs[0].Rotated {
		t.Errorf("DeviceRevoked events = %s", show(evs))
	}
	got = call(t, e, c.PackGetDevice(dev), c.UnpackGetDevice)
	if want := (sunproofanchor.GetDeviceOutput{PublicKey: key(1), RegisteredAt: regHeader.Time, RevokedAt: revHeader.Time, Exists: true}); got != want {
		t.Errorf("getDevice after revoke = %+v, want %+v", got, want)
	}
	_, err = e.send(e.registrar, c.PackRevokeDevice(dev))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorDeviceNotActive{DeviceIdHash: dev})
	_, err = e.send(e.registrar, c.PackRotateDeviceKey(dev, key(2)))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorDeviceNotActive{DeviceIdHash: dev})
	// A revoked key is never reused, even by its own device.
	_, err = e.send(e.registrar, c.PackRegisterDevice(dev, key(1)))
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorKeyAlreadyUsed{PublicKey: key(1), DeviceIdHash: dev})

	// Re-register the revoked device with a new key: history keeps both.
	e.mustSend(t, e.registrar, c.PackRegisterDevice(dev, key(2)))
	if n := call(t, e, c.PackDeviceKeyCount(dev), c.UnpackDeviceKeyCount); n.Uint64() != 2 {
		t.Errorf("deviceKeyCount = %d, want 2", n)
	}
	k0 := call(t, e, c.PackGetDeviceKey(dev, big.NewInt(0)), c.UnpackGetDeviceKey)
	if k0.PublicKey != key(1) || k0.RevokedBlock != revHeader.Number.Uint64() || k0.RegisteredBlock != regHeader.Number.Uint64() {
		t.Errorf("getDeviceKey(0) = %+v", k0)
	}
	_, err = bind.Call(e.inst, nil, c.PackGetDeviceKey(dev, big.NewInt(2)), c.UnpackGetDeviceKey)
	e.wantRevert(t, err, &sunproofanchor.SunproofAnchorUnknownDeviceKey{DeviceIdHash: dev, Index: big.NewInt(2)})
}

// deviceKey is one entry of a device's on-chain key history.
type deviceKey = sunproofanchor.GetDeviceKeyOutput

// signingKey is the rule a verifier applies (see package contracts): the key, if
// any, that may have signed a reading of the device timestamped ts (chain time
// units) and included in a window anchored at block anchorBlock.
func signingKey(history []deviceKey, ts, anchorBlock uint64) ([32]byte, bool) {
	for _, k := range history {
		ended := k.RevokedBlock != 0
		if ts < k.RegisteredAt || (ended && ts >= k.RevokedAt) {
			continue // not the device's key at ts
		}
		if ended && !k.Rotated && anchorBlock >= k.RevokedBlock {
			return [32]byte{}, false // revoked key: only readings anchored before revocation count
		}
		return k.PublicKey, true
	}
	return [32]byte{}, false
}

func TestKeyRotationHistory(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.contract
	dev := sunproofanchor.DeviceIDHash("inv-0042")
	blockOf := func(r *types.Receipt) (timestamp, number uint64) {
		t.Helper()
		h, err := e.client.HeaderByNumber(context.Background(), r.BlockNumber)
		if err != nil {
			t.Fatal(err)
		}
		return h.Time, h.Number.Uint64()
	}
	advance := func() {
		t.Helper()
		if err := e.sim.AdjustTime(time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	t1, b1 := blockOf(e.mustSend(t, e.registrar, c.PackRegisterDevice(dev, key(1))))
	advance()
	r := e.mustSend(t, e.registrar, c.PackRotateDeviceKey(dev, key(2)))
	t2, b2 := blockOf(r)
	regs, revs := events(t, r, c.UnpackDeviceRegisteredEvent), events(t, r, c.UnpackDeviceRevokedEvent)
	if len(regs) != 1 || len(revs) != 1 || revs[0].PublicKey != key(1) || revs[0].KeyIndex != 0 || !revs[0].Rotated ||
		regs[0].PublicKey != key(2) || regs[0].KeyIndex != 1 {
		t.Errorf("rotation events: registered %s, revoked %s", show(regs), show(revs))
	}
	advance()
	r = e.mustSend(t, e.registrar, c.PackRevokeDevice(dev))
	t3, b3 := blockOf(r)
	if revs := events(t, r, c.UnpackDeviceRevokedEvent); len(revs) != 1 || revs[0].PublicKey != key(2) || revs[0].Rotated {
		t.Errorf("revocation events: %s", show(revs))
	}

	n := call(t, e, c.PackDeviceKeyCount(dev), c.UnpackDeviceKeyCount).Uint64()
	var history []deviceKey
	for i := range n {
		history = append(history, call(t, e, c.PackGetDeviceKey(dev, new(big.Int).SetUint64(i)), c.UnpackGetDeviceKey))
	}
	want := []deviceKey{
		{PublicKey: key(1), RegisteredAt: t1, RevokedAt: t2, RegisteredBlock: b1, RevokedBlock: b2, Rotated: true},
		{PublicKey: key(2), RegisteredAt: t2, RevokedAt: t3, RegisteredBlock: b2, RevokedBlock: b3, Rotated: false},
	}
	if !slices.Equal(history, want) {
		t.Fatalf("history = %+v, want %+v", history, want)
	}

	for _, tc := range []struct {
		desc        string
		ts          uint64
		anchorBlock uint64
		want        [32]byte
		valid       bool
	}{
		{"before registration", t1 - 1, b3 + 1, [32]byte{}, false},
		{"at registration", t1, b1, key(1), true},
		{"signed before rotation, anchored after it", t2 - 1, b3 + 5, key(1), true},
		{"at rotation", t2, b2, key(2), true},
		{"signed and anchored before revocation", t3 - 1, b3 - 1, key(2), true},
		{"signed before revocation, anchored at it", t3 - 1, b3, [32]byte{}, false},
		{"after revocation", t3, b3 + 1, [32]byte{}, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, ok := signingKey(history, tc.ts, tc.anchorBlock)
			if got != tc.want || ok != tc.valid {
				t.Errorf("signingKey(%d, %d) = %x, %t, want %x, %t", tc.ts, tc.anchorBlock, got, ok, tc.want, tc.valid)
			}
		})
	}
}
