package devices

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"
)

// PEM block types.
const (
	pemPrivateKey   = "PRIVATE KEY"     // PKCS #8
	pemPublicKey    = "PUBLIC KEY"      // PKIX SubjectPublicKeyInfo
	pemRSAKey       = "RSA PRIVATE KEY" // PKCS #1
	pemECKey        = "EC PRIVATE KEY"  // SEC 1
	pemECParameters = "EC PARAMETERS"   // written before the key by `openssl ecparam -genkey`
	pemCertificate  = "CERTIFICATE"
)

// GenerateKey returns a new Ed25519 device signing key pair. A nil rand
// means crypto/rand.
func GenerateKey(rand io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("generate device key: %w", err)
	}
	return pub, priv, nil
}

// EncodePrivateKeyPEM returns priv as a PKCS #8 "PRIVATE KEY" PEM block, the
// form `openssl genpkey -algorithm ed25519` writes.
func EncodePrivateKeyPEM(priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("encode private key: %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// DecodePrivateKeyPEM parses the first PEM block of data, which must be a
// PKCS #8 "PRIVATE KEY" holding an Ed25519 key.
func DecodePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("decode private key: no PEM block")
	}
	if b.Type != pemPrivateKey {
		return nil, fmt.Errorf("decode private key: PEM type %q, want %q", b.Type, pemPrivateKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("decode private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("decode private key: %T, want Ed25519", k)
	}
	return priv, nil
}

// EncodePublicKeyPEM returns pub as a PKIX "PUBLIC KEY" PEM block.
func EncodePublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("encode public key: %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// DecodePublicKeyPEM parses the first PEM block of data, which must be a
// PKIX "PUBLIC KEY" holding an Ed25519 key.
func DecodePublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("decode public key: no PEM block")
	}
	if b.Type != pemPublicKey {
		return nil, fmt.Errorf("decode public key: PEM type %q, want %q", b.Type, pemPublicKey)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("decode public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("decode public key: %T, want Ed25519", k)
	}
	return pub, nil
}

// CA issues device client certificates for the MQTT broker.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte // Cert as PEM, for trust stores
	key     crypto.Signer

	// Rand and Now default to crypto/rand and time.Now.
	Rand io.Reader
	Now  func() time.Time
}

// LoadCA reads the stack's CA certificate and private key (as written by
// openssl) from PEM files. See ParseCA.
func LoadCA(certPEMFile, keyPEMFile string) (*CA, error) {
	certPEM, err := os.ReadFile(certPEMFile)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPEMFile)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	ca, err := ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load CA %s: %w", certPEMFile, err)
	}
	return ca, nil
}

// ParseCA parses a CA certificate and its private key. The key may be RSA,
// ECDSA or Ed25519, in a PKCS #8 "PRIVATE KEY", PKCS #1 "RSA PRIVATE KEY" or
// SEC 1 "EC PRIVATE KEY" block (an "EC PARAMETERS" block before it is
// skipped). Encrypted keys are not supported. The certificate must be a CA
// allowed to sign certificates, and the key must match it.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, errors.New("certificate is not a CA (basicConstraints CA:TRUE missing)")
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("CA certificate lacks keyUsage keyCertSign")
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("CA private key does not match the certificate")
	}
	return &CA{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: cert.Raw}),
		key:     key,
	}, nil
}

func parseCert(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no CERTIFICATE PEM block")
		}
		if b.Type != pemCertificate {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse CA certificate: %w", err)
		}
		return cert, nil
	}
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no private key PEM block")
		}
		if _, enc := b.Headers["Proc-Type"]; enc || b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("encrypted CA private keys are not supported")
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case pemPrivateKey:
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case pemRSAKey:
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case pemECKey:
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default: // e.g. EC PARAMETERS
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse CA private key (%s): %w", b.Type, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("parse CA private key: unsupported type %T", k)
		}
	}
}

// clockSkew backdates NotBefore so a broker whose clock is slightly behind
// accepts a certificate issued a moment ago.
const clockSkew = 5 * time.Minute

// IssueClientCert returns a new ECDSA P-256 key (PKCS #8 PEM) and a TLS
// client certificate for it (PEM) signed by the CA: subject CN = commonName,
// extKeyUsage clientAuth, keyUsage digitalSignature, a random 128-bit serial.
// It is valid from 5 minutes ago for validity, but never past the CA's own
// expiry. commonName must be a valid device id: Mosquitto's
// use_identity_as_username turns it into the MQTT username.
func (ca *CA) IssueClientCert(commonName string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if err := ValidateID(commonName); err != nil {
		return nil, nil, fmt.Errorf("issue client certificate: common name: %w", err)
	}
	if validity <= 0 {
		return nil, nil, fmt.Errorf("issue client certificate for %s: validity %v must be positive", commonName, validity)
	}
	rnd := ca.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := time.Now
	if ca.Now != nil {
		now = ca.Now
	}
	t := now()
	notAfter := t.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	if !notAfter.After(t) {
		return nil, nil, fmt.Errorf("issue client certificate for %s: CA expired at %s", commonName, ca.Cert.NotAfter.Format(time.RFC3339))
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate for %s: %w", commonName, err)
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate for %s: serial: %w", commonName, err)
	}
	serial.SetBit(serial, 127, 1) // always 128 bits, never zero
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             t.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	der, err := x509.CreateCertificate(rnd, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate for %s: %w", commonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate for %s: %w", commonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: keyDER}), nil
}
