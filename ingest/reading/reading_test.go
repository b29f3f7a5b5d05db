package reading

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

func sample() Reading {
	return Reading{
		DeviceID: "inv-0001", SiteID: "site-hefei-01", Seq: 42,
		TimeMS: time.Date(2026, 6, 21, 4, 30, 0, 0, time.UTC).UnixMilli(),
		Measurement: Measurement{
			ACPowerW: 4210.5, EnergyWh: 12_345_678, ACVoltageV: 230.1, FrequencyHz: 50.01,
			PowerFactor: 0.99, DCVoltageV: 380.2, DCCurrentA: 11.5, DCPowerW: 4372.3,
			TempC: 41.25, State: StateMPPT, Events: 0,
		},
	}
}

func signed(t testing.TB) (Reading, []byte) {
	t.Helper()
	r := sample()
	if err := r.Sign(testKey); err != nil {
		t.Fatal(err)
	}
	w, err := r.Wire()
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

func TestRoundTrip(t *testing.T) {
	r, w := signed(t)
	got, err := Decode(w)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if err := got.Verify(testKey.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	w2, err := got.Wire()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w2, w) {
		t.Fatalf("re-encoded wire differs:\n got %x\nwant %x", w2, w)
	}
	got.Sig = nil
	r.Sig = nil
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("decoded %+v, want %+v", got, r)
	}
	if got, want := len(w), r.CanonicalSize()+SigSize; got != want {
		t.Fatalf("wire size %d, want %d", got, want)
	}
}

func TestNegativeZeroCanonical(t *testing.T) {
	a, b := sample(), sample()
	a.ACPowerW, b.ACPowerW = 0, math.Copysign(0, -1)
	ca, _ := a.CanonicalBytes()
	cb, _ := b.CanonicalBytes()
	if !bytes.Equal(ca, cb) {
		t.Fatal("-0 and +0 must have the same canonical bytes")
	}
}

// TestDecodeRejects covers every framing failure Decode reports.
func TestDecodeRejects(t *testing.T) {
	_, w := signed(t)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(w)) }
	floatOff := 4 + 1 + 1 + len("inv-0001") + 1 + len("site-hefei-01") + 24
	cases := []struct {
		desc string
		in   []byte
		want Reason
	}{
		{"empty", nil, ReasonMalformed},
		{"short", w[:20], ReasonMalformed},
		{"oversized", make([]byte, MaxWireSize+1), ReasonOversized},
		{"bad magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), ReasonMalformed},
		{"bad version", mut(func(b []byte) []byte { b[4] = 9; return b }), ReasonMalformed},
		{"trailing byte", append(bytes.Clone(w), 0), ReasonMalformed},
		{"missing sig byte", w[:len(w)-1], ReasonMalformed},
		{"empty device id", mut(func(b []byte) []byte { b[5] = 0; return b }), ReasonSchema},
		{"id length past end", mut(func(b []byte) []byte { b[5] = 250; return b }), ReasonMalformed},
		{"bad id char", mut(func(b []byte) []byte { b[6] = '/'; return b }), ReasonSchema},
		{"NaN", mut(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[floatOff:], math.Float64bits(math.NaN()))
			return b
		}), ReasonNaNInf},
		{"+Inf", mut(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[floatOff+8:], math.Float64bits(math.Inf(1)))
			return b
		}), ReasonNaNInf},
		{"-0", mut(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[floatOff:], 1<<63)
			return b
		}), ReasonMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Decode(tc.in)
			if err == nil {
				t.Fatal("Decode accepted it")
			}
			if got := ReasonOf(err); got != tc.want {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey)
	cases := []struct {
		desc string
		edit func(r *Reading)
		key  ed25519.PublicKey
	}{
		{"changed power", func(r *Reading) { r.ACPowerW++ }, pub},
		{"changed seq", func(r *Reading) { r.Seq++ }, pub},
		{"changed energy", func(r *Reading) { r.EnergyWh-- }, pub},
		{"flipped sig bit", func(r *Reading) { r.Sig[3] ^= 1 }, pub},
		{"short sig", func(r *Reading) { r.Sig = r.Sig[:10] }, pub},
		{"other key", func(r *Reading) {}, other},
		{"bad key size", func(r *Reading) {}, pub[:5]},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			r, _ := signed(t)
			r.Sig = bytes.Clone(r.Sig)
			tc.edit(&r)
			err := r.Verify(tc.key)
			if !errors.Is(err, &Error{Reason: ReasonBadSignature}) {
				t.Fatalf("got %v, want bad_signature", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 6, 21, 5, 0, 0, 0, time.UTC)
	lim := DefaultLimits()
	lim.RatedW = 5000
	cases := []struct {
		desc string
		edit func(r *Reading)
		want Reason // "" = valid
	}{
		{"valid", func(r *Reading) {}, ""},
		{"night standby draw", func(r *Reading) { r.ACPowerW, r.DCPowerW, r.DCCurrentA = -5, 0, 0 }, ""},
		{"frequency not measured", func(r *Reading) { r.FrequencyHz = 0 }, ""},
		{"NaN power", func(r *Reading) { r.ACPowerW = math.NaN() }, ReasonNaNInf},
		{"-Inf temp", func(r *Reading) { r.TempC = math.Inf(-1) }, ReasonNaNInf},
		{"bad state", func(r *Reading) { r.State = 9 }, ReasonSchema},
		{"state 0", func(r *Reading) { r.State = 0 }, ReasonSchema},
		{"pf > 1", func(r *Reading) { r.PowerFactor = 1.2 }, ReasonSchema},
		{"frequency 5 Hz", func(r *Reading) { r.FrequencyHz = 5 }, ReasonSchema},
		{"negative dc current", func(r *Reading) { r.DCCurrentA = -1 }, ReasonSchema},
		{"negative ac voltage", func(r *Reading) { r.ACVoltageV = -1 }, ReasonSchema},
		{"temp 200", func(r *Reading) { r.TempC = 200 }, ReasonSchema},
		{"ts before 2000", func(r *Reading) { r.TimeMS = 1000 }, ReasonSchema},
		{"bad device id", func(r *Reading) { r.DeviceID = "a+b" }, ReasonSchema},
		{"ac above 1.2 rated", func(r *Reading) { r.ACPowerW = 6001 }, ReasonImplausible},
		{"ac at 1.2 rated", func(r *Reading) { r.ACPowerW = 6000 }, ""},
		{"dc above 1.2 rated", func(r *Reading) { r.DCPowerW, r.DCVoltageV, r.DCCurrentA = 7000, 700, 10 }, ReasonImplausible},
		{"large draw", func(r *Reading) { r.ACPowerW = -300 }, ReasonImplausible},
		{"dc power inconsistent", func(r *Reading) { r.DCPowerW = 2000 }, ReasonImplausible},
		{"future 6 min", func(r *Reading) { r.TimeMS = now.Add(6 * time.Minute).UnixMilli() }, ReasonFutureTimestamp},
		{"future 4 min", func(r *Reading) { r.TimeMS = now.Add(4 * time.Minute).UnixMilli() }, ""},
		{"hours old is fine", func(r *Reading) { r.TimeMS = now.Add(-30 * time.Hour).UnixMilli() }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			r := sample()
			tc.edit(&r)
			err := Check(&r, lim, now)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if got := ReasonOf(err); err == nil || got != tc.want {
				t.Fatalf("got %v, want reason %q", err, tc.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	_, w := signed(f)
	f.Add(w)
	f.Add(w[:40])
	f.Add([]byte("SPRD\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without reason: %v", err)
			}
			return
		}
		// Anything Decode accepts re-encodes to the same bytes.
		w2, err := r.Wire()
		if err != nil {
			t.Fatalf("decoded reading does not encode: %v", err)
		}
		if !bytes.Equal(w2, b) {
			t.Fatalf("round trip changed bytes:\n got %x\nwant %x", w2, b)
		}
		_ = Check(&r, DefaultLimits(), time.Now())
		_ = r.Verify(testKey.Public().(ed25519.PublicKey))
	})
}

func FuzzCanonical(f *testing.F) {
	f.Add("inv-1", "site-1", uint64(1), int64(1_750_000_000_000), uint64(99), 1500.5, 50.0, -0.0, uint16(4), uint32(3))
	f.Fuzz(func(t *testing.T, dev, site string, seq uint64, ts int64, wh uint64, p, hz, pf float64, st uint16, ev uint32) {
		r := Reading{DeviceID: dev, SiteID: site, Seq: seq, TimeMS: ts,
			Measurement: Measurement{ACPowerW: p, EnergyWh: wh, FrequencyHz: hz, PowerFactor: pf, State: st, Events: ev}}
		if err := r.Sign(testKey); err != nil {
			return // invalid ids or NaN/Inf: refused before signing
		}
		w, err := r.Wire()
		if err != nil {
			t.Fatalf("signed reading has no wire form: %v", err)
		}
		got, err := Decode(w)
		if err != nil {
			t.Fatalf("Decode(own wire): %v", err)
		}
		if err := got.Verify(testKey.Public().(ed25519.PublicKey)); err != nil {
			t.Fatalf("own signature: %v", err)
		}
		if got.Seq != seq || got.TimeMS != ts || got.EnergyWh != wh || got.DeviceID != dev {
			t.Fatalf("fields changed: %+v", got)
		}
	})
}

func BenchmarkDecodeVerify(b *testing.B) {
	_, w := signed(b)
	pub := testKey.Public().(ed25519.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Decode(w)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(w)), "B/msg")
}

func BenchmarkDecode(b *testing.B) {
	_, w := signed(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(w); err != nil {
			b.Fatal(err)
		}
	}
}
