package anchor_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"

	"github.com/sunproof/sunproof/anchor"
)

// gasBatchSizes are the batch sizes (windows per anchoring interval) whose
// anchoring gas the tests and benchmarks compare.
var gasBatchSizes = []int{1, 100, 10_000}

// syntheticBatch returns a batch of n window commitments (n shards' worth
// of 15-minute windows) for the interval [start, start+1h).
func syntheticBatch(tb testing.TB, n int, start int64) *anchor.Batch {
	tb.Helper()
	const span = 15 * 60 * 1000
	cs := make([]anchor.Commitment, n)
	for i := range cs {
		cs[i] = anchor.Commitment{
			Scheme: anchor.SchemeRFC9162SHA256, Shard: fmt.Sprintf("p%d", i/4),
			StartMS: start + int64(i%4)*span, EndMS: start + int64(i%4+1)*span,
			Kind: anchor.KindOnTime, Size: 96, Root: sha256.Sum256(fmt.Appendf(nil, "window %d", i)),
			DeviceCount: 8, DevicesRoot: sha256.Sum256(fmt.Appendf(nil, "devices %d", i)),
		}
	}
	b, err := anchor.NewBatch(start, start+4*span, cs)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// anchorTxAt returns the anchoring transaction of batch b moved to the
// i-th hourly interval (the root and size stay b's).
func anchorTxAt(tb testing.TB, b *anchor.Batch, i int) anchor.AnchorTx {
	tb.Helper()
	a, err := anchor.AnchorTxFor(b.Record())
	if err != nil {
		tb.Fatal(err)
	}
	a.IntervalStart, a.IntervalEnd = chainInterval(i)
	return a
}

// TestAnchorGasFlat checks that an anchoring transaction's gas does not
// depend on the number of windows it commits to (1, 100, 10,000): the
// transaction carries only the batch root and size.
func TestAnchorGasFlat(t *testing.T) {
	e := newSimEnv(t, simConfig{realisticGas: true})
	s := e.submitter(t, e.config())
	var gas []uint64
	for i, n := range gasBatchSizes {
		b := syntheticBatch(t, n, 1_767_225_600_000)
		if b.Len() != n {
			t.Fatalf("batch of %d windows has %d", n, b.Len())
		}
		ref, err := s.Submit(context.Background(), anchorTxAt(t, b, i))
		if err != nil {
			t.Fatal(err)
		}
		gas = append(gas, ref.GasUsed)
		t.Logf("%6d windows: %d gas", n, ref.GasUsed)
	}
	if lo, hi := slices.Min(gas), slices.Max(gas); hi-lo > 100 { // calldata: a few non-zero bytes more
		t.Errorf("anchor gas %v varies by %d for 1..10000 windows", gas, hi-lo)
	}
}

// BenchmarkAnchorGas reports the gas per anchoring transaction on the
// simulated backend under Prague/Osaka rules (the Bogota/Amsterdam dev
// forks off) for batches of 1, 100 and 10,000 windows:
//
//	go test ./anchor -run '^$' -bench BenchmarkAnchorGas -benchtime 100x
//
// BenchmarkIntegrationAnchorGas measures the same on the local geth.
func BenchmarkAnchorGas(b *testing.B) {
	for _, n := range gasBatchSizes {
		b.Run(fmt.Sprintf("windows=%d", n), func(b *testing.B) {
			e := newSimEnv(b, simConfig{realisticGas: true})
			s := e.submitter(b, e.config())
			batch := syntheticBatch(b, n, 1_767_225_600_000)
			var total uint64
			i := 0
			for b.Loop() {
				ref, err := s.Submit(context.Background(), anchorTxAt(b, batch, i))
				if err != nil {
					b.Fatal(err)
				}
				total += ref.GasUsed
				i++
			}
			b.ReportMetric(float64(total)/float64(i), "gas/anchor")
		})
	}
}
