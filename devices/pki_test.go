package devices

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGenerateKeyPEMRoundTrip(t *testing.T) {
	pub, priv, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := EncodePrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("private key PEM starts %q", privPEM[:30])
	}
	gotPriv, err := DecodePrivateKeyPEM(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !gotPriv.Equal(priv) {
		t.Error("private key changed in the PEM round trip")
	}

	pubPEM, err := EncodePublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Errorf("public key PEM starts %q", pubPEM[:30])
	}
	gotPub, err := DecodePublicKeyPEM(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !gotPub.Equal(pub) {
		t.Error("public key changed in the PEM round trip")
	}
	if !gotPriv.Public().(ed25519.PublicKey).Equal(gotPub) {
		t.Error("decoded keys do not form a pair")
	}
}

func TestGenerateKeyDeterministic(t *testing.T) {
	seed := bytes.NewReader(bytes.Repeat([]byte{1}, 32))
	pub, _, err := GenerateKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pub, testKey(1); !got.Equal(want) {
		t.Errorf("GenerateKey(seed 0x01…) = %x, want %x", got, want)
	}
}

// An Ed25519 key written by `openssl genpkey -algorithm ed25519` (PKCS #8)
// and its public half from `openssl pkey -pubout`.
const (
	opensslEd25519Priv = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB
-----END PRIVATE KEY-----
`
	opensslEd25519Pub = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=
-----END PUBLIC KEY-----
`
)

func TestPEMMatchesOpenSSL(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	got, err := EncodePrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != opensslEd25519Priv {
		t.Errorf("EncodePrivateKeyPEM = %s, want %s", got, opensslEd25519Priv)
	}
	got, err = EncodePublicKeyPEM(priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != opensslEd25519Pub {
		t.Errorf("EncodePublicKeyPEM = %s, want %s", got, opensslEd25519Pub)
	}
}

func TestPEMDecodeErrors(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }

	for _, tc := range []struct {
		desc    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "no PEM block"},
		{"public as private", []byte(opensslEd25519Pub), `PEM type "PUBLIC KEY"`},
		{"EC key", pemOf("PRIVATE KEY", ecDER), "want Ed25519"},
		{"garbage DER", pemOf("PRIVATE KEY", []byte{1, 2, 3}), "decode private key"},
	} {
		if _, err := DecodePrivateKeyPEM(tc.data); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("DecodePrivateKeyPEM(%s) = %v, want error containing %q", tc.desc, err, tc.wantErr)
		}
	}
	for _, tc := range []struct {
		desc    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "no PEM block"},
		{"private as public", []byte(opensslEd25519Priv), `PEM type "PRIVATE KEY"`},
		{"EC key", pemOf("PUBLIC KEY", ecPubDER), "want Ed25519"},
	} {
		if _, err := DecodePublicKeyPEM(tc.data); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("DecodePublicKeyPEM(%s) = %v, want error containing %q", tc.desc, err, tc.wantErr)
		}
	}
	if _, err := EncodePrivateKeyPEM(make(ed25519.PrivateKey, 10)); err == nil {
		t.Error("EncodePrivateKeyPEM accepted a 10-byte key")
	}
	if _, err := EncodePublicKeyPEM(make(ed25519.PublicKey, 10)); err == nil {
		t.Error("EncodePublicKeyPEM accepted a 10-byte key")
	}
}

// TestLoadCA loads CAs made by openssl (testdata/ca/gen.sh) with every key
// type and encoding we accept, issues a client certificate with each and
// verifies it.
func TestLoadCA(t *testing.T) {
	for _, name := range []string{"ec-pkcs8", "ec-sec1", "rsa-pkcs8", "rsa-pkcs1", "ed25519"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "ca")
			ca, err := LoadCA(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
			if err != nil {
				t.Fatalf("LoadCA: %v", err)
			}
			certPEM, keyPEM, err := ca.IssueClientCert("inv-1", 24*time.Hour)
			if err != nil {
				t.Fatalf("IssueClientCert: %v", err)
			}
			verifyClientCert(t, ca.CertPEM, certPEM, keyPEM, "inv-1", time.Now())
		})
	}
}

func TestLoadCAErrors(t *testing.T) {
	dir := filepath.Join("testdata", "ca")
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, tc := range []struct {
		desc, cert, key, wantErr string
	}{
		{"missing cert", p("nope.crt"), p("ec-pkcs8.key"), "no such file"},
		{"missing key", p("ec-pkcs8.crt"), p("nope.key"), "no such file"},
		{"key of another CA", p("ec-pkcs8.crt"), p("rsa-pkcs8.key"), "does not match"},
		{"encrypted key", p("ec-pkcs8.crt"), p("encrypted.key"), "encrypted"},
		{"not a CA", p("not-ca.crt"), p("ec-pkcs8.key"), "not a CA"},
		{"key as cert", p("ec-pkcs8.key"), p("ec-pkcs8.key"), "no CERTIFICATE"},
		{"cert as key", p("ec-pkcs8.crt"), p("ec-pkcs8.crt"), "no private key"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := LoadCA(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("LoadCA = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// newTestCA returns a CA generated in memory with the given signer.
func newTestCA(t *testing.T, signer crypto.Signer, notAfter time.Time) *CA {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ParseCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestIssueClientCert(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc string
		ca   *CA
	}{
		{"RSA", newTestCA(t, rsaKey, time.Now().Add(24*365*time.Hour))},
		{"ECDSA", newTestCA(t, ecKey, time.Now().Add(24*365*time.Hour))},
		{"Ed25519", newTestCA(t, edKey, time.Now().Add(24*365*time.Hour))},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			now := time.Now()
			certPEM, keyPEM, err := tc.ca.IssueClientCert("inv-0042", 90*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			cert := verifyClientCert(t, tc.ca.CertPEM, certPEM, keyPEM, "inv-0042", now)
			if got, want := cert.NotAfter.Sub(now).Round(time.Hour), 90*24*time.Hour; got != want {
				t.Errorf("validity = %v, want %v", got, want)
			}
			if cert.NotBefore.After(now.Add(-time.Minute)) {
				t.Errorf("NotBefore %v is not backdated", cert.NotBefore)
			}
			// Usable as a TLS client certificate.
			if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
				t.Errorf("tls.X509KeyPair: %v", err)
			}
		})
	}

	ca := newTestCA(t, ecKey, time.Now().Add(24*365*time.Hour))
	seen := map[string]bool{}
	for range 20 {
		certPEM, _, err := ca.IssueClientCert("inv-1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		cert := parseCertPEM(t, certPEM)
		if got, want := cert.SerialNumber.BitLen(), 128; got != want {
			t.Errorf("serial has %d bits, want %d", got, want)
		}
		if seen[cert.SerialNumber.String()] {
			t.Errorf("serial %v issued twice", cert.SerialNumber)
		}
		seen[cert.SerialNumber.String()] = true
	}

	if _, _, err := ca.IssueClientCert("inv/1", time.Hour); err == nil {
		t.Error("IssueClientCert accepted CN inv/1")
	}
	if _, _, err := ca.IssueClientCert("inv-1", 0); err == nil {
		t.Error("IssueClientCert accepted validity 0")
	}
}

func TestIssueClientCertClampedToCA(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caEnd := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	ca := newTestCA(t, key, caEnd)
	certPEM, _, err := ca.IssueClientCert("inv-1", 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseCertPEM(t, certPEM).NotAfter; !got.Equal(caEnd) {
		t.Errorf("NotAfter = %v, want the CA's %v", got, caEnd)
	}
	ca.Now = func() time.Time { return caEnd.Add(time.Hour) }
	if _, _, err := ca.IssueClientCert("inv-1", time.Hour); err == nil || !strings.Contains(err.Error(), "CA expired") {
		t.Errorf("IssueClientCert after the CA expired = %v", err)
	}
}

func parseCertPEM(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("not a certificate PEM: %q", certPEM)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// verifyClientCert checks a certificate the way a TLS server requiring client
// certificates does, plus the properties Mosquitto relies on.
func verifyClientCert(t *testing.T, caPEM, certPEM, keyPEM []byte, cn string, at time.Time) *x509.Certificate {
	t.Helper()
	cert := parseCertPEM(t, certPEM)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA PEM not accepted by the pool")
	}
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:       pool,
		CurrentTime: at,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// Not usable to impersonate the broker.
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:       pool,
		CurrentTime: at,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err == nil {
		t.Error("client certificate verifies for serverAuth")
	}
	if got := cert.Subject.CommonName; got != cn {
		t.Errorf("CN = %q, want %q", got, cn)
	}
	if cert.IsCA {
		t.Error("client certificate is a CA")
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		t.Fatalf("key PEM: %q", keyPEM)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if ek, ok := k.(*ecdsa.PrivateKey); !ok || !ek.PublicKey.Equal(cert.PublicKey) {
		t.Error("key PEM does not match the certificate")
	}
	return cert
}

func TestTestdataCAsNotExpiring(t *testing.T) {
	// gen.sh makes 100-year CAs; fail loudly rather than mysteriously if
	// someone regenerates them with a short validity.
	files, _ := filepath.Glob(filepath.Join("testdata", "ca", "*.crt"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if c := parseCertPEM(t, data); c.NotAfter.Before(time.Now().AddDate(5, 0, 0)) {
			t.Errorf("%s expires %v: regenerate with testdata/ca/gen.sh", f, c.NotAfter)
		}
	}
}
