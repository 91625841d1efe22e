"""The decoder: every contract message becomes records; everything else becomes a reasoned rejection."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from wastewatch.decode import REJECT_REASONS, DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog
from wastewatch.records import Batch, DeviceStatus, Reading

NOW_MS = 1_795_000_000_000
LIMITS = DecodeLimits(max_payload_bytes=4096, max_age_ms=30 * 86_400_000, max_future_ms=300_000)


def decode(catalog: PlantCatalog, topic: str, payload: object | bytes):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return decode_message(topic, raw, catalog, NOW_MS, LIMITS)


def reasons(result) -> list[str]:
    return [r.reason for r in result.rejections]


def test_sensor_reading_with_epoch_ms_and_status(catalog):
    result = decode(catalog, "plants/kotim/sensors/co", {"ts": NOW_MS, "value": 12.5, "status": "maintenance"})
    assert result.records == [Reading("kotim", "co", NOW_MS, 12.5, "maintenance")]
    assert result.rejections == []


def test_rfc3339_is_exactly_the_utc_instant(catalog):
    late = {"ts": "2026-11-18T03:00:00Z", "value": 11}
    local = {"ts": "2026-11-18T10:00:00+07:00", "value": 11}
    a = decode(catalog, "plants/kotim/sensors/o2", late).records[0]
    b = decode(catalog, "plants/kotim/sensors/o2", local).records[0]
    assert a.time_ms == b.time_ms
    assert a.time_ms % 3_600_000 == 0


def test_telemetry_keeps_good_values_and_rejects_bad_ones(catalog):
    frame = {"ts": NOW_MS, "values": {"o2": 11.0, "co": "high", "nope": 1, "t_primary": 5000}}
    result = decode(catalog, "plants/kotim/telemetry", frame)
    assert [r.sensor for r in result.records] == ["o2"]
    assert sorted(reasons(result)) == ["non_numeric", "out_of_range", "unknown_sensor"]


def test_backfill_array_decodes_every_frame(catalog):
    frames = [{"ts": NOW_MS - i * 60_000, "values": {"o2": 10 + i}} for i in range(5)]
    result = decode(catalog, "plants/kotim/telemetry", frames)
    assert sorted(r.time_ms for r in result.records) == sorted(f["ts"] for f in frames)
    assert result.rejections == []


def test_batch_with_optional_fields(catalog):
    body = {"ts": NOW_MS, "batch_id": "B-1", "mass_kg": 64.2, "source": "rsud-murjani", "waste_code": "A337-1"}
    assert decode(catalog, "plants/kotim/batches", body).records == [
        Batch("kotim", "B-1", NOW_MS, 64.2, "rsud-murjani", "A337-1", None)
    ]


def test_device_status_plain_text(catalog):
    result = decode(catalog, "plants/kotim/status/plc", b"offline")
    assert result.records == [DeviceStatus("kotim", "plc", NOW_MS, False)]


def test_each_kind_of_bad_input_has_its_reason(catalog):
    cases = {
        "malformed_json": ("plants/kotim/sensors/o2", b"{not json"),
        "unknown_plant": ("plants/elsewhere/sensors/o2", {"ts": NOW_MS, "value": 1}),
        "unknown_sensor": ("plants/kotim/sensors/xyz", {"ts": NOW_MS, "value": 1}),
        "malformed_topic": ("plants/Kotim!/sensors/o2", {"ts": NOW_MS, "value": 1}),
        "non_numeric": ("plants/kotim/sensors/o2", {"ts": NOW_MS, "value": "11"}),
        "non_finite": ("plants/kotim/sensors/o2", b'{"ts": %d, "value": NaN}' % NOW_MS),
        "out_of_range": ("plants/kotim/sensors/o2", {"ts": NOW_MS, "value": 30}),
        "timestamp_too_old": ("plants/kotim/sensors/o2", {"ts": NOW_MS - 31 * 86_400_000, "value": 1}),
        "timestamp_in_future": ("plants/kotim/sensors/o2", {"ts": NOW_MS + 600_000, "value": 1}),
        "bad_timestamp": ("plants/kotim/sensors/o2", {"ts": "yesterday", "value": 1}),
        "payload_too_large": ("plants/kotim/sensors/o2", b" " * 5000),
        "invalid_payload": ("plants/kotim/batches", {"ts": NOW_MS, "batch_id": "b", "source": "rsud-murjani"}),
        "bad_status": ("plants/kotim/sensors/o2", {"ts": NOW_MS, "value": 1, "status": "ok"}),
    }
    for expected, (topic, payload) in cases.items():
        result = decode(catalog, topic, payload)
        assert result.records == [], expected
        assert reasons(result) == [expected], (expected, result)


def test_naive_timestamp_is_rejected(catalog):
    result = decode(catalog, "plants/kotim/sensors/o2", {"ts": "2026-11-18T10:00:00", "value": 1})
    assert reasons(result) == ["bad_timestamp"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
topics = st.sampled_from(
    ["plants/kotim/sensors/o2", "plants/kotim/telemetry", "plants/kotim/batches", "plants/kotim/status/plc", "x/y"]
) | st.text(max_size=60)


@settings(max_examples=400, deadline=None)
@given(topic=topics, payload=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(catalog, topic, payload):
    result = decode_message(topic, payload, catalog, NOW_MS, LIMITS)
    assert all(r.reason in REJECT_REASONS for r in result.rejections)
    assert result.records or result.rejections


@settings(max_examples=400, deadline=None)
@given(topic=topics, body=json_values, ts=st.one_of(st.integers(), st.text(max_size=30), st.floats()))
def test_arbitrary_json_never_raises(catalog, topic, body, ts):
    for candidate in (body, {"ts": ts, "value": body}, {"ts": ts, "values": body}, [body, {"ts": ts}]):
        payload = json.dumps(candidate).encode()
        result = decode_message(topic, payload, catalog, NOW_MS, LIMITS)
        assert all(r.reason in REJECT_REASONS for r in result.rejections)
        assert result.records or result.rejections
