#!/bin/sh
# pki-init of docker-compose.yml: creates, once, the deployment's CA and the
# certificates the stack needs, in three volumes so that each service sees
# only its own key:
#   /pki/ca         ca.crt, ca.key   (sunproof devices add signs device certificates with it)
#   /pki/mosquitto  ca.crt, server.crt, server.key   (owned by Mosquitto's uid 1883)
#   /pki/collector  ca.crt, collector.crt, collector.key (owned by the runtime uid 65532)
# Existing files are kept; a certificate that expires within 30 days, or that
# does not name MQTT_PUBLIC_HOSTNAME, is reissued. Same algorithms and
# extensions as scripts/stack.sh (EC P-256, SHA-256).
set -eu

CA=/pki/ca
MQTT=/pki/mosquitto
COL=/pki/collector
HOST="${MQTT_PUBLIC_HOSTNAME:?set MQTT_PUBLIC_HOSTNAME in .env: the name devices use to reach the broker}"
MOSQUITTO_UID=1883
RUNTIME_UID=65532
DAYS=825

umask 077
mkdir -p "$CA" "$MQTT" "$COL"

if [ ! -s "$CA/ca.key" ] || [ ! -s "$CA/ca.crt" ]; then
  echo "pki-init: creating the CA"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CA/ca.key"
  openssl req -x509 -new -key "$CA/ca.key" -sha256 -days 3650 -subj "/O=Sunproof/CN=Sunproof deployment CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$CA/ca.crt"
fi

# fresh CRT [NAME]: the certificate exists, is signed by our CA, is valid for 30 more days
# and, if NAME is given, names it.
fresh() {
  [ -s "$1" ] && openssl verify -CAfile "$CA/ca.crt" "$1" >/dev/null 2>&1 &&
    openssl x509 -in "$1" -noout -checkend 2592000 >/dev/null 2>&1 &&
    { [ -z "${2:-}" ] || openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$2"; }
}

# sign CN CRT KEY server|client
sign() {
  tmp="$(mktemp -d)"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key"
  openssl req -new -key "$tmp/key" -subj "/O=Sunproof/CN=$1" -out "$tmp/csr"
  if [ "$4" = server ]; then
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$HOST,DNS:mosquitto,DNS:localhost,IP:127.0.0.1" >"$tmp/ext"
  else
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" >"$tmp/ext"
  fi
  echo "authorityKeyIdentifier=keyid" >>"$tmp/ext"
  openssl x509 -req -in "$tmp/csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$DAYS" -sha256 -extfile "$tmp/ext" -out "$tmp/crt"
  mv -f "$tmp/key" "$3"
  mv -f "$tmp/crt" "$2"
  rm -rf "$tmp"
}

if ! fresh "$MQTT/server.crt" "$HOST"; then
  echo "pki-init: issuing the broker certificate for $HOST"
  sign "$HOST" "$MQTT/server.crt" "$MQTT/server.key" server
fi
# The collectors' identity: the ACL's "user collector".
if ! fresh "$COL/collector.crt"; then
  echo "pki-init: issuing the collector certificate"
  sign collector "$COL/collector.crt" "$COL/collector.key" client
fi
cp -f "$CA/ca.crt" "$MQTT/ca.crt"
cp -f "$CA/ca.crt" "$COL/ca.crt"

chmod 0444 "$CA/ca.crt" "$MQTT/ca.crt" "$MQTT/server.crt" "$COL/ca.crt" "$COL/collector.crt"
chmod 0400 "$CA/ca.key" "$MQTT/server.key" "$COL/collector.key"
chmod 0755 "$MQTT" "$COL"
chmod 0700 "$CA"
chown -R "$MOSQUITTO_UID:$MOSQUITTO_UID" "$MQTT"
chown -R "$RUNTIME_UID:$RUNTIME_UID" "$COL" "$CA"
echo "pki-init: ok"
