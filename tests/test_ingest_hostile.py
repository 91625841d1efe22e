"""Hostile input through the running ingest: real Mosquitto → IngestWorker → InfluxDB and SQLite.

One bad message must cost that message only: it is dead-lettered (one row, payload cut, bounded
table) and everything valid around it is stored and acknowledged; the worker stays alive.
`WASTEWATCH_HOSTILE_EXAMPLES` sets the number of generated examples (CI: a bounded run;
`scripts/hostile_soak.sh`: the long run the README quotes).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.deadletters import DeadLetterStore
from ingest.metrics import IngestMetrics
from ingest.settings import IngestSettings
from ingest.spool import Spool
from ingest.worker import IngestWorker
from ingest.writer import DurableWriter
from tests.helpers import hostile_examples, publish_all, wait_until
from tests.servers import free_port
from wastewatch.mqtt import make_client
from wastewatch.points import Point, Store
from wastewatch.records import BATCH, READING
from wastewatch.settings import DecodeSettings, InfluxSettings, parse_mqtt_url
from wastewatch.store.influx import InfluxStore

EXAMPLES = hostile_examples(20)
SURROGATE = "A\ud800"


def now_ms() -> int:
    return int(time.time() * 1000)


def batch(**fields: object) -> bytes:
    body: dict[str, object] = {"ts": now_ms() - 60_000, "batch_id": "B-1", "mass_kg": 40.0, "source": "rsud-murjani"}
    body.update(fields)
    return json.dumps(body).encode()  # a lone surrogate goes out as the JSON escape "\ud800"


def readings(sensor: str, times: list[int]) -> list[tuple[str, bytes]]:
    return [(f"plants/kotim/sensors/{sensor}", json.dumps({"ts": t, "value": 100.0 + t % 7}).encode()) for t in times]


def stored_times(store: Store, sensor: str) -> set[int]:
    return {p.time_ms for p in store.select(READING, where={"plant": "kotim", "sensor": sensor})}


POISON = {
    "waste_code surrogate": batch(batch_id="P1", waste_code=SURROGATE),
    "batch_id surrogate": batch(batch_id=SURROGATE),
    "manifest_no surrogate": batch(batch_id="P3", manifest_no=SURROGATE),
    "waste_code control character": batch(batch_id="P4", waste_code="A337\n-1"),
    "waste_code trailing backslash": batch(batch_id="P5", waste_code="A337-1\\"),
    "batch_id control character": batch(batch_id="P6\x00"),
}


def test_poison_strings_are_dead_lettered_and_everything_after_them_stored(settings_for, ingest_for, store, catalog):
    worker = IngestWorker(settings_for(store if isinstance(store, InfluxStore) else None), ingest_for(), catalog, store)
    worker.start()
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        start = now_ms() - 120_000
        after = readings("t_stack", [start + i * 100 for i in range(200)])
        good_batch = ("plants/kotim/batches", batch(batch_id="GOOD-1", waste_code="A337-1", manifest_no="M/2026/001"))
        publish_all(settings_for().mqtt.url, [("plants/kotim/batches", p) for p in POISON.values()] + after + [good_batch])
        wait_until(lambda: len(stored_times(store, "t_stack")) == 200, timeout_s=30, what="readings after the poison stored")
        wait_until(lambda: worker.counts().acked == worker.counts().received, what="every message acknowledged")
        batches = store.select(BATCH, where={"plant": "kotim"})
        assert [p.fields["batch_id"] for p in batches] == ["GOOD-1"]
        assert batches[0].tags["waste_code"] == "A337-1" and batches[0].fields["manifest_no"] == "M/2026/001"
        letters = worker.dead_letters.list(limit=50)
        assert len(letters) == len(POISON)
        assert {letter.reason for letter in letters} == {"invalid_payload"}
        assert all(letter.detail.encode("utf-8") for letter in letters)  # stored as valid UTF-8
    finally:
        worker.stop()


def test_batch_from_a_facility_the_plant_file_does_not_list_is_dead_lettered_unless_the_policy_accepts(
    settings_for, influx_store, catalog, tmp_path: Path
):
    for policy, stored in (("reject", 0), ("accept", 1)):
        settings = settings_for(influx_store, decode=DecodeSettings(unknown_facility=policy), data_dir=tmp_path / policy)
        worker = IngestWorker(settings, IngestSettings(client_id=f"ingest-facility-{policy}"), catalog, influx_store)
        worker.start()
        try:
            wait_until(worker.connected.is_set)
            publish_all(settings.mqtt.url, [("plants/kotim/batches", batch(batch_id=f"X-{policy}", source="rs-unknown"))])
            wait_until(lambda: worker.counts().acked >= 1, what="acknowledged")
            found = [p for p in influx_store.select(BATCH) if p.fields["batch_id"] == f"X-{policy}"]
            assert len(found) == stored
            assert worker.dead_letters.counts() == ({"unknown_facility": 1} if policy == "reject" else {})
        finally:
            worker.stop()


def test_a_point_the_store_cannot_carry_is_dead_lettered_not_retried(tmp_path: Path, store):
    """Below the decoder: the durable writer isolates a point that cannot be encoded, writes the rest."""
    letters = DeadLetterStore(tmp_path / "dl.sqlite3")
    writer = DurableWriter(store, Spool(tmp_path / "spool.sqlite3", 10 * 1024 * 1024), letters, IngestMetrics())
    t0 = now_ms() - 60_000
    good = [Point(READING, {"plant": "kotim", "sensor": "t_stack", "status": "valid"}, {"value": 1.0}, t0 + i) for i in range(50)]
    bad = [
        Point(BATCH, {"plant": "kotim", "source": "x", "waste_code": SURROGATE}, {"mass_kg": 1.0}, t0),
        Point(BATCH, {"plant": "kotim", "source": "x\\"}, {"mass_kg": 1.0}, t0 + 1),
        Point(BATCH, {"plant": "kotim", "source": "y"}, {"mass_kg": 1.0, "batch_id": SURROGATE}, t0 + 2),
    ]
    try:
        writer.write(good[:25] + bad + good[25:])
        assert stored_times(store, "t_stack") == {p.time_ms for p in good}
        assert letters.counts() == {"store_rejected": 3}
        assert writer.spool.batches == 0
    finally:
        letters.close()
        writer.spool.close()


def test_a_wide_bad_frame_is_one_dead_letter_with_its_payload_cut(settings_for, ingest_for, influx_store, catalog):
    """29,000 unknown keys in one 256 KB frame: one row, not 29,000 copies of the payload."""
    settings = settings_for(influx_store)
    worker = IngestWorker(settings, ingest_for(dead_letter_max_payload_bytes=4096), catalog, influx_store)
    worker.start()
    try:
        wait_until(worker.connected.is_set)
        values = {f"{i:x}": 1 for i in range(29_000)}
        payload = json.dumps({"ts": now_ms() - 1000, "values": values}, separators=(",", ":")).encode()
        assert len(payload) < settings.decode.max_payload_bytes
        publish_all(settings.mqtt.url, [("plants/kotim/telemetry", payload)])
        wait_until(lambda: worker.counts().acked >= 1, timeout_s=30, what="acknowledged")
        [letter] = worker.dead_letters.list()
        assert letter.reason == "unknown_sensor" and letter.parts == 29_000
        assert letter.size == len(payload) and letter.payload == payload[:4096]
        assert "(+28995 more parts)" in letter.detail
    finally:
        worker.stop()


def test_the_dead_letter_table_keeps_its_byte_bound_and_counts_what_it_dropped(tmp_path: Path):
    letters = DeadLetterStore(tmp_path / "dl.sqlite3", max_payload_bytes=1024, max_bytes=64 * 1024)
    try:
        for i in range(1000):
            letters.add(now_ms(), "plants/kotim/telemetry", "malformed_json", f"bad {i}", os.urandom(5000))
            assert letters.stored_bytes <= 64 * 1024
        kept = sum(letters.counts().values())
        assert kept > 0 and kept + letters.dropped()["bound"] == 1000
        assert letters.list(limit=1)[0].detail == "bad 999"  # the newest are kept
    finally:
        letters.close()
    reopened = DeadLetterStore(tmp_path / "dl.sqlite3", max_bytes=64 * 1024)
    assert reopened.stored_bytes <= 64 * 1024 and reopened.dropped()["bound"] == 1000 - kept
    reopened.close()


def test_dead_letters_old_enough_are_deleted_and_counted(tmp_path: Path):
    clock = [1_000_000.0]
    letters = DeadLetterStore(tmp_path / "dl.sqlite3", max_age_s=3600, clock=lambda: clock[0])
    try:
        letters.add(int(clock[0] * 1000), "t", "malformed_json", "old", b"x")
        clock[0] += 7200
        letters.add(int(clock[0] * 1000), "t", "malformed_json", "new", b"y")
        assert [x.detail for x in letters.list()] == ["new"] and letters.dropped() == {"age": 1}
    finally:
        letters.close()


def test_dead_letters_never_eat_into_the_disk_reserve(tmp_path: Path):
    letters = DeadLetterStore(tmp_path / "dl.sqlite3", min_free_bytes=2**62)  # more than any disk has free
    try:
        letters.add(now_ms(), "t", "malformed_json", "x", b"x")
        assert letters.counts() == {} and letters.dropped() == {"disk_reserve": 1}
    finally:
        letters.close()


def test_an_exception_in_a_callback_does_not_kill_the_network_loop(mosquitto):
    broker = parse_mqtt_url(mosquitto.url)
    client = make_client(broker, "callback-raises", protocol="5")
    got: list[bytes] = []

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        got.append(bytes(message.payload))
        if len(got) == 1:
            raise RuntimeError("a bug in a callback")

    subscribed = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(broker.host, broker.port)
    client.subscribe("hostile/callback", qos=1)
    client.loop_start()
    try:
        wait_until(subscribed.is_set, what="the broker's SUBACK")
        publish_all(mosquitto.url, [("hostile/callback", b"first"), ("hostile/callback", b"second")])
        wait_until(lambda: got == [b"first", b"second"], what="the second message after the raising callback")
    finally:
        client.disconnect()
        client.loop_stop()


def _check(settings_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", "ingest", "--check"],
        env={**os.environ, **settings_env}, capture_output=True, text=True, timeout=30,
    )


def test_the_healthcheck_fails_when_messages_wait_and_nothing_is_written(settings_for, ingest_for, catalog, tmp_path: Path):
    """Store down and spool refusing (the disk reserve): messages wait unacknowledged; `ingest --check` says so."""
    port = free_port()
    settings = settings_for(influx=InfluxSettings(url=f"http://127.0.0.1:{free_port()}", timeout_s=0.5))
    ingest = ingest_for(metrics_port=port, max_stall_s=1.0, spool_min_free_bytes=2**62)
    from wastewatch.store import open_store

    store = open_store(settings)
    worker = IngestWorker(settings, ingest, catalog, store)
    env = {"WASTEWATCH_METRICS_PORT": str(port), "WASTEWATCH_INGEST_MAX_STALL_S": "1"}
    worker.start()
    try:
        wait_until(worker.connected.is_set)
        healthy = _check(env)
        assert healthy.returncode == 0, healthy.stderr
        publish_all(settings.mqtt.url, readings("t_stack", [now_ms() - 1000]))
        stalled = wait_until(lambda: (r := _check(env)).returncode == 1 and r, timeout_s=30, what="check fails")
        assert "stalled" in stalled.stderr
    finally:
        worker.stop(timeout_s=1)
        store.close()


# -- generated hostile messages, interleaved with valid readings -----------------------------------------

_any_char = st.one_of(  # any code point, lone surrogates and control characters included
    st.characters(), st.characters(min_codepoint=0, max_codepoint=0x1F), st.characters(min_codepoint=0xDC00, max_codepoint=0xDFFF, categories=["Cs"]),  # low halves: never a valid pair
)
_hostile_text = st.one_of(
    st.text(_any_char, max_size=40),
    st.sampled_from(["", " ", "\\", "A337-1\\", "=cmd|'/C calc'!A", "\x00", "A\ud800", "B\udfff-1", "a" * 300, "1e999"]),
)
_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), _hostile_text,
)
_json = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_hostile_text, inner, max_size=4), max_leaves=12)
_ts = st.one_of(st.integers(min_value=-(2**63), max_value=2**63), _hostile_text, st.just("2026-13-45T99:00:00Z"))
_valid_ts = st.integers(min_value=1, max_value=3_000_000).map(lambda back: now_ms() - back)
_VALID: dict[str, dict[str, st.SearchStrategy[object]]] = {
    "sensor": {
        "ts": _valid_ts, "value": st.floats(0, 1400), "status": st.sampled_from(["valid", "maintenance"]),
    },
    "batch": {
        "ts": _valid_ts, "batch_id": st.from_regex(r"B-[0-9]{1,6}", fullmatch=True), "mass_kg": st.floats(0.1, 300),
        "source": st.sampled_from(["rsud-murjani", "puskesmas-baamang"]), "waste_code": st.sampled_from(["A337-1", "A337-2"]),
        "manifest_no": st.just("M/2026/7"),
    },
}
_HOSTILE: dict[str, st.SearchStrategy[object]] = {"ts": _ts, "value": _scalar, "mass_kg": _scalar}


@st.composite
def hostile_message(draw: st.DrawFn) -> tuple[str, bytes]:
    """A message with one bad part among good ones (the dangerous kind), or garbage of every sort."""
    kind = draw(st.sampled_from(["sensor", "telemetry", "batch", "batch", "status", "bytes", "unknown"]))
    if kind == "bytes":
        return "plants/kotim/telemetry", draw(st.binary(max_size=300))
    if kind == "status":
        return "plants/kotim/status/plc", draw(st.binary(max_size=40))
    if kind == "unknown":
        name = draw(st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True))
        return f"plants/{name}/sensors/{name}", json.dumps(draw(_json)).encode()
    if kind == "telemetry":
        values = draw(st.dictionaries(st.one_of(st.sampled_from(["t_primary", "co"]), _hostile_text), st.one_of(st.floats(0, 100), _scalar), max_size=6))
        body: object = {"ts": draw(st.one_of(_valid_ts, _ts)), "values": values}
        topic = "plants/kotim/telemetry"
    else:
        fields = _VALID[kind]
        bad = draw(st.sampled_from([*fields, None]))
        body = {key: draw(_HOSTILE.get(key, _hostile_text) if key == bad else valid) for key, valid in fields.items()}
        if draw(st.booleans()) and bad is not None:
            body[bad] = draw(_json)  # or any JSON at all
        topic = "plants/kotim/batches" if kind == "batch" else "plants/kotim/sensors/" + draw(st.sampled_from(["t_primary", "o2", "nope"]))
    if draw(st.booleans()):
        body = [body] * draw(st.integers(1, 3))  # a back-fill array
    return topic, json.dumps(body, allow_nan=True).encode()


def test_generated_hostile_messages_never_stop_the_ingest(settings_for, ingest_for, store, catalog):
    dead_letter_bound = 64 * 1024
    worker = IngestWorker(
        settings_for(store if isinstance(store, InfluxStore) else None),
        ingest_for(dead_letter_max_bytes=dead_letter_bound, dead_letter_max_payload_bytes=256), catalog, store,
    )
    worker.start()
    url = settings_for().mqtt.url
    clock = itertools.count(now_ms() - 3_000_000)  # valid readings, each at its own instant
    expected: set[int] = set()
    try:
        wait_until(worker.connected.is_set)

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.lists(hostile_message(), min_size=1, max_size=8), st.integers(1, 5))
        def run(hostile: list[tuple[str, bytes]], valid_per_message: int) -> None:
            messages: list[tuple[str, bytes]] = []
            for message in hostile:
                messages.append(message)
                times = [next(clock) for _ in range(valid_per_message)]
                expected.update(times)
                messages += readings("t_stack", times)
            publish_all(url, messages)
            wait_until(lambda: stored_times(store, "t_stack") >= expected, timeout_s=30, what="every valid reading stored")
            wait_until(lambda: worker.counts().acked == worker.counts().received, what="every message acknowledged")
            assert worker.dead_letters.stored_bytes <= dead_letter_bound
            assert sum(worker.dead_letters.counts().values()) <= worker.counts().received
            assert worker.connected.is_set() and worker.stalled_s() == 0.0

        run()
    finally:
        worker.stop()
    assert stored_times(store, "t_stack") == expected
