#!/usr/bin/env bash
# Regenerates the test CAs used by devices/pki_test.go: one CA per key type and
# encoding that LoadCA must accept, made by openssl the way scripts/stack.sh
# makes the stack CA. Valid for 100 years. Test material only: never trust these.
#
#   cd devices/testdata/ca && ./gen.sh
set -euo pipefail
cd "$(dirname "$0")"

mkca() { # NAME: signs NAME.crt with NAME.key
  openssl req -x509 -new -key "$1.key" -sha256 -days 36500 -subj "/O=Sunproof test/CN=$1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$1.crt"
}

# EC P-256, PKCS #8 "PRIVATE KEY" (what scripts/stack.sh writes)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-pkcs8.key
mkca ec-pkcs8
# EC P-384, SEC 1 "EC PRIVATE KEY" preceded by "EC PARAMETERS"
openssl ecparam -name secp384r1 -genkey -out ec-sec1.key
mkca ec-sec1
# RSA 2048, PKCS #8
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-pkcs8.key
mkca rsa-pkcs8
# RSA 2048, PKCS #1 "RSA PRIVATE KEY"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-pkcs1.key.tmp
openssl rsa -traditional -in rsa-pkcs1.key.tmp -out rsa-pkcs1.key 2>/dev/null
rm rsa-pkcs1.key.tmp
mkca rsa-pkcs1
# Ed25519, PKCS #8
openssl genpkey -algorithm ED25519 -out ed25519.key
mkca ed25519
# Negative cases: an encrypted key, and a leaf (non-CA) certificate.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass pass:test -out encrypted.key
openssl req -x509 -new -key ec-pkcs8.key -sha256 -days 36500 -subj "/CN=not-a-ca" \
  -addext "basicConstraints=critical,CA:FALSE" -out not-ca.crt
