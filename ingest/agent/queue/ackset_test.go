package queue

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRangeSetAdd(t *testing.T) {
	type rng struct{ lo, hi uint64 }
	for _, tc := range []struct {
		desc      string
		adds      []rng
		wantSpans []span
		wantNewly []rng // reported by the last add
	}{
		{"first", []rng{{5, 7}}, []span{{5, 7}}, []rng{{5, 7}}},
		{"disjoint left", []rng{{5, 7}, {1, 2}}, []span{{1, 2}, {5, 7}}, []rng{{1, 2}}},
		{"adjacent merges", []rng{{5, 7}, {8, 9}, {3, 4}}, []span{{3, 9}}, []rng{{3, 4}}},
		{"fill hole", []rng{{1, 2}, {6, 7}, {3, 5}}, []span{{1, 7}}, []rng{{3, 5}}},
		{"duplicate", []rng{{1, 9}, {3, 5}}, []span{{1, 9}}, nil},
		{"cover several", []rng{{2, 3}, {6, 7}, {10, 11}, {1, 20}}, []span{{1, 20}}, []rng{{1, 1}, {4, 5}, {8, 9}, {12, 20}}},
		{"overlap right", []rng{{5, 10}, {8, 12}}, []span{{5, 12}}, []rng{{11, 12}}},
		{"overlap left", []rng{{5, 10}, {1, 6}}, []span{{1, 10}}, []rng{{1, 4}}},
		{"zero", []rng{{0, 0}, {1, 1}}, []span{{0, 1}}, []rng{{1, 1}}},
		{"max", []rng{{math.MaxUint64, math.MaxUint64}, {math.MaxUint64 - 5, math.MaxUint64}}, []span{{math.MaxUint64 - 5, math.MaxUint64}}, []rng{{math.MaxUint64 - 5, math.MaxUint64 - 1}}},
		{"everything", []rng{{7, 9}, {0, math.MaxUint64}}, []span{{0, math.MaxUint64}}, []rng{{0, 6}, {10, math.MaxUint64}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var r rangeSet
			var newly []rng
			for _, a := range tc.adds {
				newly = nil
				r.add(a.lo, a.hi, func(lo, hi uint64) { newly = append(newly, rng{lo, hi}) })
			}
			if got := r.spans; !slices.Equal(got, tc.wantSpans) {
				t.Errorf("spans = %v, want %v", got, tc.wantSpans)
			}
			if !slices.Equal(newly, tc.wantNewly) {
				t.Errorf("newly = %v, want %v", newly, tc.wantNewly)
			}
		})
	}
}

// TestRangeSetModel compares rangeSet with a map on random operations.
func TestRangeSetModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var r rangeSet
		model := map[uint64]bool{}
		floor := uint64(0) // dropThrough so far
		for range 50 {
			if rng.IntN(8) == 0 {
				x := floor + uint64(rng.IntN(20))
				r.dropThrough(x)
				for k := range model {
					if k <= x {
						delete(model, k)
					}
				}
				floor = max(floor, x)
				continue
			}
			lo := uint64(rng.IntN(100))
			hi := lo + uint64(rng.IntN(10))
			var got []uint64
			r.add(lo, hi, func(a, b uint64) {
				for x := a; x <= b; x++ {
					got = append(got, x)
				}
			})
			var want []uint64
			for x := lo; x <= hi; x++ {
				if !model[x] {
					want = append(want, x)
					model[x] = true
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: add(%d, %d) newly %v, want %v", round, lo, hi, got, want)
			}
			for i, s := range r.spans {
				if s.lo > s.hi || (i > 0 && s.lo <= r.spans[i-1].hi+1) {
					t.Fatalf("round %d: spans not normalized: %v", round, r.spans)
				}
			}
			for x := uint64(0); x < 120; x++ {
				if r.contains(x) != model[x] {
					t.Fatalf("round %d: contains(%d) = %v, model %v; spans %v", round, x, r.contains(x), model[x], r.spans)
				}
			}
		}
	}
}
