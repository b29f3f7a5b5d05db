package anchor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/sunproof/sunproof/anchor"
)

func TestImportDevKeyAndLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte("s3cret\r\nignored second line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, err := anchor.ImportDevKey("0x"+anchor.GethDevKey, "s3cret", dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("keystore file %s: %v, mode %v, want 0600", path, err, fi.Mode())
	}
	key, err := anchor.LoadKey(path, pwFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := crypto.PubkeyToAddress(key.PublicKey).Hex(), "0x71562b71999873DB5b286dF957af199Ec94617F7"; got != want {
		t.Errorf("address %s, want %s", got, want)
	}
	raw, _ := os.ReadFile(path)
	if len(raw) == 0 || strings.Contains(string(raw), anchor.GethDevKey) {
		t.Error("keystore file holds the raw key")
	}

	again, err := anchor.ImportDevKey(anchor.GethDevKey, "s3cret", dir)
	if err != nil || again != path {
		t.Errorf("import again = %q, %v, want %q", again, err, path)
	}
	if _, err := anchor.ImportDevKey(anchor.GethDevKey, "other", dir); err == nil {
		t.Error("import over an existing file with another password succeeded")
	}

	wrongPW := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrongPW, []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc, keystore, password string
	}{
		{"wrong password", path, wrongPW},
		{"missing keystore", filepath.Join(dir, "none.json"), pwFile},
		{"missing password file", path, filepath.Join(dir, "none")},
		{"no password file", path, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := anchor.LoadKey(tc.keystore, tc.password); err == nil {
				t.Error("LoadKey succeeded")
			}
		})
	}
	if _, err := anchor.ImportDevKey("not hex", "x", dir); err == nil {
		t.Error("ImportDevKey accepted a bad key")
	}
}
