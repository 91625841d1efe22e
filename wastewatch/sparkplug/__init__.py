"""Sparkplug B at the ingest and the alert worker (domain core: no network, no clock).

`sparkplug_b.proto` is Eclipse Tahu's schema (EPL-2.0), vendored unchanged; `sparkplug_b_pb2` is
generated from it by `scripts/gen-sparkplug.sh` and committed. `topics` parses and builds the
`spBv1.0/...` topic names, `payload` reads and builds protobuf payloads (the rebirth command), and
`decode` turns births, data and deaths into the same records as the JSON contract, keeping each
edge node's session (aliases, sequence numbers, bdSeq) in memory.
"""
