package anchor_test

// Benchmarks. Compare runs with benchstat:
//
//	go test ./anchor -run '^$' -bench . -benchtime 3x -count 6 > new.txt
//	benchstat old.txt new.txt
//
// Metrics: leaves/s (tree build throughput on one core), B/proof (binary
// audit path of one leaf), B/bundle (JSON proof bundle), hashes/op
// (SHA-256 computations per operation).

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
	"github.com/sunproof/sunproof/ingest/reading"
)

var sizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}

func BenchmarkTreeBuild(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			leaves := leafHashes(s.n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := anchor.NewTree(leaves); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.n)*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
			b.ReportMetric(float64(s.n-1), "hashes/op")
		})
	}
}

// unsignedFleet returns n wire messages from 1000 devices in one 15-minute
// span, with a dummy signature (NewWindow does not verify signatures).
func unsignedFleet(tb testing.TB, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		r := reading.Reading{
			DeviceID: fmt.Sprintf("inv-%05d", i%1000), SiteID: "site-1",
			Seq: uint64(i / 1000), TimeMS: t0 + int64(i/1000)%900_000,
			Measurement: reading.Measurement{ACPowerW: float64(i), EnergyWh: uint64(i), State: reading.StateMPPT},
			Sig:         make([]byte, ed25519.SignatureSize),
		}
		w, err := r.Wire()
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = w
	}
	return out
}

// BenchmarkWindowBuild is the whole sealing path: decode, dedup, sort, leaf
// hashes and tree.
func BenchmarkWindowBuild(b *testing.B) {
	for _, s := range sizes[:2] {
		b.Run(s.name, func(b *testing.B) {
			wires := unsignedFleet(b, s.n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := anchor.NewWindow("p0", t0, t0+900_000, anchor.KindOnTime, 0, wires); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.n)*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
			b.ReportMetric(float64(2*s.n-1), "hashes/op")
		})
	}
}

func BenchmarkInclusionProof(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			tr, _ := anchor.NewTree(leafHashes(s.n))
			var total, count int
			i := uint64(0)
			b.ReportAllocs()
			for b.Loop() {
				p, err := tr.InclusionProof(i)
				if err != nil {
					b.Fatal(err)
				}
				total += len(p) * anchor.HashSize
				count++
				i = (i + 7919) % uint64(s.n)
			}
			b.ReportMetric(float64(total)/float64(count), "B/proof")
		})
	}
}

// bigBundle returns a bundle for one genuinely signed reading in a window of
// n leaves, in a batch of 1000 windows.
func bigBundle(tb testing.TB, n int) (*anchor.Bundle, ed25519.PublicKey) {
	wires := unsignedFleet(tb, n-1)
	wires = append(wires, signed(tb, 1, 1, t0+5))
	w, err := anchor.NewWindow("p0", t0, t0+900_000, anchor.KindOnTime, 0, wires)
	if err != nil {
		tb.Fatal(err)
	}
	cs := []anchor.Commitment{w.Commitment()}
	for i := 1; i < 1000; i++ {
		c := w.Commitment()
		c.Shard = fmt.Sprintf("p%d", i)
		cs = append(cs, c)
	}
	batch, err := anchor.NewBatch(t0, t0+3600_000, cs)
	if err != nil {
		tb.Fatal(err)
	}
	i, _ := w.Find(reading.Key{DeviceID: deviceID(1), Seq: 1})
	bd, err := anchor.NewBundle(w, i, batch, pubOf(1))
	if err != nil {
		tb.Fatal(err)
	}
	bd.Anchor.ChainID, bd.Anchor.Contract = testChainID, testContract
	bd.Anchor.TxHash, bd.Anchor.BlockNumber = testTxHash(), 42
	return bd, pubOf(1)
}

// BenchmarkBundle reports the JSON size of a complete bundle (window of n
// leaves, batch of 1000 windows) and the time to decode it.
func BenchmarkBundle(b *testing.B) {
	for _, s := range sizes[:2] {
		b.Run(s.name, func(b *testing.B) {
			bd, _ := bigBundle(b, s.n)
			j, _ := json.Marshal(bd)
			b.ReportAllocs()
			for b.Loop() {
				var out anchor.Bundle
				if err := json.Unmarshal(j, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(j)), "B/bundle")
			b.ReportMetric(float64((len(bd.Window.Path)+len(bd.Batch.Path))*anchor.HashSize), "B/paths")
		})
	}
}

// BenchmarkVerifyOffline is the whole offline check of a decoded bundle
// (window of 100k leaves, batch of 1000): Ed25519 dominates.
func BenchmarkVerifyOffline(b *testing.B) {
	bd, pub := bigBundle(b, 100_000)
	res, err := anchor.VerifyOffline(bd, pub)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := anchor.VerifyOffline(bd, pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
	b.ReportMetric(float64(res.Hashes), "hashes/op")
}

// BenchmarkVerify adds the chain checks against the in-memory fake.
func BenchmarkVerify(b *testing.B) {
	bd, pub := bigBundle(b, 100_000)
	chain := anchorfake.New(testChainID, testContract)
	chain.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: deviceID(1), PublicKey: pub, RegisteredAtMS: 0})
	rec := anchor.AnchorRecord{IntervalStartMS: bd.Anchor.IntervalStartMS, IntervalEndMS: bd.Anchor.IntervalEndMS, Size: bd.Batch.TreeSize, Scheme: bd.Scheme}
	copy(rec.Root[:], bd.Batch.Root)
	chain.AddAnchor(rec)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := anchor.Verify(context.Background(), bd, chain); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
}

// BenchmarkVerifyPath is leaf to batch root only: the window path (1M
// leaves) and the batch path (1000 windows), no signature.
func BenchmarkVerifyPath(b *testing.B) {
	tr, _ := anchor.NewTree(leafHashes(1_000_000))
	bt, _ := anchor.NewTree(leafHashes(1000))
	const i, j = 765_432, 517
	wp, _ := tr.InclusionProof(i)
	bp, _ := bt.InclusionProof(j)
	leaf, root := tr.LeafHash(i), tr.Root()
	bleaf, broot := bt.LeafHash(j), bt.Root()
	b.ReportAllocs()
	for b.Loop() {
		if err := anchor.VerifyInclusion(i, tr.Size(), leaf, wp, root); err != nil {
			b.Fatal(err)
		}
		if err := anchor.VerifyInclusion(j, bt.Size(), bleaf, bp, broot); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/op")
	b.ReportMetric(float64(len(wp)+len(bp)), "hashes/op")
}

// BenchmarkSignatureVerify is Ed25519 alone, for reference.
func BenchmarkSignatureVerify(b *testing.B) {
	w := signed(b, 1, 1, t0)
	r, _ := reading.Decode(w)
	pub := pubOf(1)
	for b.Loop() {
		if err := r.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/op")
}
