package anomaly

import (
	"context"
	"fmt"
	"time"

	"github.com/sunproof/sunproof/devices"
)

// AnchorIndex answers whether one reading is anchored. The proof store
// (anchor.Store.Anchored, which caches each device's index) implements it;
// anomaly does not import anchor, the caller wires it.
type AnchorIndex interface {
	Anchored(deviceID string, seq uint64) (bool, error)
}

// SeqLister lists the seqs of a device's readings whose timestamps lie in
// the closed span [from, to].
type SeqLister interface {
	Seqs(ctx context.Context, deviceID string, from, to time.Time) ([]uint64, error)
}

// IndexChecker is the AnchorChecker over a proof store's index: it lists
// the readings of the alert's span (Seqs, normally from InfluxDB) and asks
// the index about each. Every one anchored is AnchoringFull, some is
// AnchoringPartial, none is AnchoringNone. A span without any reading
// with a seq (a silence) is AnchoringUnknown: there is nothing to anchor.
// Readings younger than the anchoring interval are not anchored yet, so an
// alert's state moves from partial to anchored in later scans.
type IndexChecker struct {
	Index AnchorIndex
	Seqs  SeqLister
}

var _ AnchorChecker = (*IndexChecker)(nil)

// Anchored implements AnchorChecker.
func (c *IndexChecker) Anchored(ctx context.Context, deviceID string, from, to time.Time) (Anchoring, error) {
	seqs, err := c.Seqs.Seqs(ctx, deviceID, from, to)
	if err != nil {
		return AnchoringUnknown, fmt.Errorf("readings of %s in the span: %w", deviceID, err)
	}
	var yes, no int
	for _, s := range seqs {
		ok, err := c.Index.Anchored(deviceID, s)
		if err != nil {
			return AnchoringUnknown, fmt.Errorf("%s/%d: %w", deviceID, s, err)
		}
		if ok {
			yes++
		} else {
			no++
		}
	}
	switch {
	case yes == 0 && no == 0:
		return AnchoringUnknown, nil
	case no == 0:
		return AnchoringFull, nil
	case yes == 0:
		return AnchoringNone, nil
	}
	return AnchoringPartial, nil
}

// LoaderSeqs adapts a Loader (a Source) to SeqLister: one Load of the
// device over the span, keeping the samples inside it that carry a seq.
func LoaderSeqs(l Loader) SeqLister { return loaderSeqs{l} }

type loaderSeqs struct{ l Loader }

func (s loaderSeqs) Seqs(ctx context.Context, deviceID string, from, to time.Time) ([]uint64, error) {
	// Load's range is half-open: extend it past to by a millisecond (reading
	// timestamps are whole milliseconds).
	series, _, err := s.l.Load(ctx, []devices.Device{{ID: deviceID}}, from, to.Add(time.Millisecond))
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, sr := range series {
		if sr.Device.ID != deviceID {
			continue
		}
		for _, x := range sr.Samples {
			if x.Seq != 0 && !x.T.Before(from) && !x.T.After(to) {
				out = append(out, x.Seq)
			}
		}
	}
	return out, nil
}
