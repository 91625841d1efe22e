#!/usr/bin/env bash
# Regenerate wastewatch/sparkplug/sparkplug_b_pb2.py and .pyi from the vendored Eclipse Tahu schema
# (wastewatch/sparkplug/sparkplug_b.proto, EPL-2.0). grpcio-tools (which bundles protoc) goes into a
# throw-away venv, never the project's: the project needs only the protobuf runtime.
# Usage: scripts/gen-sparkplug.sh [OUT_DIR]   (default: wastewatch/sparkplug; tests pass a temporary dir)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-wastewatch/sparkplug}"
venv="${SPARKPLUG_GEN_VENV:-/tmp/wastewatch-sparkplug-gen}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import grpc_tools" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q grpcio-tools
fi
mkdir -p "$out"
"$venv/bin/python" -m grpc_tools.protoc --proto_path=wastewatch/sparkplug \
  --python_out="$out" --pyi_out="$out" wastewatch/sparkplug/sparkplug_b.proto
echo "generated $out/sparkplug_b_pb2.py and .pyi with $("$venv/bin/python" -m grpc_tools.protoc --version)"
