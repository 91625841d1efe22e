#!/bin/sh
# The start of the containers that are not wastewatch's own (InfluxDB, Grafana): refuse to run while
# a secret is empty or still the example value from .env.example, then hand over to the image's
# entrypoint. (The wastewatch services refuse example secrets themselves; the broker in its entrypoint.)
#
#   check-secrets.sh VAR [VAR ...] -- COMMAND [ARG ...]
#
# An empty or unset VAR is always refused; a value containing change-me (any case), or shorter than
# 16 characters, is refused unless WASTEWATCH_DEMO=1 (a throw-away demo, never production).
set -eu
bad=0
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  var=$1
  shift
  case "$var" in
    "" | [0-9]* | *[!A-Za-z0-9_]*) echo "check-secrets: bad variable name '$var'" >&2; exit 2 ;;
  esac
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    echo "check-secrets: $var is empty or not set: set it in .env (see .env.example)" >&2
    bad=1
    continue
  fi
  if [ "${#value}" -lt 16 ] && [ "${WASTEWATCH_DEMO:-0}" != "1" ]; then
    echo "check-secrets: $var is shorter than 16 characters: set a real secret (openssl rand -hex 32)" >&2
    bad=1
    continue
  fi
  case "$value" in
    *[Cc][Hh][Aa][Nn][Gg][Ee]-[Mm][Ee]*)
      if [ "${WASTEWATCH_DEMO:-0}" != "1" ]; then
        echo "check-secrets: $var still holds the example secret (change-me…) from .env.example: set a real one (openssl rand -hex 32), or WASTEWATCH_DEMO=1 for a throw-away demo" >&2
        bad=1
      fi ;;
  esac
done
if [ "${1:-}" != "--" ]; then
  echo "usage: check-secrets.sh VAR [VAR ...] -- COMMAND [ARG ...]" >&2
  exit 2
fi
shift
if [ "$bad" != 0 ]; then
  echo "check-secrets: refusing to start ${1:-}" >&2
  exit 1
fi
if [ "$#" -eq 0 ]; then exit 0; fi
exec "$@"
