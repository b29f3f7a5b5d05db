package httpapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/internal/httpapi"
)

func TestAddTokenAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	adm, err := httpapi.AddToken(path, httpapi.TokenEntry{Name: "ops", Role: httpapi.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := httpapi.AddToken(path, httpapi.TokenEntry{Name: "acme", Role: httpapi.RoleInstaller, Installer: "acme-solar"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpapi.AddToken(path, httpapi.TokenEntry{Name: "acme", Role: httpapi.RoleAdmin}); err == nil {
		t.Error("a second token named acme was accepted")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), adm) || strings.Contains(string(b), inst) {
		t.Fatal("the token file holds a plaintext token")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	tk, err := httpapi.LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := tk.Authenticate(inst); !ok || p.Role != httpapi.RoleInstaller || p.Installer != "acme-solar" || p.Name != "acme" {
		t.Errorf("Authenticate(installer token) = %+v, %t", p, ok)
	}
	if p, ok := tk.Authenticate(adm); !ok || p.Role != httpapi.RoleAdmin {
		t.Errorf("Authenticate(admin token) = %+v, %t", p, ok)
	}
	for _, bad := range []string{"", "sp_", adm + "x", strings.ToUpper(adm)} {
		if _, ok := tk.Authenticate(bad); ok {
			t.Errorf("Authenticate(%q) succeeded", bad)
		}
	}
}

func TestTokenFileValidate(t *testing.T) {
	h := hashHex("x")
	for _, tc := range []struct {
		desc string
		e    httpapi.TokenEntry
	}{
		{"no name", httpapi.TokenEntry{SHA256: h, Role: httpapi.RoleAdmin}},
		{"short hash", httpapi.TokenEntry{Name: "a", SHA256: "abcd", Role: httpapi.RoleAdmin}},
		{"uppercase hash", httpapi.TokenEntry{Name: "a", SHA256: strings.ToUpper(h), Role: httpapi.RoleAdmin}},
		{"unknown role", httpapi.TokenEntry{Name: "a", SHA256: h, Role: "root"}},
		{"installer without installer", httpapi.TokenEntry{Name: "a", SHA256: h, Role: httpapi.RoleInstaller}},
		{"bank without loans", httpapi.TokenEntry{Name: "a", SHA256: h, Role: httpapi.RoleBank}},
		{"admin with loans", httpapi.TokenEntry{Name: "a", SHA256: h, Role: httpapi.RoleAdmin, Loans: []string{"L"}}},
	} {
		if _, err := httpapi.NewTokens(httpapi.TokenFile{Tokens: []httpapi.TokenEntry{tc.e}}); err == nil {
			t.Errorf("%s: accepted", tc.desc)
		}
	}
	two := httpapi.TokenFile{Tokens: []httpapi.TokenEntry{{Name: "a", SHA256: h, Role: httpapi.RoleAdmin}, {Name: "b", SHA256: h, Role: httpapi.RoleVerifier}}}
	if _, err := httpapi.NewTokens(two); err == nil {
		t.Error("two entries with the same hash accepted")
	}
}
