package reading

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite ingest/testdata/vectors.json")

const vectorsFile = "../testdata/vectors.json"

// Vector is one published test vector (see docs/formats/reading.md).
type vector struct {
	Name         string  `json:"name"`
	Comment      string  `json:"comment,omitempty"`
	SeedHex      string  `json:"ed25519_seed_hex,omitempty"`
	PublicKeyHex string  `json:"public_key_hex,omitempty"`
	Reading      *View   `json:"reading,omitempty"`
	CanonicalHex string  `json:"canonical_hex,omitempty"`
	CanonicalSHA string  `json:"canonical_sha256_hex,omitempty"`
	SignatureHex string  `json:"signature_hex,omitempty"`
	WireHex      string  `json:"wire_hex"`
	LeafHashHex  string  `json:"leaf_hash_hex,omitempty"`
	Valid        bool    `json:"valid"`
	WantReason   Reason  `json:"reason,omitempty"`
	ReceiverTime string  `json:"receiver_time,omitempty"`
	RatedW       float64 `json:"rated_w,omitempty"`
}

func makeVectors(t *testing.T) []vector {
	seed := bytes.Repeat([]byte{0x5a}, 32)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	recv := time.Date(2026, 6, 21, 5, 0, 0, 0, time.UTC)
	good := func(edit func(r *Reading)) (Reading, []byte) {
		r := sample()
		edit(&r)
		if err := r.Sign(key); err != nil {
			t.Fatal(err)
		}
		w, err := r.Wire()
		if err != nil {
			t.Fatal(err)
		}
		return r, w
	}
	valid := func(name, comment string, edit func(r *Reading)) vector {
		r, w := good(edit)
		c, _ := r.CanonicalBytes()
		sum := sha256.Sum256(c)
		leaf := LeafHash(w)
		v := r.View()
		return vector{Name: name, Comment: comment, SeedHex: hex.EncodeToString(seed),
			PublicKeyHex: hex.EncodeToString(pub), Reading: &v,
			CanonicalHex: hex.EncodeToString(c), CanonicalSHA: hex.EncodeToString(sum[:]),
			SignatureHex: hex.EncodeToString(r.Sig), WireHex: hex.EncodeToString(w),
			LeafHashHex: hex.EncodeToString(leaf[:]), Valid: true,
			ReceiverTime: recv.Format(time.RFC3339), RatedW: 5000}
	}
	invalid := func(name, comment string, reason Reason, wire []byte) vector {
		return vector{Name: name, Comment: comment, PublicKeyHex: hex.EncodeToString(pub),
			WireHex: hex.EncodeToString(wire), WantReason: reason,
			ReceiverTime: recv.Format(time.RFC3339), RatedW: 5000}
	}
	_, base := good(func(*Reading) {})
	tampered := bytes.Clone(base)
	tampered[len(tampered)-SigSize-7] ^= 0x01 // a bit of the state/events field
	_, hot := good(func(r *Reading) { r.ACPowerW = 9000; r.DCPowerW, r.DCVoltageV, r.DCCurrentA = 0, 0, 0 })
	_, future := good(func(r *Reading) { r.TimeMS = recv.Add(time.Hour).UnixMilli() })
	negZero := func() []byte {
		r := sample()
		r.PowerFactor = math.Copysign(0, -1)
		_ = r.Sign(key)
		w, _ := r.Wire()
		off := 4 + 1 + 1 + len(r.DeviceID) + 1 + len(r.SiteID) + 24 + 3*8
		w[off] = 0x80 // hand-write -0 in the power factor field
		return w
	}()
	return []vector{
		valid("daytime-mppt", "a typical daytime reading", func(*Reading) {}),
		valid("night-standby", "standby at night: small negative AC power, no DC, frequency measured", func(r *Reading) {
			r.Seq, r.TimeMS = 43, r.TimeMS-6*3600_000
			r.ACPowerW, r.DCPowerW, r.DCCurrentA, r.DCVoltageV, r.State = -3.5, 0, 0, 12.25, StateSleeping
		}),
		valid("fault-events", "fault state with GROUND_FAULT and OVER_TEMP event bits; max-length ids", func(r *Reading) {
			r.DeviceID = string(bytes.Repeat([]byte("d"), MaxIDLen))
			r.SiteID = string(bytes.Repeat([]byte("S"), MaxIDLen))
			r.Seq = math.MaxUint64
			r.ACPowerW, r.DCPowerW, r.DCCurrentA, r.State, r.Events = 0, 0, 0, StateFault, EvtGroundFault|EvtOverTemp
		}),
		invalid("tampered-state", "one bit of the signed body flipped after signing", ReasonBadSignature, tampered),
		invalid("truncated", "last signature byte missing", ReasonMalformed, base[:len(base)-1]),
		invalid("trailing-byte", "one byte after the signature", ReasonMalformed, append(bytes.Clone(base), 0)),
		invalid("bad-magic", "magic is not SPRD", ReasonMalformed, append([]byte("XPRD"), base[4:]...)),
		invalid("negative-zero", "a float field holds -0, which is never canonical", ReasonMalformed, negZero),
		invalid("above-capacity", "9 kW from a 5 kWp plant (limit 1.2 × rated)", ReasonImplausible, hot),
		invalid("future", "timestamp one hour ahead of the receiver (limit 5 min)", ReasonFutureTimestamp, future),
	}
}

// checkVector validates a wire message the way a receiver with only the
// public key would: decode, check values, verify the signature.
func checkVector(v vector) error {
	w, err := hex.DecodeString(v.WireHex)
	if err != nil {
		return err
	}
	pub, _ := hex.DecodeString(v.PublicKeyHex)
	now, _ := time.Parse(time.RFC3339, v.ReceiverTime)
	r, err := Decode(w)
	if err != nil {
		return err
	}
	lim := DefaultLimits()
	lim.RatedW = v.RatedW
	if err := Check(&r, lim, now); err != nil {
		return err
	}
	return r.Verify(pub)
}

func TestVectors(t *testing.T) {
	vs := makeVectors(t)
	if *update {
		b, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(vectorsFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	var published []vector
	if err := json.Unmarshal(b, &published); err != nil {
		t.Fatal(err)
	}
	if got, want := len(published), len(vs); got != want {
		t.Fatalf("%d published vectors, generator makes %d: run with -update", got, want)
	}
	for i, v := range published {
		t.Run(v.Name, func(t *testing.T) {
			if v.WireHex != vs[i].WireHex {
				t.Fatalf("published wire differs from the generator's: run with -update")
			}
			err := checkVector(v)
			if v.Valid {
				if err != nil {
					t.Fatalf("valid vector rejected: %v", err)
				}
				w, _ := hex.DecodeString(v.WireHex)
				c, _ := hex.DecodeString(v.CanonicalHex)
				if !bytes.HasPrefix(w, c) {
					t.Fatal("wire does not start with canonical bytes")
				}
				if sum := sha256.Sum256(c); hex.EncodeToString(sum[:]) != v.CanonicalSHA {
					t.Fatal("canonical sha256 mismatch")
				}
				if l := LeafHash(w); hex.EncodeToString(l[:]) != v.LeafHashHex {
					t.Fatal("leaf hash mismatch")
				}
				r, err := v.Reading.Reading()
				if err != nil {
					t.Fatal(err)
				}
				if rc, _ := r.CanonicalBytes(); !bytes.Equal(rc, c) {
					t.Fatal("JSON view does not rebuild the canonical bytes")
				}
				return
			}
			if got := ReasonOf(err); err == nil || got != v.WantReason {
				t.Fatalf("got %v, want reason %q", err, v.WantReason)
			}
		})
	}
}
