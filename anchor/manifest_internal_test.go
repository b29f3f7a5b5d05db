package anchor

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestWiresRoundTrip(t *testing.T) {
	var wires [][]byte
	for i := range 5 {
		wires = append(wires, bytes.Repeat([]byte{byte(i)}, 10+i))
	}
	w := &Window{wires: wires}
	enc := encodeWires(w)
	got, err := decodeWires(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, wires, bytes.Equal) {
		t.Errorf("decoded %x, want %x", got, wires)
	}
	for _, tc := range []struct {
		desc string
		b    []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("XPWF"), enc[4:]...)},
		{"bad version", append(append([]byte("SPWF"), 2), enc[5:]...)},
		{"truncated", enc[:len(enc)-1]},
		{"trailing", append(slices.Clone(enc), 0)},
		{"zero count", append([]byte("SPWF\x01"), make([]byte, 8)...)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := decodeWires(tc.b); err == nil {
				t.Error("decoded")
			}
		})
	}
}

func FuzzDecodeWires(f *testing.F) {
	f.Add(encodeWires(&Window{wires: [][]byte{[]byte("a"), []byte("bc")}}))
	f.Add([]byte("SPWF\x01\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		wires, err := decodeWires(b)
		if err != nil {
			return
		}
		if got := encodeWires(&Window{wires: wires}); !bytes.Equal(got, b) {
			t.Errorf("re-encoding differs: %x, want %x", got, b)
		}
	})
}

func TestIndexRecord(t *testing.T) {
	e := IndexEntry{Seq: 1<<63 + 5, IntervalStartMS: 1_748_773_800_000, Window: 7, Leaf: 123456}
	b := appendIndexRecord(nil, e)
	if len(b) != IndexRecordSize {
		t.Fatalf("%d bytes, want %d", len(b), IndexRecordSize)
	}
	if got, ok := decodeIndexRecord(b); !ok || got != e {
		t.Errorf("decoded %+v %t, want %+v", got, ok, e)
	}
	for i := range b {
		c := slices.Clone(b)
		c[i] ^= 0x10
		if _, ok := decodeIndexRecord(c); ok {
			t.Errorf("record with byte %d flipped decodes", i)
		}
	}
}

func TestSealedJSON(t *testing.T) {
	type v struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	data, err := sealJSON("value", v{1, "x"})
	if err != nil {
		t.Fatal(err)
	}
	var got v
	if err := unsealJSON(data, "value", &got); err != nil || got != (v{1, "x"}) {
		t.Fatalf("unseal: %+v, %v", got, err)
	}
	for _, tc := range []struct{ desc, from, to string }{
		{"value edited", `"a":1`, `"a":2`},
		{"checksum edited", `"sha256":"`, `"sha256":"00`},
		{"key renamed", `"value"`, `"other"`},
		{"truncated", "}\n", ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			bad := strings.Replace(string(data), tc.from, tc.to, 1)
			if err := unsealJSON([]byte(bad), "value", &got); !errors.Is(err, ErrCorrupt) {
				t.Errorf("unseal: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestDeviceSeqs checks the range set against a map.
func TestDeviceSeqs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		var d deviceSeqs
		want := map[uint64]bool{}
		for range 200 {
			s := uint64(rnd.IntN(300))
			if round%2 == 0 {
				s = uint64(rnd.IntN(40)) * 7 // sparse
			}
			d.add(s)
			want[s] = true
		}
		for s := range uint64(320) {
			if d.has(s) != want[s] {
				t.Fatalf("round %d: has(%d) = %t, want %t (ranges %v)", round, s, d.has(s), want[s], d.ranges)
			}
		}
		for i := 1; i < len(d.ranges); i++ {
			if d.ranges[i].from <= d.ranges[i-1].to+1 {
				t.Fatalf("ranges %v overlap or touch", d.ranges)
			}
		}
	}
	var d deviceSeqs
	for s := range uint64(100_000) {
		d.add(s)
	}
	if len(d.ranges) != 1 {
		t.Errorf("contiguous seqs make %d ranges, want 1", len(d.ranges))
	}
}

func TestParseFailpoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want failpoint
		ok   bool
	}{
		{"", failpoint{}, true},
		{"after-prepare", failpoint{name: FailAfterPrepare, nth: 1}, true},
		{"during-submit:4", failpoint{name: FailDuringSubmit, nth: 4}, true},
		{"after-commit:1", failpoint{name: FailAfterCommit, nth: 1}, true},
		{"after-mark:-1", failpoint{}, false},
		{"after-mark:x", failpoint{}, false},
		{"before-submit", failpoint{}, false},
	} {
		got, err := parseFailpoint(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseFailpoint(%q) = %+v, %v; want %+v, ok %t", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFileNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{manifestFile(1_748_773_800_000), "intervals/20250601/0001748773800000.manifest.json"},
		{receiptFile(1_748_773_800_000), "intervals/20250601/0001748773800000.anchored.json"},
		{windowFile(1_748_773_800_000, "p3/1748772900000/late/2"), "windows/20250601/0001748773800000/p3~1748772900000~late~2.wires"},
		{indexFile(".."), "index/...idx"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if v, ok := parseIntervalName("0001748773800000.manifest.json", manifestSuffix); !ok || v != 1_748_773_800_000 {
		t.Errorf("parseIntervalName: %d %t", v, ok)
	}
	for _, bad := range []string{"1748773800000.manifest.json", "000174877380000x.manifest.json", "0001748773800000.anchored.json"} {
		if _, ok := parseIntervalName(bad, manifestSuffix); ok {
			t.Errorf("parseIntervalName(%q) accepted", bad)
		}
	}
}

// FuzzManifestDecode: reading a manifest file never panics, whatever its
// bytes; nor does validating whatever JSON decodes as a manifest (the
// checksum would stop most of it first).
func FuzzManifestDecode(f *testing.F) {
	m := &Manifest{Format: ManifestFormat, Version: StoreFormatVersion, IntervalStartMS: 1, IntervalEndMS: 2,
		Batch:   ManifestBatch{Scheme: 1, Size: 1, Root: make([]byte, 32)},
		Windows: []ManifestWindow{{ID: "p0/0/on_time/0", Commitment: []byte("SPWC")}}}
	data, _ := sealJSON("manifest", m)
	f.Add(data)
	f.Add([]byte(`{"sha256":"00","manifest":{}}`))
	body, _ := json.Marshal(m)
	f.Add(body)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Manifest
		if err := unsealJSON(data, "manifest", &m); err != nil {
			m = Manifest{}
			if json.Unmarshal(data, &m) != nil {
				return
			}
		}
		_, _ = m.Validate()
		_, _ = m.AnchorTx()
	})
}
