#!/usr/bin/env bash
# The long hostile-input run the README quotes: the CI's generated-input tests with many more examples.
# Real Mosquitto → running ingest → InfluxDB and SQLite; the running API (every operation, every parameter);
# the running alert worker; Sparkplug B storms through Mosquitto into the running ingest, and the Sparkplug
# decoder alone; the Telegram button's poller; hostile edge device files (Modbus and OPC UA).
# Usage: bash scripts/hostile_soak.sh [EXAMPLES]   (default 1000; a test whose CI run is larger keeps its own)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
wastewatch_venv test
export WASTEWATCH_HOSTILE_EXAMPLES="${1:-1000}"
start=$(date +%s)
python -m pytest -q -p no:cacheprovider \
  tests/test_ingest_hostile.py::test_generated_hostile_messages_never_stop_the_ingest \
  tests/test_api_hostile.py tests/test_alert_hostile.py \
  tests/test_ingest_sparkplug.py::test_a_storm_of_hostile_payloads_is_stored_or_dead_lettered_and_the_ingest_stays_live \
  tests/test_sparkplug_decode.py::test_hostile_payloads_are_stored_or_refused_with_a_reason_never_a_decoder_error \
  tests/test_alert_phone.py::test_hostile_updates_never_stop_the_button_poller_and_a_real_press_still_acknowledges \
  tests/test_edge_device_file.py tests/test_edge_opcua.py::test_a_hostile_opcua_entry_is_a_device_file_error_naming_the_field \
  tests/test_edge_opcua.py::test_any_opcua_device_mapping_loads_or_fails_as_a_device_file_error
echo "hostile soak: ${WASTEWATCH_HOSTILE_EXAMPLES} examples per generated test, $(( $(date +%s) - start )) s"
