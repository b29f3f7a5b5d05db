package sunproofanchor_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

// gasRules are the two gas schedules we measure: geth 1.17's dev/simulated
// default (Osaka plus the "Bogota" fork, which reprices new storage) and the
// Prague/Osaka rules of a production consortium chain.
var gasRules = []struct {
	name      string
	realistic bool
}{
	{"geth-dev-forks", false},
	{"prague-osaka", true},
}

const hour = 3600

// intervalStart returns the start of the i-th hourly interval from 2026-01-01.
func intervalStart(i int) uint64 { return 1_767_225_600 + uint64(i)*hour }

// TestAnchorGas reports the gas of anchor() under both gas schedules and checks
// that it does not grow with the number of anchors or registered devices.
//
//	go test ./contracts/sunproofanchor -run TestAnchorGas -v
func TestAnchorGas(t *testing.T) {
	for _, rules := range gasRules {
		t.Run(rules.name, func(t *testing.T) {
			e := newEnv(t, envConfig{realisticGas: rules.realistic})
			c := e.contract
			var gas []uint64
			anchor := func(i int) {
				r := e.mustSend(t, e.submitter, c.PackAnchor(intervalStart(i), intervalStart(i+1), root(byte(i)), 4*96, 1))
				gas = append(gas, r.GasUsed)
			}
			for i := range 5 {
				anchor(i)
			}
			// Grow the fleet: anchoring must not notice.
			const devices = 100
			var registerGas uint64
			for d := range devices {
				r := e.mustSend(t, e.registrar, c.PackRegisterDevice(
					sunproofanchor.DeviceIDHash(fmt.Sprintf("inv-%05d", d)), key2(d)))
				registerGas = r.GasUsed
			}
			for i := 5; i < 10; i++ {
				anchor(i)
			}
			lo, hi := slices.Min(gas), slices.Max(gas)
			if hi-lo > 200 { // calldata zero bytes may vary by a few gas
				t.Errorf("anchor gas varies from %d to %d: %v", lo, hi, gas)
			}

			dev := sunproofanchor.DeviceIDHash("inv-00000")
			rotateGas := e.mustSend(t, e.registrar, c.PackRotateDeviceKey(dev, key2(devices))).GasUsed
			revokeGas := e.mustSend(t, e.registrar, c.PackRevokeDevice(dev)).GasUsed
			r := e.mustSend(t, e.admin1, c.PackPropose(sunproofanchor.ActionAddSubmitter, e.outsider.addr, 0))
			proposeGas := r.GasUsed
			id := events(t, r, c.UnpackProposalCreatedEvent)[0].Id
			approveGas := e.mustSend(t, e.admin2, c.PackApprove(id)).GasUsed
			deployGas := deployGas(t, e)

			t.Logf("%s: anchor %d gas (min %d, max %d over %d anchors, %d devices registered in between)",
				rules.name, gas[len(gas)-1], lo, hi, len(gas), devices)
			t.Logf("%s: deploy %d, registerDevice %d, rotateDeviceKey %d, revokeDevice %d, propose %d, approve+execute %d",
				rules.name, deployGas, registerGas, rotateGas, revokeGas, proposeGas, approveGas)

			if rules.realistic && hi > 110_000 {
				t.Errorf("anchor uses %d gas under Prague rules, want <= 110000 (3 new storage slots + event)", hi)
			}
		})
	}
}

func deployGas(tb testing.TB, e *env) uint64 {
	tb.Helper()
	_, tx, err := sunproofanchor.Deploy(e.opts(e.admin1), e.client,
		[]common.Address{e.admin1.addr, e.admin2.addr, e.admin3.addr}, 2,
		[]common.Address{e.submitter.addr}, []common.Address{e.registrar.addr})
	if err != nil {
		tb.Fatal(err)
	}
	e.sim.Commit()
	r, err := e.client.TransactionReceipt(context.Background(), tx.Hash())
	if err != nil {
		tb.Fatal(err)
	}
	return r.GasUsed
}

// key2 returns a distinct non-zero test key for each n.
func key2(n int) [32]byte {
	var k [32]byte
	k[0], k[1], k[2], k[31] = 0x5a, byte(n>>8), byte(n), 0x01
	return k
}

// BenchmarkAnchor measures anchor() on the simulated backend and reports the
// gas used per call under each gas schedule:
//
//	go test ./contracts/sunproofanchor -run '^$' -bench BenchmarkAnchor -benchtime 200x
func BenchmarkAnchor(b *testing.B) {
	for _, rules := range gasRules {
		b.Run(rules.name, func(b *testing.B) {
			e := newEnv(b, envConfig{realisticGas: rules.realistic})
			c := e.contract
			var i int
			var total uint64
			b.ReportAllocs()
			for b.Loop() {
				r := e.mustSend(b, e.submitter, c.PackAnchor(intervalStart(i), intervalStart(i+1), root(byte(i)), 4*96, 1))
				total += r.GasUsed
				i++
			}
			b.ReportMetric(float64(total)/float64(i), "gas/anchor")
		})
	}
}
