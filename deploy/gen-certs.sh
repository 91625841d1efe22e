#!/bin/sh
# First start (README, "Deployment"): a local certificate authority and one server certificate for the
# names the server is reached by, used by Mosquitto's TLS listener (8883) and the HTTPS proxy (443
# Grafana, 8443 API).
#
#   deploy/gen-certs.sh wastewatch.example 192.0.2.10      # every DNS name and IP address of the server
#
# Writes deploy/certs/ca.crt, server.crt, server.key (mounted read-only into mosquitto and proxy) and
# keeps the CA's key in deploy/ca/ca.key, which no container mounts. Give the plants' devices and the
# users' browsers ca.crt. Run again to re-issue the server certificate (new names, expiry): the CA is
# kept, so devices keep trusting it. With a certificate from a public CA instead, put its chain in
# server.crt, its key in server.key and the issuing CA in ca.crt.
set -eu
if [ "$#" -lt 1 ]; then
  echo "usage: $0 HOST [HOST|IP ...]   (the DNS names and IP addresses devices and users reach the server by)" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
certs=${WASTEWATCH_CERTS_DIR:-$here/certs}
cadir=${WASTEWATCH_CA_DIR:-$here/ca}
days=${WASTEWATCH_CERT_DAYS:-825}
san=""
for name in "$@" localhost 127.0.0.1; do
  case "$name" in
    *:*) entry="IP:$name" ;;           # IPv6
    *[!0-9.]*) entry="DNS:$name" ;;
    *) entry="IP:$name" ;;
  esac
  case ",$san," in *",$entry,"*) ;; *) san="${san:+$san,}$entry" ;; esac
done
umask 077
mkdir -p "$certs" "$cadir"
chmod 0755 "$certs"  # the certificates are public; server.key stays 0600
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -s "$cadir/ca.key" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -subj "/CN=wastewatch local CA" -keyout "$cadir/ca.key" -out "$certs/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "gen-certs: new CA $certs/ca.crt (its key: $cadir/ca.key, keep it off the containers)"
elif [ ! -s "$certs/ca.crt" ]; then
  echo "gen-certs: $cadir/ca.key exists but $certs/ca.crt does not: restore ca.crt, or remove ca.key for a new CA" >&2
  exit 1
fi
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$san" > "$work/extensions"
openssl x509 -req -in "$work/server.csr" -CA "$certs/ca.crt" -CAkey "$cadir/ca.key" -sha256 -days "$days" \
  -set_serial "0x$(openssl rand -hex 16)" -extfile "$work/extensions" -out "$work/server.crt" 2>/dev/null
chmod 0644 "$work/server.crt" "$certs/ca.crt"
chmod 0600 "$work/server.key"
mv "$work/server.key" "$certs/server.key"
mv "$work/server.crt" "$certs/server.crt"
echo "gen-certs: $certs/server.crt for $san, valid $days days"
