#!/usr/bin/env bash
# The long hostile-input run the README quotes: the CI's generated-input tests with many more examples.
# Real Mosquitto → running ingest → InfluxDB and SQLite; the running API (every operation, every parameter);
# the running alert worker. Usage: bash scripts/hostile_soak.sh [EXAMPLES]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
wastewatch_venv test
export WASTEWATCH_HOSTILE_EXAMPLES="${1:-1000}"
start=$(date +%s)
python -m pytest -q -p no:cacheprovider \
  tests/test_ingest_hostile.py::test_generated_hostile_messages_never_stop_the_ingest \
  tests/test_api_hostile.py tests/test_alert_hostile.py
echo "hostile soak: ${WASTEWATCH_HOSTILE_EXAMPLES} examples per generated test, $(( $(date +%s) - start )) s"
