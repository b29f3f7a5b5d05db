package collector

import (
	"sync"

	"github.com/sunproof/sunproof/ingest/reading"
)

// dedup remembers, per device, the last horizon stored seqs and the energy
// counter of the highest stored seq. Updates go through a pending view that
// is committed only after the Kafka write succeeded.
type dedup struct {
	mu      sync.Mutex
	horizon int
	devs    map[string]*devState
}

type devState struct {
	seen   map[uint64]struct{}
	order  []uint64 // ring of seqs in insertion order, len ≤ horizon
	next   int
	maxSeq uint64
	maxWh  uint64
	hasMax bool
}

func newDedup(horizon int) *dedup {
	return &dedup{horizon: horizon, devs: make(map[string]*devState)}
}

// pendingBatch is one batch's view: state as of the last commit plus the
// batch's own accepted readings.
type pendingBatch struct {
	d     *dedup
	added []reading.Reading // accepted in this batch, in order
	local map[reading.Key]struct{}
}

func (d *dedup) begin() *pendingBatch {
	return &pendingBatch{d: d, local: make(map[reading.Key]struct{})}
}

// check returns a duplicate or counter_regression error, or records r as
// accepted in the pending batch.
func (p *pendingBatch) check(r *reading.Reading) error {
	k := r.Key()
	if _, ok := p.local[k]; ok {
		return reading.Errorf(reading.ReasonDuplicate, "seq %d of device %s appears twice in one batch", r.Seq, r.DeviceID)
	}
	p.d.mu.Lock()
	st := p.d.devs[r.DeviceID]
	var dup bool
	var maxSeq, maxWh uint64
	var hasMax bool
	if st != nil {
		_, dup = st.seen[r.Seq]
		maxSeq, maxWh, hasMax = st.maxSeq, st.maxWh, st.hasMax
	}
	p.d.mu.Unlock()
	if dup {
		return reading.Errorf(reading.ReasonDuplicate, "seq %d of device %s was already stored", r.Seq, r.DeviceID)
	}
	// Include this batch's earlier readings of the same device.
	for i := range p.added {
		a := &p.added[i]
		if a.DeviceID == r.DeviceID && (!hasMax || a.Seq > maxSeq) {
			maxSeq, maxWh, hasMax = a.Seq, a.EnergyWh, true
		}
	}
	if hasMax {
		if r.Seq > maxSeq && r.EnergyWh < maxWh {
			return reading.Errorf(reading.ReasonCounterRegression,
				"energy_wh %d at seq %d is below %d at earlier seq %d", r.EnergyWh, r.Seq, maxWh, maxSeq)
		}
		if r.Seq < maxSeq && r.EnergyWh > maxWh {
			return reading.Errorf(reading.ReasonCounterRegression,
				"energy_wh %d at seq %d is above %d at later seq %d", r.EnergyWh, r.Seq, maxWh, maxSeq)
		}
	}
	p.local[k] = struct{}{}
	p.added = append(p.added, reading.Reading{DeviceID: r.DeviceID, Seq: r.Seq, Measurement: reading.Measurement{EnergyWh: r.EnergyWh}})
	return nil
}

// commit makes the batch's accepted readings part of the shared state.
func (p *pendingBatch) commit() {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	for i := range p.added {
		a := &p.added[i]
		st := p.d.devs[a.DeviceID]
		if st == nil {
			st = &devState{seen: make(map[uint64]struct{})}
			p.d.devs[a.DeviceID] = st
		}
		if _, ok := st.seen[a.Seq]; !ok {
			if len(st.order) < p.d.horizon {
				st.order = append(st.order, a.Seq)
			} else {
				delete(st.seen, st.order[st.next])
				st.order[st.next] = a.Seq
				st.next = (st.next + 1) % p.d.horizon
			}
			st.seen[a.Seq] = struct{}{}
		}
		if !st.hasMax || a.Seq > st.maxSeq {
			st.maxSeq, st.maxWh, st.hasMax = a.Seq, a.EnergyWh, true
		}
	}
}
