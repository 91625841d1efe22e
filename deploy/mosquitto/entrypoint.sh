#!/bin/sh
# Build Mosquitto's password file, then start it: the devices' entries (deploy/mosquitto/passwd, made by
# `wastewatch devices add`) plus one user per wastewatch service, its password from the environment.
# Refuses example passwords (change-me…) unless WASTEWATCH_DEMO=1. With no arguments it only builds.
set -eu
devices=${WASTEWATCH_DEVICES_PASSWD:-/mosquitto/config/passwd}
target=${WASTEWATCH_BROKER_PASSWD:-/mosquitto/data/passwd}
umask 077
: > "$target.new"
if [ -f "$devices" ]; then cat "$devices" > "$target.new"; fi
for pair in wastewatch-ingest:MQTT_INGEST_PASSWORD wastewatch-alerts:MQTT_ALERTS_PASSWORD \
            wastewatch-api:MQTT_API_PASSWORD wastewatch-simulator:MQTT_SIMULATOR_PASSWORD \
            wastewatch-healthcheck:MQTT_HEALTHCHECK_PASSWORD; do
  user=${pair%%:*}
  var=${pair#*:}
  eval "password=\${$var:-}"
  if [ -z "$password" ]; then
    echo "entrypoint: $var is not set (see .env.example)" >&2; rm -f "$target.new"; exit 1
  fi
  case "$password" in
    change-me*|CHANGE-ME*)
      if [ "${WASTEWATCH_DEMO:-}" != "1" ]; then
        echo "entrypoint: $var still holds the example secret; set a real one (or WASTEWATCH_DEMO=1)" >&2
        rm -f "$target.new"; exit 1
      fi ;;
  esac
  mosquitto_passwd -b "$target.new" "$user" "$password"
done
chmod 0644 "$target.new"
mv "$target.new" "$target"
if [ "$#" -gt 0 ]; then
  chown -R mosquitto:mosquitto "$(dirname "$target")" 2>/dev/null || true
  exec "$@"
fi
