package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/atomicfile"
)

// Role is what a token may see.
type Role string

// Roles. See doc.go for what each may read.
const (
	RoleAdmin     Role = "admin"     // everything
	RoleInstaller Role = "installer" // its own installer's sites and devices
	RoleBank      Role = "bank"      // the devices and sites of the loans in its portfolio
	RoleVerifier  Role = "verifier"  // devices (keys), anchors, proofs and carbon reports
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleInstaller, RoleBank, RoleVerifier}

// AllLoans in a bank token's loans gives it every device with a loan.
const AllLoans = "*"

// Principal is the holder of a token.
type Principal struct {
	Name      string   `json:"name"`
	Role      Role     `json:"role"`
	Installer string   `json:"installer,omitempty"` // installer role: the devices' installer field
	Loans     []string `json:"loans,omitempty"`     // bank role: loan refs, or ["*"]
}

// TokenEntry is one token in a token file. Only the token's SHA-256 is
// stored.
type TokenEntry struct {
	Name      string   `yaml:"name" json:"name"`
	SHA256    string   `yaml:"sha256" json:"sha256"` // lowercase hex of SHA-256(token)
	Role      Role     `yaml:"role" json:"role"`
	Installer string   `yaml:"installer,omitempty" json:"installer,omitempty"`
	Loans     []string `yaml:"loans,omitempty" json:"loans,omitempty"`
}

// TokenFile is the YAML (or JSON) document holding the tokens:
//
//	tokens:
//	  - name: acme-ops
//	    sha256: 5e88…   # sha256 of the token, hex
//	    role: installer
//	    installer: acme-solar
type TokenFile struct {
	Tokens []TokenEntry `yaml:"tokens" json:"tokens"`
}

// Validate checks every entry.
func (f *TokenFile) Validate() error {
	names := map[string]bool{}
	hashes := map[string]bool{}
	for i, e := range f.Tokens {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("token %d (%q): %s", i, e.Name, fmt.Sprintf(format, args...))
		}
		if e.Name == "" || names[e.Name] {
			return bad("name is empty or repeated")
		}
		names[e.Name] = true
		if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != sha256.Size || strings.ToLower(e.SHA256) != e.SHA256 {
			return bad("sha256 must be 64 lowercase hex digits")
		}
		if hashes[e.SHA256] {
			return bad("the same token hash appears twice")
		}
		hashes[e.SHA256] = true
		switch e.Role {
		case RoleAdmin, RoleVerifier:
			if e.Installer != "" || len(e.Loans) > 0 {
				return bad("role %s takes neither installer nor loans", e.Role)
			}
		case RoleInstaller:
			if e.Installer == "" || len(e.Loans) > 0 {
				return bad("role installer needs installer and takes no loans")
			}
		case RoleBank:
			if len(e.Loans) == 0 || e.Installer != "" {
				return bad("role bank needs loans (loan refs, or %q for all) and takes no installer", AllLoans)
			}
		default:
			return bad("unknown role %q", e.Role)
		}
	}
	return nil
}

// Tokens authenticates bearer tokens against a token file's hashes.
// It is immutable and safe for concurrent use.
type Tokens struct {
	byHash map[[sha256.Size]byte]Principal
}

// NewTokens indexes a validated token file.
func NewTokens(f TokenFile) (*Tokens, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	t := &Tokens{byHash: make(map[[sha256.Size]byte]Principal, len(f.Tokens))}
	for _, e := range f.Tokens {
		var h [sha256.Size]byte
		hex.Decode(h[:], []byte(e.SHA256))
		t.byHash[h] = Principal{Name: e.Name, Role: e.Role, Installer: e.Installer, Loans: slices.Clone(e.Loans)}
	}
	return t, nil
}

// LoadTokens reads a token file (YAML; JSON is YAML too).
func LoadTokens(path string) (*Tokens, error) {
	f, err := ReadTokenFile(path)
	if err != nil {
		return nil, err
	}
	t, err := NewTokens(f)
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	return t, nil
}

// ReadTokenFile parses a token file; a missing file is an empty one.
func ReadTokenFile(path string) (TokenFile, error) {
	var f TokenFile
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("token file: %w", err)
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("token file %s: %w", path, err)
	}
	return f, nil
}

// Authenticate returns the principal holding token.
func (t *Tokens) Authenticate(token string) (Principal, bool) {
	if t == nil || token == "" {
		return Principal{}, false
	}
	p, ok := t.byHash[HashToken(token)]
	return p, ok
}

// HashToken is what a token file stores of a token.
func HashToken(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// tokenPrefix marks Sunproof API tokens, so that a leaked one is
// recognisable in logs and by secret scanners.
const tokenPrefix = "sp_"

// NewToken returns a fresh random token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// AddToken creates a token for entry (its SHA256 is filled in), appends it
// to the token file at path (created if missing, written atomically with
// mode 0600) and returns the token, which is not stored anywhere.
func AddToken(path string, entry TokenEntry) (string, error) {
	f, err := ReadTokenFile(path)
	if err != nil {
		return "", err
	}
	tok, err := NewToken()
	if err != nil {
		return "", err
	}
	h := HashToken(tok)
	entry.SHA256 = hex.EncodeToString(h[:])
	f.Tokens = append(f.Tokens, entry)
	if err := f.Validate(); err != nil {
		return "", err
	}
	b, err := yaml.Marshal(&f)
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(path, b, atomicfile.Options{Perm: 0o600, Sync: true}); err != nil {
		return "", err
	}
	return tok, nil
}

// SessionCookie is the cookie the web UI keeps the token in. The API
// accepts it for GET and HEAD only, so a cross-site form cannot use it.
const SessionCookie = "sunproof_token"

var (
	errNoCredentials  = errors.New("missing credentials: send Authorization: Bearer <token>")
	errBadCredentials = errors.New("invalid token")
)

// credentials returns the request's token: the bearer token, or for safe
// methods the session cookie.
func credentials(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", errBadCredentials
		}
		return strings.TrimSpace(tok), nil
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", errNoCredentials
}

// AuthenticateRequest returns the principal of a request.
func (t *Tokens) AuthenticateRequest(r *http.Request) (Principal, error) {
	tok, err := credentials(r)
	if err != nil {
		return Principal{}, err
	}
	p, ok := t.Authenticate(tok)
	if !ok {
		return Principal{}, errBadCredentials
	}
	return p, nil
}

// SeesDevice reports whether p may see device d.
func (p *Principal) SeesDevice(d *devices.Device) bool {
	switch p.Role {
	case RoleAdmin, RoleVerifier:
		return true
	case RoleInstaller:
		return d.Installer == p.Installer
	case RoleBank:
		return p.hasLoan(d.LoanRef)
	}
	return false
}

// SeesLoan reports whether p may see the loan ref.
func (p *Principal) SeesLoan(ref string) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleBank:
		return p.hasLoan(ref)
	}
	return false
}

func (p *Principal) hasLoan(ref string) bool {
	return ref != "" && (slices.Contains(p.Loans, AllLoans) || slices.Contains(p.Loans, ref))
}

// seesSite reports whether p may see site s, given the ids of the sites of
// the devices p sees.
func (p *Principal) seesSite(s *devices.Site, deviceSites map[string]bool) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleInstaller:
		return s.Installer == p.Installer || deviceSites[s.ID]
	case RoleBank:
		return p.hasLoan(s.LoanRef) || deviceSites[s.ID]
	}
	return false
}
