package anchor_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sunproof/sunproof/anchor"
)

func sampleCommitment() anchor.Commitment {
	return anchor.Commitment{
		Scheme: anchor.SchemeRFC9162SHA256, Shard: "p3",
		StartMS: t0, EndMS: t0 + 900000, Kind: anchor.KindLate, Seq: 2,
		Size: 5, Root: anchor.Hash{1, 2, 3},
		DeviceCount: 2, DevicesRoot: anchor.Hash{4, 5, 6},
	}
}

// TestCommitmentGolden pins the byte layouts documented in
// docs/formats/proof.md.
func TestCommitmentGolden(t *testing.T) {
	c := sampleCommitment()
	enc, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = append(want, "SPWC"...)
	want = append(want, 1, 1, 1, 2, 'p', '3')
	want = binary.BigEndian.AppendUint64(want, uint64(t0))
	want = binary.BigEndian.AppendUint64(want, uint64(t0+900000))
	want = binary.BigEndian.AppendUint64(want, 2)
	want = binary.BigEndian.AppendUint64(want, 5)
	want = append(want, c.Root[:]...)
	want = binary.BigEndian.AppendUint64(want, 2)
	want = append(want, c.DevicesRoot[:]...)
	if !bytes.Equal(enc, want) {
		t.Fatalf("encoding\n%x\nwant\n%x", enc, want)
	}
	if len(enc) != 112+2 {
		t.Errorf("length %d, want 114", len(enc))
	}
	got, err := anchor.DecodeCommitment(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Errorf("decoded %+v, want %+v", got, c)
	}
	if got, want := got.ID(), "p3/1748772900000/late/2"; got != want {
		t.Errorf("ID %s, want %s", got, want)
	}

	d := anchor.DeviceRange{DeviceID: "inv-002", FirstLeaf: 3, Count: 2, FirstSeq: 1 << 40, LastSeq: 1<<40 + 5}
	denc, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want = append([]byte("SPDR"), 1, 7)
	want = append(want, "inv-002"...)
	for _, v := range []uint64{3, 2, 1 << 40, 1<<40 + 5} {
		want = binary.BigEndian.AppendUint64(want, v)
	}
	if !bytes.Equal(denc, want) {
		t.Fatalf("device range encoding\n%x\nwant\n%x", denc, want)
	}
	if gd, err := anchor.DecodeDeviceRange(denc); err != nil || gd != d {
		t.Errorf("DecodeDeviceRange = %+v, %v", gd, err)
	}
}

func TestCommitmentRejects(t *testing.T) {
	for _, tc := range []struct {
		desc string
		mod  func(*anchor.Commitment)
	}{
		{"scheme", func(c *anchor.Commitment) { c.Scheme = 2 }},
		{"shard", func(c *anchor.Commitment) { c.Shard = "" }},
		{"shard too long", func(c *anchor.Commitment) { c.Shard = string(make([]byte, 65)) }},
		{"span", func(c *anchor.Commitment) { c.EndMS = c.StartMS }},
		{"late seq 0", func(c *anchor.Commitment) { c.Seq = 0 }},
		{"on time seq", func(c *anchor.Commitment) { c.Kind = anchor.KindOnTime }},
		{"kind", func(c *anchor.Commitment) { c.Kind = 7 }},
		{"size 0", func(c *anchor.Commitment) { c.Size = 0 }},
		{"no devices", func(c *anchor.Commitment) { c.DeviceCount = 0 }},
		{"more devices than leaves", func(c *anchor.Commitment) { c.DeviceCount = 6 }},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := sampleCommitment()
			tc.mod(&c)
			if _, err := c.MarshalBinary(); err == nil {
				t.Error("MarshalBinary succeeded")
			}
		})
	}
	for _, tc := range []struct {
		desc string
		d    anchor.DeviceRange
	}{
		{"bad id", anchor.DeviceRange{DeviceID: "a b", Count: 1}},
		{"zero count", anchor.DeviceRange{DeviceID: "a", Count: 0}},
		{"count above range", anchor.DeviceRange{DeviceID: "a", Count: 3, FirstSeq: 1, LastSeq: 2}},
		{"first after last", anchor.DeviceRange{DeviceID: "a", Count: 1, FirstSeq: 3, LastSeq: 2}},
		{"leaf overflow", anchor.DeviceRange{DeviceID: "a", FirstLeaf: 1<<64 - 1, Count: 2, LastSeq: 5}},
	} {
		t.Run("device range "+tc.desc, func(t *testing.T) {
			if _, err := tc.d.MarshalBinary(); err == nil {
				t.Error("MarshalBinary succeeded")
			}
		})
	}
	good, _ := func() ([]byte, error) { c := sampleCommitment(); return c.MarshalBinary() }()
	for _, tc := range []struct {
		desc string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(slices.Clone(good), 0)},
		{"magic", append([]byte("SPWD"), good[4:]...)},
		{"version", append(append([]byte("SPWC"), 2), good[5:]...)},
		{"shard length", func() []byte { b := slices.Clone(good); b[7] = 3; return b }()},
	} {
		t.Run("decode "+tc.desc, func(t *testing.T) {
			if _, err := anchor.DecodeCommitment(tc.b); err == nil {
				t.Error("DecodeCommitment succeeded")
			}
		})
	}
}

// FuzzDecodeCommitment: both binary decoders never panic and are strict
// (Encode(Decode(b)) == b).
func FuzzDecodeCommitment(f *testing.F) {
	c := sampleCommitment()
	good, _ := c.MarshalBinary()
	f.Add(good)
	f.Add([]byte("SPWC"))
	d := anchor.DeviceRange{DeviceID: "inv-1", FirstLeaf: 2, Count: 1, FirstSeq: 9, LastSeq: 9}
	denc, _ := d.MarshalBinary()
	f.Add(denc)
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := anchor.DecodeCommitment(b); err == nil {
			enc, err := c.MarshalBinary()
			if err != nil {
				t.Fatalf("decoded commitment does not encode: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatal("commitment: Encode(Decode(b)) != b")
			}
		}
		if d, err := anchor.DecodeDeviceRange(b); err == nil {
			enc, err := d.MarshalBinary()
			if err != nil {
				t.Fatalf("decoded device range does not encode: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatal("device range: Encode(Decode(b)) != b")
			}
		}
	})
}

// TestBatchOrder: the batch root does not depend on the order windows are
// given in, and the batch has the documented leaf order.
func TestBatchOrder(t *testing.T) {
	var cs []anchor.Commitment
	for _, shard := range []string{"p1", "p0"} {
		for _, k := range []struct {
			start int64
			kind  anchor.Kind
			seq   uint64
		}{{t0 + 900000, anchor.KindOnTime, 0}, {t0, anchor.KindLate, 3}, {t0, anchor.KindOnTime, 0}, {t0, anchor.KindLate, 1}} {
			c := sampleCommitment()
			c.Shard, c.StartMS, c.EndMS, c.Kind, c.Seq = shard, k.start, k.start+900000, k.kind, k.seq
			cs = append(cs, c)
		}
	}
	b1, err := anchor.NewBatch(t0, t0+3600000, cs)
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{
		"p0/1748772900000/on_time/0", "p0/1748772900000/late/1", "p0/1748772900000/late/3", "p0/1748773800000/on_time/0",
		"p1/1748772900000/on_time/0", "p1/1748772900000/late/1", "p1/1748772900000/late/3", "p1/1748773800000/on_time/0",
	}
	for i, id := range wantOrder {
		c := b1.Commitment(i)
		if got := c.ID(); got != id {
			t.Errorf("leaf %d is %s, want %s", i, got, id)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		b2, err := anchor.NewBatch(t0, t0+3600000, cs)
		if err != nil {
			t.Fatal(err)
		}
		if b2.Root() != b1.Root() {
			t.Fatal("batch root depends on input order")
		}
	}
	rec := b1.Record()
	if rec.Root != b1.Root() || rec.Size != 8 || rec.Scheme != 1 || rec.IntervalStartMS != t0 || rec.IntervalEndMS != t0+3600000 {
		t.Errorf("record %+v", rec)
	}
	if _, err := anchor.NewBatch(t0, t0+1, append(cs, cs[0])); err == nil {
		t.Error("NewBatch accepted a window twice")
	}
	if _, err := anchor.NewBatch(t0, t0+1, nil); err == nil {
		t.Error("NewBatch accepted no windows")
	}
	if _, err := anchor.NewBatch(t0, t0, cs); err == nil {
		t.Error("NewBatch accepted an empty interval")
	}
}
