package anomaly

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sunproof/sunproof/devices"
)

type fakeIndex map[uint64]bool

func (f fakeIndex) Anchored(id string, seq uint64) (bool, error) {
	if seq == 666 {
		return false, errors.New("index broken")
	}
	return f[seq], nil
}

type fakeLoader struct {
	samples []Sample
	from    time.Time
	to      time.Time
}

func (f *fakeLoader) Load(_ context.Context, devs []devices.Device, from, to time.Time) ([]Series, LoadStats, error) {
	f.from, f.to = from, to
	return []Series{{Device: devs[0], Samples: f.samples}}, LoadStats{}, nil
}

func TestIndexChecker(t *testing.T) {
	t0 := time.Date(2024, 6, 21, 2, 0, 0, 0, time.UTC)
	at := func(min int, seq uint64) Sample { return Sample{T: t0.Add(time.Duration(min) * time.Minute), Seq: seq} }
	samples := []Sample{at(-5, 1), at(0, 2), at(5, 3), at(10, 4), at(15, 5)}
	cases := []struct {
		name     string
		index    fakeIndex
		from, to int
		want     Anchoring
		err      bool
	}{
		{"all", fakeIndex{2: true, 3: true, 4: true}, 0, 10, AnchoringFull, false},
		{"closed end", fakeIndex{2: true, 3: true, 4: true}, 0, 15, AnchoringPartial, false},
		{"none", fakeIndex{1: true}, 0, 10, AnchoringNone, false},
		{"silence", fakeIndex{}, 1, 4, AnchoringUnknown, false},
		{"instant", fakeIndex{3: true}, 5, 5, AnchoringFull, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &fakeLoader{samples: samples}
			ch := &IndexChecker{Index: c.index, Seqs: LoaderSeqs(l)}
			got, err := ch.Anchored(context.Background(), "inv-1", t0.Add(time.Duration(c.from)*time.Minute), t0.Add(time.Duration(c.to)*time.Minute))
			if (err != nil) != c.err || got != c.want {
				t.Fatalf("got %s, %v; want %s", got, err, c.want)
			}
			if !l.to.After(t0.Add(time.Duration(c.to) * time.Minute)) {
				t.Errorf("load range ends at %s: the span's end is excluded", l.to)
			}
		})
	}
	ch := &IndexChecker{Index: fakeIndex{}, Seqs: LoaderSeqs(&fakeLoader{samples: []Sample{at(0, 666)}})}
	if got, err := ch.Anchored(context.Background(), "inv-1", t0, t0); err == nil || got != AnchoringUnknown {
		t.Fatalf("index error: %s, %v", got, err)
	}
}
