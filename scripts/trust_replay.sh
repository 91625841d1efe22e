#!/usr/bin/env bash
# The full trust-replay sweep (issue 17) the README's "Trust, measured" numbers come from: 30 daily and 3
# continuous fault-free days, every fault scenario at 08:00, 13:00 and 18:00 on both seeds, the start-up
# feed on three seeds, and a worker SIGKILLed mid-day. CI (`pytest -m fault`) runs a bounded set of the same
# tests. Prints each test's numbers and the wall time. Usage: bash scripts/trust_replay.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
wastewatch_venv test
export WASTEWATCH_TRUST_FULL=1
start=$(date +%s)
python -m pytest -q -s -p no:cacheprovider -m fault tests/test_trust_replay.py "$@"
echo "trust replay, full sweep: $(( $(date +%s) - start )) s"
