"""Hostile readings (random finite values, gaps, every status, duplicates, times at slot edges): the
5-minute records never hold a value the raw data does not support, and their payload always passes
the stand-in's checks. The mapping file is validated with errors naming the field."""

from __future__ import annotations

import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sispek.averages import SENTINEL_CALIBRATION, SENTINEL_MALFUNCTION, SLOT_MS, five_minute_records, local_time
from sispek.client import SispekClient
from sispek.outbox import SispekOutbox
from sispek.schema import create_schema
from sispek.stacks import SispekConfigError, StackMapping, check_against_server, load_stacks
from sispek.uploader import Uploader, UploadPolicy
from tests.sispek_standin import APP_ID, APP_SECRET, SispekStandin, check_submit
from wastewatch.compliance.samples import STATUS_ORDER, Sample
from wastewatch.plant import load_catalog
from wastewatch.records import Reading
from wastewatch.relational import SqliteDatabase
from wastewatch.store.influx import InfluxStore

ZONE = ZoneInfo("Asia/Jakarta")
START = 1_764_554_400_000
END = START + 6 * SLOT_MS
STACK = StackMapping(plant="kotim", id_cerobong="S1", parameters={"SO2": "so2", "CO": "co"}, oxygen="o2", flow="flow")
SENSORS = ("so2", "co", "o2", "flow")

samples_st = st.lists(
    st.builds(
        Sample,
        st.integers(START - SLOT_MS, END + SLOT_MS),  # some outside the range: they must not count
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(STATUS_ORDER),
    ),
    max_size=60,
).map(sorted)


def _in_slot(samples: list[Sample], slot_ms: int) -> list[Sample]:
    return [s for s in samples if slot_ms <= s.time_ms < slot_ms + SLOT_MS]


def _supported(value: float, samples: list[Sample]) -> bool:
    valid = [s.value for s in samples if s.status == "valid"]
    return bool(valid) and min(valid) <= value <= max(valid)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({s: samples_st for s in SENSORS}), st.booleans())
def test_every_value_is_supported_by_the_raw_readings(data: dict[str, list[Sample]], sentinels: bool) -> None:
    records = five_minute_records(STACK, data, START, END, ZONE, send_sentinels=sentinels)  # returns: liveness
    by_slot = {r.slot_ms: r for r in records}
    assert len(by_slot) == len(records) and [r.slot_ms for r in records] == sorted(by_slot)
    for slot_ms in range(START, END, SLOT_MS):
        inside = {sensor: _in_slot(data[sensor], slot_ms) for sensor in SENSORS}
        record = by_slot.get(slot_ms)
        for name, sensor in STACK.parameters.items():
            here = inside[sensor]
            has_valid = any(s.status == "valid" for s in here)
            value = None if record is None else record.parameters.get(name)
            if has_valid:
                assert value is not None and _supported(value, here)
            elif sentinels and any(s.status in ("maintenance", "malfunction") for s in here):
                assert value in (SENTINEL_CALIBRATION, SENTINEL_MALFUNCTION) and name in record.sentinels  # type: ignore[union-attr]
            else:
                assert value is None  # nothing valid: missing, never zero
        for attr, sensor in (("o2", "o2"), ("flow", "flow")):
            value = None if record is None else getattr(record, attr)
            assert (value is not None) == any(s.status == "valid" for s in inside[sensor])
            if value is not None:
                assert _supported(value, inside[sensor])
        if record is None:
            assert sentinels or not any(s.status == "valid" for sensor in SENSORS for s in inside[sensor])
    if records:
        body = {"id_cerobong": "S1", "data": [r.payload() for r in records]}
        assert check_submit(body, {"S1": ["SO2", "CO"]}) == []


def test_the_bundled_example_maps_kotim_sensors() -> None:
    stacks = load_stacks(None, load_catalog(None))
    assert [s.id_cerobong for s in stacks] == ["KOTIM-INS-01"] and stacks[0].oxygen == "o2" and stacks[0].flow == "flow"


@pytest.mark.parametrize(("text", "message"), [
    ("stacks: []\n", "stacks: List should have at least 1 item"),
    ("stacks:\n  - {plant: kotim, id_cerobong: A, parameters: {SO2: nope}}\n", "plant kotim has no sensor 'nope'"),
    ("stacks:\n  - {plant: elsewhere, id_cerobong: A, parameters: {SO2: so2}}\n", "plant 'elsewhere' is not in the plant catalogue"),
    ("stacks:\n  - {plant: kotim, id_cerobong: A, parameters: {}}\n", "stacks.0.parameters"),
    ("stacks:\n  - {plant: kotim, id_cerobong: 'a b', parameters: {SO2: so2}}\n", "stacks.0.id_cerobong"),
    ("stacks:\n  - {plant: kotim, id_cerobong: A, parameters: {SO2: so2}}\n  - {plant: kotim, id_cerobong: A, parameters: {CO: co}}\n",
     "id_cerobong 'A' is mapped twice"),
    ("stacks:\n  - {plant: kotim, id_cerobong: A, parameters: {SO2: so2}, colour: red}\n", "stacks.0.colour"),
])
def test_a_bad_mapping_file_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "stacks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SispekConfigError) as caught:
        load_stacks(path, load_catalog(None))
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_the_mapping_is_checked_against_the_servers_stacks() -> None:
    with pytest.raises(SispekConfigError, match="lists no such id_cerobong"):
        check_against_server([STACK], {"OTHER": ["SO2"]})
    with pytest.raises(SispekConfigError, match="expects no parameter 'CO'"):
        check_against_server([STACK], {"S1": ["SO2"]})
    assert check_against_server([STACK], {"S1": ["SO2", "CO", "NOx"]}) == ["stack S1: the server expects 'NOx', which no sensor is mapped to"]


_hours = itertools.count(1)
_readings_st = st.lists(
    st.tuples(st.sampled_from(("so2", "co", "o2", "flow")), st.integers(0, 3_599_999),
              st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from(("valid", "maintenance", "malfunction"))),
    max_size=40,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_readings_st)
def test_through_influxdb_and_the_standin_every_sent_value_is_supported(influx_store: InfluxStore, tmp_path: Path,
                                                                       readings: list[tuple[str, int, float, str]]) -> None:
    start = START + next(_hours) * 3_600_000  # an hour of its own in the test's database
    points = {(sensor, start + offset): Reading("kotim", sensor, start + offset, value, status)  # type: ignore[arg-type]
              for sensor, offset, value, status in readings}  # one reading per sensor and instant, as the store keeps
    if points:
        influx_store.write([r.to_point() for r in points.values()])
    standin = SispekStandin({"S1": ["SO2", "CO"]}).start()
    db = SqliteDatabase(tmp_path / f"h{start}.sqlite3")
    create_schema(db)
    client = SispekClient(standin.url, APP_ID, APP_SECRET, timeout_s=5)
    clock_s = (start + 3_600_000) / 1000
    try:
        uploader = Uploader(db, influx_store, client, [STACK], {"kotim": ZONE},
                            UploadPolicy(settle_s=0, retry_window_h=1), wall=lambda: clock_s)
        uploader.queue_closed()
        uploader.send_due()
        assert SispekOutbox(db).counts().get("pending", 0) == 0  # live: everything queued was sent
    finally:
        client.close()
        db.close()
        standin.stop()
    assert standin.violations == []
    for (_, waktu), record in standin.accepted.items():
        slot = next(s for s in range(start, start + 3_600_000, SLOT_MS) if local_time(s, ZONE) == waktu)
        for name, value in [*record["parameter"].items(), ("o2", record.get("o2")), ("flow", record.get("laju_alir"))]:
            if value is None:
                continue
            sensor = STACK.parameters.get(name, name)
            valid = [r.value for (s, t), r in points.items() if s == sensor and slot <= t < slot + SLOT_MS and r.status == "valid"]
            assert valid and min(valid) <= value <= max(valid), (name, value, valid)
    slots_with_valid = {local_time(t - t % SLOT_MS, ZONE) for (_, t), r in points.items() if r.status == "valid"}
    assert {w for _, w in standin.accepted} == slots_with_valid
