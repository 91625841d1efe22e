#!/usr/bin/env bash
# The README's main command: set up .venv and run `wastewatch demo` on embedded defaults
# (embedded MQTT broker and SQLite store; no services installed). Arguments go to `wastewatch demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
wastewatch_venv ""
exec wastewatch demo "$@"
