#!/usr/bin/env bash
# Set up and pass the tests on a fresh Debian/Ubuntu machine (the README's test command).
# Installs Mosquitto, InfluxDB 1.x, PostgreSQL, nginx and Chromium (with chromedriver) from the distribution when missing (the tests start their
# own instances on free loopback ports), installs the package with its test extras into .venv (PEP 668:
# never into the system Python), runs ruff, mypy --strict and the floor-plan check (import-linter), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v influx >/dev/null 2>&1 || need+=(influxdb-client)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)  # the HTTPS proxy's config runs on the real nginx
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # the console's tests run in a real browser
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v socat >/dev/null 2>&1 || need+=(socat)  # the edge's Modbus RTU tests run over a pseudo-terminal pair
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

source scripts/venv.sh
wastewatch_venv test
# the static checks first: lint, types (mypy --strict, pyproject.toml), the floor plan (.importlinter)
ruff check --quiet .
mypy
lint-imports --no-cache >/dev/null || lint-imports --no-cache
# two workers (pytest-xdist), each starting its own Mosquitto, InfluxDB and PostgreSQL: most tests wait on
# services, so the 2-core machine runs the suite in about half the time (serial: WASTEWATCH_TEST_WORKERS=0)
exec python -m pytest -q -n "${WASTEWATCH_TEST_WORKERS:-2}" "$@"
