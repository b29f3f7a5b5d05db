package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
)

// proofVector is the part of an anchor/testdata/proofs file that `sunproof
// verify` needs: the chain state and the expected online result.
type proofVector struct {
	Chain struct {
		ChainID  uint64 `json:"chain_id"`
		Contract string `json:"contract"`
		Anchors  []struct {
			Start  int64      `json:"interval_start_ms"`
			End    int64      `json:"interval_end_ms"`
			Root   anchor.Hex `json:"root"`
			Size   uint64     `json:"size"`
			Scheme uint8      `json:"scheme"`
		} `json:"anchors"`
		DeviceKeys []struct {
			DeviceID     string     `json:"device_id"`
			PublicKey    anchor.Hex `json:"public_key"`
			RegisteredAt int64      `json:"registered_at_ms"`
			RevokedAt    int64      `json:"revoked_at_ms"`
			RevokedBlock uint64     `json:"revoked_block"`
			Rotated      bool       `json:"rotated"`
		} `json:"device_keys"`
	} `json:"chain"`
	WantOnline anchor.Step     `json:"want_online"`
	Bundle     json.RawMessage `json:"bundle"`
}

func (v *proofVector) chain() *anchorfake.Chain {
	c := anchorfake.New(v.Chain.ChainID, v.Chain.Contract)
	for _, a := range v.Chain.Anchors {
		var root anchor.Hash
		copy(root[:], a.Root)
		c.AddAnchor(anchor.AnchorRecord{IntervalStartMS: a.Start, IntervalEndMS: a.End, Root: root, Size: a.Size, Scheme: a.Scheme})
	}
	for _, k := range v.Chain.DeviceKeys {
		c.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: k.DeviceID, PublicKey: []byte(k.PublicKey),
			RegisteredAtMS: k.RegisteredAt, RevokedAtMS: k.RevokedAt, RevokedBlock: k.RevokedBlock, Rotated: k.Rotated})
	}
	return c
}

// TestVerifyBundleVectors runs the command's verification on every test
// vector: one line, OK or FAIL with the vector's first failing step.
func TestVerifyBundleVectors(t *testing.T) {
	files, err := filepath.Glob("../../anchor/testdata/proofs/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v proofVector
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			line, ok := verifyBundle(context.Background(), v.Bundle, v.chain(), "")
			if strings.Contains(line, "\n") {
				t.Errorf("output is not one line: %q", line)
			}
			switch {
			case v.WantOnline == "" && (!ok || !strings.HasPrefix(line, "OK ")):
				t.Errorf("got %q, want OK", line)
			case v.WantOnline != "" && (ok || !strings.HasPrefix(line, "FAIL "+string(v.WantOnline)+": ")):
				t.Errorf("got %q, want FAIL %s", line, v.WantOnline)
			}
		})
	}
}

func TestVerifyBundlePinnedContract(t *testing.T) {
	data, err := os.ReadFile("../../anchor/testdata/proofs/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	var v proofVector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if line, ok := verifyBundle(ctx, v.Bundle, v.chain(), strings.ToUpper(v.Chain.Contract[:2])+v.Chain.Contract[2:]); !ok {
		t.Errorf("pinned to the bundle's own contract: %q", line)
	}
	line, ok := verifyBundle(ctx, v.Bundle, v.chain(), "0x00000000000000000000000000000000deadbeef")
	if ok || !strings.HasPrefix(line, "FAIL device_key: ") || !strings.Contains(line, "trusted contract") {
		t.Errorf("pinned to another contract: %q", line)
	}
	if line, ok := verifyBundle(ctx, []byte("{not json"), v.chain(), ""); ok || !strings.HasPrefix(line, "FAIL decode: ") {
		t.Errorf("garbage: %q", line)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  string
		rpc  string
	}{
		{[]string{"b.json", "--rpc", "http://x"}, "b.json", "http://x"},
		{[]string{"--rpc", "http://x", "b.json"}, "b.json", "http://x"},
		{[]string{"-rpc=http://x", "a", "b"}, "a b", "http://x"},
		{[]string{"a", "--", "-b"}, "a -b", ""},
	} {
		fs := newTestFlagSet()
		rpc := fs.String("rpc", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || strings.Join(pos, " ") != tc.pos || *rpc != tc.rpc {
			t.Errorf("%q: positional %q rpc %q (%v), want %q %q", tc.args, pos, *rpc, err, tc.pos, tc.rpc)
		}
	}
}

func newTestFlagSet() *flag.FlagSet { return flag.NewFlagSet("test", flag.ContinueOnError) }
