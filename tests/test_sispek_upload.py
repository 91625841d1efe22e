"""The SISPEK uploader end to end: readings in the real InfluxDB → 5-minute records → the local
stand-in server (tests/sispek_standin.py), through the outbox on SQLite and PostgreSQL. The clock is
the test's own (`Clock`), so back-off and outages are hours of plant time in a second."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from launch.cli import main
from sispek.averages import SLOT_MS, local_time
from sispek.client import SispekClient
from sispek.lease import UploaderLease
from sispek.outbox import SispekOutbox
from sispek.schema import create_schema
from sispek.service import SispekService
from sispek.stacks import load_stacks
from sispek.uploader import Uploader, UploadPolicy
from tests.sispek_standin import APP_ID, APP_SECRET, SispekStandin
from wastewatch.plant import load_catalog
from wastewatch.records import Reading
from wastewatch.relational import Database, SqliteDatabase, connect_url
from wastewatch.store.influx import InfluxStore

ZONE = ZoneInfo("Asia/Jakarta")
HOUR = 3_600_000
T0 = 1_764_554_400_000  # 2025-12-01T02:00:00Z, 09:00 WIB: an hour boundary
STACK = "KOTIM-INS-01"
SENSORS = {"so2": 40.0, "nox": 180.0, "co": 20.0, "hcl": 5.0, "dust": 3.0, "toc": 2.0, "o2": 10.5, "flow": 5600.0}
_pg_numbers = itertools.count(1)


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database: Database = SqliteDatabase(tmp_path / "sispek.sqlite3")
    else:
        postgres = request.getfixturevalue("postgres")
        name = f"sispek_{next(_pg_numbers)}"
        database = connect_url(postgres.create_database(name))
    create_schema(database)
    yield database
    database.close()
    if request.param == "postgres":
        postgres.drop_database(name)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = SqliteDatabase(tmp_path / "sispek.sqlite3")
    create_schema(database)
    yield database
    database.close()


@pytest.fixture
def standin() -> Iterator[SispekStandin]:
    server = SispekStandin().start()
    yield server
    server.stop()


def value_at(sensor: str, t_ms: int) -> float:
    """A reading that varies per minute, so a mean is not any one reading."""
    return SENSORS[sensor] + ((t_ms // 60_000) % 7) * 0.5


def write_readings(store: InfluxStore, start_ms: int, end_ms: int, *, skip: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
                   status: dict[tuple[str, int], str] | None = None) -> None:
    """1-minute readings of every stack sensor in [start, end); `skip` leaves out (sensor, slot) pairs,
    `status` gives (sensor, slot) pairs another status."""
    points = []
    for t in range(start_ms, end_ms, 60_000):
        slot = t - t % SLOT_MS
        for sensor in SENSORS:
            if (sensor, slot) in skip or ("*", slot) in skip:
                continue
            given = (status or {}).get((sensor, slot)) or (status or {}).get(("*", slot)) or "valid"
            points.append(Reading("kotim", sensor, t, value_at(sensor, t), given).to_point())  # type: ignore[arg-type]
    for i in range(0, len(points), 5000):
        store.write(points[i:i + 5000])


def make_uploader(db: Database, store: InfluxStore, standin: SispekStandin, clock: Clock, **policy: object) -> tuple[Uploader, SispekClient]:
    stacks = load_stacks(None, load_catalog(None))
    client = SispekClient(standin.url, APP_ID, APP_SECRET, timeout_s=5)
    values = {"settle_s": 60, "retry_window_h": 24, "retry_base_s": 60.0, "retry_max_s": 1800.0, **policy}
    return Uploader(db, store, client, stacks, {"kotim": ZONE}, UploadPolicy(**values), wall=clock), client  # type: ignore[arg-type]


def test_readings_become_five_minute_values_uploaded_each_exactly_once(db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    write_readings(influx_store, T0, T0 + 2 * HOUR)
    clock = Clock(T0 + 2 * HOUR + 61_000)
    uploader, client = make_uploader(db, influx_store, standin, clock)
    try:
        assert uploader.queue_closed() == 24
        assert uploader.send_due() == 24
        clock.ms += 3 * HOUR  # later passes: nothing new was written, nothing is sent again
        assert uploader.queue_closed() == 0 and uploader.send_due() == 0
    finally:
        client.close()
    assert standin.violations == []
    expected = [local_time(T0 + i * SLOT_MS, ZONE) for i in range(24)]
    assert [w for _, w in standin.arrivals] == expected  # in time order, each once
    assert set(standin.deliveries.values()) == {1}
    first = standin.accepted[(STACK, "2025-12-01 09:00:00")]
    minutes = range(T0, T0 + SLOT_MS, 60_000)
    assert first["parameter"]["SO2"] == pytest.approx(sum(value_at("so2", t) for t in minutes) / 5)
    assert first["o2"] == pytest.approx(sum(value_at("o2", t) for t in minutes) / 5)
    assert first["laju_alir"] == pytest.approx(sum(value_at("flow", t) for t in minutes) / 5)
    assert set(first["parameter"]) == {"SO2", "NOx", "CO", "HCl", "Partikulat", "TOC"}
    outbox = SispekOutbox(db)
    assert outbox.counts() == {"sent": 24}
    attempts = outbox.attempts()
    assert len(attempts) == 24 and all(a.ok and a.http_status == 200 and "SISPEK-" in a.receipt for a in attempts)
    assert all(r.receipt and "SISPEK-" in r.receipt for r in outbox.rows("sent"))
    assert [m for m, p, _ in standin.requests].count("POST") == 3  # one token call, one request per hour


def test_a_slot_without_a_valid_reading_is_absent_not_zero(sqlite_db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    slot = [T0 + i * SLOT_MS for i in range(12)]
    write_readings(influx_store, T0, T0 + HOUR,
                   skip={("so2", slot[3]), ("*", slot[5])},
                   status={("co", slot[7]): "maintenance", ("*", slot[9]): "malfunction", ("nox", slot[10]): "suspect"})
    uploader, client = make_uploader(sqlite_db, influx_store, standin, Clock(T0 + HOUR + 61_000))
    try:
        uploader.queue_closed()
        uploader.send_due()
    finally:
        client.close()
    assert standin.violations == []
    got = {w: r for (_, w), r in standin.accepted.items()}
    waktu = [local_time(s, ZONE) for s in slot]
    assert "SO2" not in got[waktu[3]]["parameter"] and got[waktu[3]]["parameter"]["NOx"] > 0  # no SO2 reading: no SO2 value
    assert waktu[5] not in got and waktu[9] not in got  # no reading at all, or only broken ones: no record
    assert "CO" not in got[waktu[7]]["parameter"]  # calibration: missing (sentinels are off)
    assert "NOx" not in got[waktu[10]]["parameter"]  # suspect readings are not valid ones
    assert len(got) == 10
    assert all(0 not in r["parameter"].values() for r in got.values())


def test_sentinels_only_when_the_setting_asks_for_them(sqlite_db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    slot = [T0 + i * SLOT_MS for i in range(12)]
    write_readings(influx_store, T0, T0 + HOUR, status={("co", slot[7]): "maintenance", ("so2", slot[8]): "malfunction"})
    uploader, client = make_uploader(sqlite_db, influx_store, standin, Clock(T0 + HOUR + 61_000), send_sentinels=True)
    try:
        uploader.queue_closed()
        uploader.send_due()
    finally:
        client.close()
    got = {w: r for (_, w), r in standin.accepted.items()}
    assert got[local_time(slot[7], ZONE)]["parameter"]["CO"] == 1.0
    assert got[local_time(slot[8], ZONE)]["parameter"]["SO2"] == 0.0
    assert got[local_time(slot[6], ZONE)]["parameter"]["CO"] > 1.0  # a measured slot keeps its mean


def test_a_twelve_hour_outage_is_back_filled_in_order_each_record_once(sqlite_db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    write_readings(influx_store, T0, T0 + 13 * HOUR)
    standin.stop()  # the server is down: connections are refused
    clock = Clock(T0 + HOUR + 61_000)
    step = SLOT_MS
    uploader, client = make_uploader(sqlite_db, influx_store, standin, clock)
    try:
        while clock.ms < T0 + 13 * HOUR + 61_000:
            uploader.queue_closed()
            assert uploader.send_due() == 0
            clock.ms += step
        outbox = SispekOutbox(sqlite_db)
        assert outbox.counts() == {"pending": 12 * 12}
        standin.start()  # back on the same port, after 12 hours
        clock.ms = T0 + 13 * HOUR + 61_000
        uploader.queue_closed()
        while outbox.counts().get("pending"):
            uploader.send_due()
            clock.ms += step
    finally:
        client.close()
    assert standin.violations == []
    expected = [local_time(T0 + i * SLOT_MS, ZONE) for i in range(13 * 12)]
    assert [w for _, w in standin.arrivals] == expected  # the back-fill in time order, then the 13th hour
    assert set(standin.deliveries.values()) == {1}
    first = outbox.rows("sent")[0]
    attempts = outbox.attempts(first.id)
    assert [a.ok for a in attempts] == [False] * (len(attempts) - 1) + [True]
    gaps = [b.at_ms - a.at_ms for a, b in itertools.pairwise(attempts[:-1])]
    assert gaps == sorted(gaps) and max(gaps) <= 1800_000 + step  # exponential, capped at retry_max_s
    assert gaps[0] == step and max(gaps) >= 1800_000  # the first retry after base (60 s, the next 5-min tick), then the cap
    assert all(not a.ok and a.retryable and a.http_status is None for a in attempts[:-1])  # refused: no HTTP status


def test_a_server_error_is_retried_with_back_off_and_delivered_once(db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    write_readings(influx_store, T0, T0 + HOUR)
    standin.fail_next = [500, 503]
    clock = Clock(T0 + HOUR + 61_000)
    uploader, client = make_uploader(db, influx_store, standin, clock, retry_base_s=10.0)
    outbox = SispekOutbox(db)
    try:
        uploader.queue_closed()
        assert uploader.send_due() == 0
        clock.ms += 9_000
        assert uploader.send_due() == 0 and len(outbox.attempts()) == 12  # the back-off is waited out
        clock.ms += 1_000
        assert uploader.send_due() == 0  # 503: the second wait is twice the first
        clock.ms += 19_000
        assert uploader.send_due() == 0
        clock.ms += 1_000
        assert uploader.send_due() == 12
    finally:
        client.close()
    assert standin.violations == [] and set(standin.deliveries.values()) == {1} and len(standin.accepted) == 12
    row = outbox.rows("sent")[0]
    attempts = outbox.attempts(row.id)
    assert [(a.ok, a.retryable, a.http_status) for a in attempts] == [(False, True, 500), (False, True, 503), (True, False, 200)]
    assert [b.at_ms - a.at_ms for a, b in itertools.pairwise(attempts)] == [10_000, 20_000]


def test_a_validation_error_is_recorded_and_not_retried(db: Database, influx_store: InfluxStore, standin: SispekStandin,
                                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write_readings(influx_store, T0, T0 + HOUR)
    bad = local_time(T0 + 4 * SLOT_MS, ZONE)
    standin.reject_waktu = {bad}
    clock = Clock(T0 + HOUR + 61_000)
    uploader, client = make_uploader(db, influx_store, standin, clock)
    outbox = SispekOutbox(db)
    try:
        uploader.queue_closed()
        assert uploader.send_due() == 11  # the batch is refused, then each record alone: one bad record fails alone
        for _ in range(5):
            clock.ms += HOUR
            uploader.queue_closed()
            uploader.send_due()
    finally:
        client.close()
    assert standin.violations == []
    assert len(standin.accepted) == 11 and (STACK, bad) not in standin.accepted
    assert standin.rejected == [(STACK, bad), (STACK, bad)]  # in the batch, then alone; never again
    failed = outbox.rows("failed")
    assert len(failed) == 1 and "nilai di luar rentang" in (failed[0].last_error or "")
    assert [(a.ok, a.retryable, a.http_status) for a in outbox.attempts(failed[0].id)] == [(False, False, 422)] * 2
    assert outbox.counts() == {"sent": 11, "failed": 1}


def test_status_shows_pending_sent_failed_and_the_last_receipt(sqlite_db: Database, influx_store: InfluxStore, standin: SispekStandin,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_readings(influx_store, T0, T0 + 2 * HOUR)
    standin.reject_waktu = {local_time(T0, ZONE)}
    clock = Clock(T0 + HOUR + 61_000)
    uploader, client = make_uploader(sqlite_db, influx_store, standin, clock)
    try:
        uploader.queue_closed()
        uploader.send_due()
        standin.stop()
        clock.ms += HOUR
        uploader.queue_closed()
        uploader.send_due()
    finally:
        client.close()
    monkeypatch.setenv("WASTEWATCH_ALERTS_DB_URL", f"sqlite:///{tmp_path / 'sispek.sqlite3'}")
    assert main(["sispek", "status"]) == 0
    out = capsys.readouterr().out
    assert "unofficial until confirmed with KLHK" in out
    assert "pending=12 sent=11 failed=1" in out
    assert "last receipt:" in out and "SISPEK-" in out and "stack KOTIM-INS-01" in out
    assert "failed: stack KOTIM-INS-01 slot 2025-12-01T02:00:00Z" in out and "nilai di luar rentang" in out
    assert "oldest pending: stack KOTIM-INS-01 slot 2025-12-01T03:00:00Z attempts=1" in out


def test_records_unsent_past_the_retry_window_are_marked_failed(sqlite_db: Database, influx_store: InfluxStore, standin: SispekStandin,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    write_readings(influx_store, T0, T0 + 2 * HOUR)
    standin.stop()
    clock = Clock(T0 + 2 * HOUR + 61_000)
    uploader, client = make_uploader(sqlite_db, influx_store, standin, clock, retry_window_h=3)
    outbox = SispekOutbox(sqlite_db)
    try:
        uploader.queue_closed()
        uploader.send_due()
        clock.ms = T0 + 3 * HOUR + 30 * 60_000  # the first hour's slots are older than 3 h from now on, the second's not yet
        clock.ms += 10 * 60_000
        uploader.send_due()
    finally:
        client.close()
    counts = outbox.counts()
    assert counts == {"failed": 8, "pending": 16}, counts  # 09:00-09:35 WIB are past 3 h at 12:40
    assert "unsent after 3 h, marked failed" in caplog.text
    assert all("unsent after the retry window" in (r.last_error or "") for r in outbox.rows("failed"))


def test_the_token_is_fetched_again_when_it_expires(sqlite_db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    write_readings(influx_store, T0, T0 + 2 * HOUR)
    clock = Clock(T0 + HOUR + 61_000)
    uploader, client = make_uploader(sqlite_db, influx_store, standin, clock)
    try:
        uploader.queue_closed()
        assert uploader.send_due() == 12
        standin.expire_tokens()
        clock.ms += HOUR
        uploader.queue_closed()
        assert uploader.send_due() == 12
    finally:
        client.close()
    assert standin.violations == [] and len(standin.accepted) == 24
    assert [p for _, p, _ in standin.requests].count("/api/v2/token") == 2
    assert ("POST", "/api/v2/cerobong/data", 401) in standin.requests
    assert math.isfinite(sum(r["o2"] for r in standin.accepted.values()))


def test_the_command_and_its_settings_say_it_is_unofficial(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sispek", "--help"])
    out = capsys.readouterr().out
    assert "SISPEK upload, unofficial until confirmed with KLHK" in out
    for variable in ("WASTEWATCH_SISPEK_BASE_URL", "WASTEWATCH_SISPEK_APP_ID", "WASTEWATCH_SISPEK_APP_SECRET", "WASTEWATCH_SISPEK_STACKS_FILE",
                     "WASTEWATCH_SISPEK_INTERVAL_S", "WASTEWATCH_SISPEK_RETRY_WINDOW_H", "WASTEWATCH_SISPEK_ENABLED"):
        assert variable in out
    assert "WARNING: distorts averages" in out
    assert main(["sispek", "run"]) == 2  # disabled by default: one line, exit 2
    assert "WASTEWATCH_SISPEK_ENABLED=true" in capsys.readouterr().err


def test_readings_back_filled_after_a_plant_outage_are_uploaded_late_once(sqlite_db: Database, influx_store: InfluxStore,
                                                                         standin: SispekStandin) -> None:
    write_readings(influx_store, T0, T0 + HOUR)
    write_readings(influx_store, T0 + 3 * HOUR, T0 + 4 * HOUR)  # the gateway was offline for the two hours between
    clock = Clock(T0 + 4 * HOUR + 61_000)
    uploader, client = make_uploader(sqlite_db, influx_store, standin, clock)
    try:
        uploader.queue_closed()
        assert uploader.send_due() == 24
        write_readings(influx_store, T0 + HOUR, T0 + 3 * HOUR)  # its buffer arrives after the hours were queued
        clock.ms += 10 * 60_000
        assert uploader.queue_closed() == 0  # no period closed since: nothing is scanned again
        clock.ms += HOUR
        assert uploader.queue_closed() == 24
        assert uploader.send_due() == 24
        clock.ms += HOUR
        uploader.queue_closed()
        assert uploader.send_due() == 0
    finally:
        client.close()
    assert standin.violations == [] and set(standin.deliveries.values()) == {1} and len(standin.accepted) == 48
    late = [w for _, w in standin.arrivals[24:]]
    assert late == [local_time(T0 + HOUR + i * SLOT_MS, ZONE) for i in range(24)]  # the late hours in time order


def test_one_uploader_at_a_time_holds_the_lease(db: Database, influx_store: InfluxStore, standin: SispekStandin) -> None:
    write_readings(influx_store, T0, T0 + 2 * HOUR)
    clock = Clock(T0 + HOUR + 61_000)
    first, first_client = make_uploader(db, influx_store, standin, clock)
    second, second_client = make_uploader(db, influx_store, standin, clock)
    a = SispekService(db, first, UploaderLease(db, "a", 60_000))
    b = SispekService(db, second, UploaderLease(db, "b", 60_000))
    try:
        assert a.run_pass() and not b.run_pass()
        assert len(standin.accepted) == 12
        clock.ms += 30_000
        assert not b.run_pass() and a.run_pass()  # a renews its lease each pass
        clock.ms += 59_000
        assert not b.run_pass()
        clock.ms += 1_000  # a stopped renewing 60 s ago: its lease lapsed
        assert b.run_pass() and not a.run_pass()
        b.lease.release()  # a clean stop gives it up at once
        clock.ms = T0 + 2 * HOUR + 61_000
        assert a.run_pass() and not b.run_pass()
        assert len(standin.accepted) == 24
    finally:
        first_client.close()
        second_client.close()
    assert standin.violations == [] and set(standin.deliveries.values()) == {1}
    assert SispekOutbox(db).counts() == {"sent": 24}
