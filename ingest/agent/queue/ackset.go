package queue

import "sort"

// span is an inclusive range of sequence numbers.
type span struct{ lo, hi uint64 }

// rangeSet is a set of sequence numbers stored as sorted, disjoint,
// non-adjacent inclusive spans. It holds the acks above the contiguous
// cursor, so its size is the number of "holes" in the acked set, not the
// number of acked records.
type rangeSet struct {
	spans []span
}

// add inserts [lo, hi] (lo <= hi) and calls newly for every maximal
// sub-range of [lo, hi] that was not in the set before, in ascending order.
func (r *rangeSet) add(lo, hi uint64, newly func(lo, hi uint64)) {
	s := r.spans
	// i: first span that overlaps or touches [lo, hi] from the left.
	i := sort.Search(len(s), func(k int) bool { return lo == 0 || s[k].hi >= lo-1 })
	// j: first span that starts strictly after hi+1.
	j := sort.Search(len(s), func(k int) bool { return s[k].lo > 0 && s[k].lo-1 > hi })

	cur, done := lo, false
	for k := i; k < j; k++ {
		if s[k].lo > cur {
			newly(cur, min(s[k].lo-1, hi))
		}
		if s[k].hi >= hi {
			done = true
			break
		}
		cur = max(cur, s[k].hi+1) // s[k].hi < hi, no overflow
	}
	if !done {
		newly(cur, hi)
	}

	if i == j {
		r.spans = append(s, span{})
		copy(r.spans[i+1:], r.spans[i:])
		r.spans[i] = span{lo, hi}
		return
	}
	s[i] = span{min(lo, s[i].lo), max(hi, s[j-1].hi)}
	r.spans = append(s[:i+1], s[j:]...)
}

// first returns the lowest span.
func (r *rangeSet) first() (span, bool) {
	if len(r.spans) == 0 {
		return span{}, false
	}
	return r.spans[0], true
}

// dropThrough removes every number <= x.
func (r *rangeSet) dropThrough(x uint64) {
	i := sort.Search(len(r.spans), func(k int) bool { return r.spans[k].hi > x })
	r.spans = r.spans[i:]
	if len(r.spans) > 0 && r.spans[0].lo <= x {
		r.spans[0].lo = x + 1 // hi > x, so x < MaxUint64
	}
	if len(r.spans) == 0 {
		r.spans = nil // release the backing array after a burst of holes
	}
}

// clear empties the set.
func (r *rangeSet) clear() { r.spans = nil }

// contains reports whether x is in the set (used by tests and invariants).
func (r *rangeSet) contains(x uint64) bool {
	i := sort.Search(len(r.spans), func(k int) bool { return r.spans[k].hi >= x })
	return i < len(r.spans) && r.spans[i].lo <= x
}
