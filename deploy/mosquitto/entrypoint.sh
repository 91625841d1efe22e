#!/bin/sh
# Build Mosquitto's password file, then start it: the devices' entries (deploy/mosquitto/passwd, made by
# `wastewatch devices add`) plus one user per wastewatch service, its password from the environment.
# Refuses empty and example passwords (change-me…, unless WASTEWATCH_DEMO=1) and a missing TLS
# certificate (deploy/gen-certs.sh). The file is mode 0640, owned by the broker's user, never
# world-readable. Before starting the broker it copies the TLS key where the broker's user alone can
# read it (the broker reads it after dropping root). With no arguments it only builds the file.
set -eu
devices=${WASTEWATCH_DEVICES_PASSWD:-/mosquitto/config/passwd}
target=${WASTEWATCH_BROKER_PASSWD:-/mosquitto/data/passwd}
certs=${WASTEWATCH_BROKER_CERTS:-/mosquitto/certs}
tls=${WASTEWATCH_BROKER_TLS_DIR:-/mosquitto/data/tls}
umask 077
if [ "$#" -gt 0 ]; then
  for file in ca.crt server.crt server.key; do
    if [ ! -s "$certs/$file" ]; then
      echo "entrypoint: $certs/$file is missing: make the certificates first (deploy/gen-certs.sh HOST, README \"Deployment\")" >&2
      exit 1
    fi
  done
  mkdir -p "$tls"
  cp "$certs/server.key" "$tls/server.key.new"
  if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    chown mosquitto:mosquitto "$tls" "$tls/server.key.new"
  fi
  chmod 0600 "$tls/server.key.new"
  mv "$tls/server.key.new" "$tls/server.key"
fi
: > "$target.new"
if [ -f "$devices" ]; then cat "$devices" > "$target.new"; fi
for pair in wastewatch-ingest:MQTT_INGEST_PASSWORD wastewatch-alerts:MQTT_ALERTS_PASSWORD \
            wastewatch-simulator:MQTT_SIMULATOR_PASSWORD wastewatch-healthcheck:MQTT_HEALTHCHECK_PASSWORD; do
  user=${pair%%:*}
  var=${pair#*:}
  eval "password=\${$var:-}"
  if [ -z "$password" ]; then
    echo "entrypoint: $var is not set (see .env.example)" >&2; rm -f "$target.new"; exit 1
  fi
  case "$password" in
    *[Cc][Hh][Aa][Nn][Gg][Ee]-[Mm][Ee]*)
      if [ "${WASTEWATCH_DEMO:-}" != "1" ]; then
        echo "entrypoint: $var still holds the example secret (change-me…); set a real one (openssl rand -hex 32), or WASTEWATCH_DEMO=1 for a throw-away demo" >&2
        rm -f "$target.new"; exit 1
      fi ;;
  esac
  mosquitto_passwd -b "$target.new" "$user" "$password"
done
# The broker drops to its own user before it reads the file: owner mosquitto, group mosquitto, 0640.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
  chown mosquitto:mosquitto "$target.new"
fi
chmod 0640 "$target.new"
mv "$target.new" "$target"
if [ "$#" -gt 0 ]; then
  chown -R mosquitto:mosquitto "$(dirname "$target")" 2>/dev/null || true
  exec "$@"
fi
