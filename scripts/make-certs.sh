#!/usr/bin/env bash
# Creates the certificates a local Tsunagu needs for HTTPS, with the openssl command line only:
#   DIR/ca.crt, DIR/ca.key           a local CA (EC P-256) that signs the two below
#   DIR/server.crt, DIR/server.key   the hub's certificate for localhost, 127.0.0.1 and ::1
#   DIR/clients/<system>.crt, .key   one client certificate per system, subject CN=<system>
#
#   scripts/make-certs.sh DIR [SYSTEM…]   (systems default to the four municipal systems)
#
# Idempotent: what exists is kept. A new CA (because DIR/ca.key was missing) re-issues everything
# else, since certificates of the old CA would no longer verify. For a city's deployment use
# certificates from the city's own CA instead; this is for the demo, development and tests.
# Never touches the network.
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 64
fi
dir="$1"
shift
systems=("$@")
if [ ${#systems[@]} -eq 0 ]; then
  systems=(child_guidance public_assistance health_centre education)
fi
for s in "${systems[@]}"; do
  if ! [[ "$s" =~ ^[a-z0-9_]+$ ]]; then
    echo "make-certs: '$s' is not a system name (a-z, 0-9 and _ only)" >&2
    exit 64
  fi
done

umask 077  # private keys readable by their owner only
mkdir -p "$dir/clients"
days_ca=3650
days_leaf=825  # the most a TLS client accepts for a leaf certificate

# new_key FILE: an EC P-256 key, written under a temporary name and renamed when complete.
new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" 2>/dev/null
  mv "$1.tmp" "$1"
}

# issue NAME SUBJECT EXTENSIONS: NAME.key (new if missing) and NAME.crt signed by the CA.
issue() {
  local name="$1" subject="$2" extensions="$3"
  [ -f "$name.key" ] || new_key "$name.key"
  local ext
  ext="$(mktemp "$dir/.ext.XXXXXX")"
  printf '%s\n' "$extensions" >"$ext"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr.tmp" 2>/dev/null
  openssl x509 -req -in "$name.csr.tmp" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days_leaf" -sha256 \
    -extfile "$ext" -out "$name.crt.tmp" 2>/dev/null
  rm -f "$name.csr.tmp" "$ext"
  chmod 644 "$name.crt.tmp"
  mv "$name.crt.tmp" "$name.crt"
}

reissue=0
if [ ! -f "$dir/ca.key" ] || [ ! -f "$dir/ca.crt" ]; then
  new_key "$dir/ca.key"
  openssl req -new -x509 -key "$dir/ca.key" -subj "/O=Tsunagu/CN=Tsunagu local CA" \
    -days "$days_ca" -sha256 \
    -addext "basicConstraints=critical,CA:true,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt.tmp" 2>/dev/null
  chmod 644 "$dir/ca.crt.tmp"
  mv "$dir/ca.crt.tmp" "$dir/ca.crt"
  reissue=1
  echo "make-certs: created the local CA $dir/ca.crt"
fi

if [ "$reissue" = 1 ] || [ ! -f "$dir/server.crt" ] || [ ! -f "$dir/server.key" ]; then
  issue "$dir/server" "/O=Tsunagu/CN=localhost" \
"basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
  echo "make-certs: created the server certificate $dir/server.crt (localhost, 127.0.0.1, ::1)"
fi

for s in "${systems[@]}"; do
  base="$dir/clients/$s"
  if [ "$reissue" = 1 ] || [ ! -f "$base.crt" ] || [ ! -f "$base.key" ]; then
    issue "$base" "/O=Tsunagu/OU=push client/CN=$s" \
"basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    echo "make-certs: created the client certificate $base.crt (CN=$s)"
  fi
done

# What <http><clients><system><certificate-sha256> takes.
for s in "${systems[@]}"; do
  fingerprint="$(openssl x509 -in "$dir/clients/$s.crt" -noout -fingerprint -sha256 | cut -d= -f2 \
                 | tr -d ':' | tr 'A-F' 'a-f')"
  printf '%s\n' "$fingerprint" >"$dir/clients/$s.sha256"
  chmod 644 "$dir/clients/$s.sha256"
  echo "make-certs: $s client certificate sha256 $fingerprint"
done
