package sunproofanchor_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

// The bindings embed the ABI and bytecode of ../build; check.sh regenerates
// both with solc and abigen, this test only checks that they agree, so it
// runs without node.
func TestBindingsMatchBuild(t *testing.T) {
	bin, err := os.ReadFile("../build/SunproofAnchor.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sunproofanchor.SunproofAnchorMetaData.Bin, "0x"+string(bin); got != want {
		t.Error("bindings.go Bin differs from build/SunproofAnchor.bin: run contracts/gen.sh")
	}
	abiFile, err := os.ReadFile("../build/SunproofAnchor.abi.json")
	if err != nil {
		t.Fatal(err)
	}
	// abigen drops all spaces from the ABI, even inside strings
	// ("enum SunproofAnchor.Role" becomes "enumSunproofAnchor.Role").
	var got, want any
	if err := json.Unmarshal([]byte(sunproofanchor.SunproofAnchorMetaData.ABI), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(abiFile), " ", "")), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("bindings.go ABI differs from build/SunproofAnchor.abi.json: run contracts/gen.sh")
	}
}

// postParis lists opcodes a Paris (or older) EVM rejects as invalid.
var postParis = map[byte]string{
	0x1e: "CLZ", 0x49: "BLOBHASH", 0x4a: "BLOBBASEFEE",
	0x5c: "TLOAD", 0x5d: "TSTORE", 0x5e: "MCOPY", 0x5f: "PUSH0",
}

// TestRuntimeCodeIsParis checks the deployed code for opcodes newer than the
// evmVersion build.mjs compiles for, which consortium chains would reject.
func TestRuntimeCodeIsParis(t *testing.T) {
	e := newEnv(t, envConfig{})
	code, err := e.client.CodeAt(context.Background(), e.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) < 2 {
		t.Fatalf("no code at %s", e.addr)
	}
	// Drop the CBOR metadata solc appends; its length is in the last 2 bytes.
	meta := int(code[len(code)-2])<<8 | int(code[len(code)-1])
	if meta+2 > len(code) {
		t.Fatalf("bad metadata length %d", meta)
	}
	// The metadata records the compiler: solc 0.8.37 is a2 64 "solc" 43 00 08 25.
	if m := hex.EncodeToString(code[len(code)-2-meta:]); !strings.Contains(m, "64736f6c6343000825") {
		t.Errorf("metadata %s does not name solc 0.8.37", m)
	}
	code = code[:len(code)-2-meta]
	for pc := 0; pc < len(code); pc++ {
		op := code[pc]
		if name, bad := postParis[op]; bad {
			t.Fatalf("%s (0x%02x) at offset %d", name, op, pc)
		}
		if op >= 0x60 && op <= 0x7f { // PUSH1..PUSH32
			pc += int(op - 0x5f)
		}
	}
}
