"""The alert worker's message decoding: its fast path gives exactly the ingest decoder's records."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.intake import MessageDecoder
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog

LIMITS = DecodeLimits(max_payload_bytes=4096, max_age_ms=30 * 86_400_000, max_future_ms=300_000)
NOW_MS = 1_795_000_000_000
TOPIC = "plants/kotim/sensors/t_secondary"


def same_as_decoder(catalog: PlantCatalog, topic: str, payload: bytes) -> None:
    fast = MessageDecoder(catalog, LIMITS)
    expected = decode_message(topic, payload, catalog, NOW_MS, LIMITS).records
    assert fast.decode(topic, payload, NOW_MS) == expected
    assert fast.decode(topic, payload, NOW_MS) == expected  # again, with the topic memoised


def test_fast_path_decodes_a_plain_reading_like_the_decoder(catalog: PlantCatalog) -> None:
    for body in ({"ts": NOW_MS, "value": 1050}, {"ts": NOW_MS - 5, "value": 1049.5, "status": "maintenance"},
                 {"value": 999.25, "ts": NOW_MS + 1000, "status": "valid"}):
        payload = json.dumps(body).encode()
        same_as_decoder(catalog, TOPIC, payload)
        assert len(MessageDecoder(catalog, LIMITS).decode(TOPIC, payload, NOW_MS)) == 1


def test_anything_unusual_is_left_to_the_decoder(catalog: PlantCatalog) -> None:
    bodies: list[object] = [
        {"ts": True, "value": 1000}, {"ts": NOW_MS, "value": True}, {"ts": NOW_MS, "value": "1000"},
        {"ts": "2026-11-28T10:00:00+07:00", "value": 1000}, {"ts": NOW_MS, "value": 1e9},
        {"ts": NOW_MS, "value": 1000, "status": "broken"}, {"ts": NOW_MS, "value": 1000, "extra": 1},
        {"ts": NOW_MS - 31 * 86_400_000, "value": 1000}, {"ts": NOW_MS + 301_000, "value": 1000}, {"value": 1000},
        [{"ts": NOW_MS, "value": 1000}, {"ts": NOW_MS + 1, "value": 1001}], [], 5, None,
    ]
    for body in bodies:
        same_as_decoder(catalog, TOPIC, json.dumps(body).encode())
    for raw in (b"{", b"\xff", b'{"ts": %d, "value": NaN}' % NOW_MS, b'{"ts": %d, "value": 1e999}' % NOW_MS,
                b'{"ts": %d, "value": %s}' % (NOW_MS, b"9" * 400), b" " * 5000):
        same_as_decoder(catalog, TOPIC, raw)
    payload = json.dumps({"ts": NOW_MS, "value": 1000}).encode()
    for topic in ("plants/kotim/sensors/nope", "plants/elsewhere/sensors/t_secondary", "plants/kotim/telemetry",
                  "plants/kotim/status/id_fan", "plants/kotim/sensors/T_SECONDARY", "garbage"):
        same_as_decoder(catalog, topic, payload)
    same_as_decoder(catalog, "plants/kotim/telemetry", json.dumps({"ts": NOW_MS, "values": {"t_secondary": 1000}}).encode())
    same_as_decoder(catalog, "plants/kotim/status/id_fan", b"offline")


@settings(max_examples=300, deadline=None)
@given(
    ts=st.one_of(st.integers(NOW_MS - 40 * 86_400_000, NOW_MS + 400_000), st.booleans(), st.text(max_size=5)),
    value=st.one_of(st.integers(-2000, 3000), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none()),
    status=st.one_of(st.none(), st.sampled_from(["valid", "maintenance", "malfunction", "other"])),
)
def test_fast_path_agrees_with_the_decoder_on_any_reading(catalog: PlantCatalog, ts: object, value: object, status: str | None) -> None:
    body: dict[str, object] = {"ts": ts, "value": value}
    if status is not None:
        body["status"] = status
    same_as_decoder(catalog, TOPIC, json.dumps(body).encode())
