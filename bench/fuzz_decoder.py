"""Fuzz the MQTT decoder for a while: it must never raise, and whatever it accepts must be storable.

Hypothesis drives `wastewatch.decode.decode_message` with three kinds of input, round after round
until `--minutes` have passed: arbitrary bytes; arbitrary JSON on the plant's real topics; and
near-valid messages (a valid reading, telemetry frame, batch or status with one field mutated:
wrong types, NaN/inf, huge or negative numbers, odd time stamps, unicode, deep nesting). For each
it checks that the decoder returned records or reasoned rejections (never an exception), that
every rejection reason is a documented one, and that every record becomes a point whose line
protocol encodes (no NaN, no inf, no control characters).

    python -m bench.fuzz_decoder [--minutes 60] [--seed N]

Prints the number of inputs tried per kind and any failure with the input that caused it
(hypothesis shrinks it). Exit status 1 on a failure.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from wastewatch.decode import REJECT_REASONS, DecodeLimits, decode_message
from wastewatch.plant import load_catalog
from wastewatch.points import check_point
from wastewatch.store.lineprotocol import encode_point

CATALOG = load_catalog(None)
PLANT = next(iter(CATALOG))
NOW_MS = int(time.time() * 1000)
LIMITS = DecodeLimits(max_payload_bytes=65_536, max_age_ms=30 * 86_400_000, max_future_ms=300_000)
SENSORS = [sensor.id for sensor in PLANT.sensors]
TOPICS = [f"plants/{PLANT.id}/{kind}" for kind in ("telemetry", "batches", "status/plc", "state")] + [
    f"plants/{PLANT.id}/sensors/{s}" for s in SENSORS
]

odd_numbers = st.one_of(
    st.integers(), st.floats(), st.just(float("nan")), st.just(float("inf")), st.just(-0.0), st.integers(min_value=2**53)
)
lone_surrogates = st.characters(min_codepoint=0xDC00, max_codepoint=0xDFFF, categories=["Cs"])  # never a valid pair
odd_scalars = st.one_of(
    st.none(), st.booleans(), odd_numbers, st.text(max_size=40), st.text(alphabet="\x00\n\r\t\"\\,= ", max_size=10),
    st.text(st.one_of(st.characters(), lone_surrogates), max_size=12),
)
json_values = st.recursive(
    odd_scalars, lambda kids: st.lists(kids, max_size=6) | st.dictionaries(st.text(max_size=12), kids, max_size=6), max_leaves=40
)
timestamps = st.one_of(
    st.integers(min_value=NOW_MS - 40 * 86_400_000, max_value=NOW_MS + 600_000),
    st.sampled_from(["2026-11-28T10:00:00+07:00", "2026-11-28T10:00:00", "2026-13-40T99:00:00Z", "", "now"]),
    odd_numbers,
)


def valid_messages(ts: int) -> list[tuple[str, dict[str, Any]]]:
    sensor = SENSORS[0]
    return [
        (f"plants/{PLANT.id}/sensors/{sensor}", {"ts": ts, "value": 1.0, "status": "ok"}),
        (f"plants/{PLANT.id}/telemetry", {"ts": ts, "values": {s: 1.0 for s in SENSORS[:5]}}),
        (f"plants/{PLANT.id}/batches", {"ts": ts, "batch_id": "B-1", "mass_kg": 50.0, "source": "rsud", "waste_code": "A337-1"}),
    ]


def check(topic: str, payload: bytes) -> None:
    result = decode_message(topic, payload, CATALOG, NOW_MS, LIMITS)
    assert result.records or result.rejections, "neither a record nor a rejection"
    for rejection in result.rejections:
        assert rejection.reason in REJECT_REASONS and rejection.reason != "decoder_error", rejection
    for record in result.records:
        point = record.to_point()
        check_point(point)  # what either store refuses must not get past the decoder
        line = encode_point(point)
        line.encode("utf-8")  # a lone surrogate passes encode_point and fails here, as it did in the writer
        assert "\n" not in line, line
        for value in point.fields.values():
            assert not (isinstance(value, float) and not math.isfinite(value)), point


@given(topic=st.sampled_from(TOPICS) | st.text(max_size=80), payload=st.binary(max_size=2000))
def fuzz_bytes(topic: str, payload: bytes) -> None:
    check(topic, payload)


@given(topic=st.sampled_from(TOPICS), body=json_values)
def fuzz_json(topic: str, body: Any) -> None:
    check(topic, json.dumps(body, allow_nan=True).encode())


@given(which=st.integers(0, 2), ts=timestamps, key=st.text(max_size=12), value=json_values, drop=st.booleans())
def fuzz_near_valid(which: int, ts: Any, key: str, value: Any, drop: bool) -> None:
    topic, body = valid_messages(NOW_MS)[which]
    body = dict(body, ts=ts)
    target = key if key else next(iter(body))
    if drop:
        body.pop(target, None)
    else:
        body[target] = value
    check(topic, json.dumps(body, allow_nan=True).encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--round", type=int, default=5_000, help="examples per target per round")
    args = parser.parse_args()
    budget = settings(
        max_examples=args.round, deadline=None, database=None, derandomize=False,
        phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
    )
    targets = {"bytes": budget(fuzz_bytes), "json": budget(fuzz_json), "near-valid": budget(fuzz_near_valid)}
    tried = dict.fromkeys(targets, 0)
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        for name, run in targets.items():
            try:
                run()
            except Exception as exc:  # hypothesis has shrunk the input: report it and stop
                print(f"FAILURE in {name}: {exc!r}")
                return 1
            tried[name] += args.round
        rounds += 1
        print(f"round {rounds}: " + ", ".join(f"{k} {v:,}" for k, v in tried.items()), flush=True)
    print(f"no failure in {sum(tried.values()):,} inputs over {args.minutes:g} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
