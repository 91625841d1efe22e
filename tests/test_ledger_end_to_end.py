"""The ledger end to end: compliance results computed by the jobs into the real InfluxDB, alert
transitions and API audit rows written by the project's own actions into SQLite and PostgreSQL, the
day sealed; then one stored record changed directly (an emission_avg field through InfluxDB's 1.x
/write, an alert transition or an audit row by SQL) and verify naming it; an amendment through the
compliance recomputation verifying as amended, sealed or not yet."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts import AlertRaised, actions, bundled_rules_path, load_rules
from alerts.lifecycle import Lifecycle
from alerts.lifecycle import Policy as LifecyclePolicy
from alerts.notifiers import Notification
from alerts.notifiers.mqtt import notification_topic
from alerts.notifiers.webhook import WebhookNotifier
from alerts.routing import parse_routes
from alerts.sender import OutboxSender, SenderPolicy
from alerts.templates import SEALED_DAY, sealed_day_payload
from api.keys import KeyStore
from api.roles import Role
from compliance.jobs import ComplianceJobs
from compliance.result_store import read_averages
from launch.arguments import UsageError
from launch.cli import main
from launch.ledger import agency_notice, open_ledger_database, parse_period, prepare_database, seal_through, sealing_hook, verify_plant
from tests.alert_receivers import WebhookReceiver
from tests.helpers import wait_until
from tests.postgres import PostgresServer
from wastewatch.compliance.profiles import load_bundled_profiles
from wastewatch.compliance.results import EMISSION_AVG
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.ledger.check import Verdict, verify
from wastewatch.ledger.leaves import point_key
from wastewatch.ledger.table import day_roots, sealed_days
from wastewatch.ledger.trails import max_ids
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, Reading
from wastewatch.relational import Database, DatabaseError, connect_url
from wastewatch.settings import Settings
from wastewatch.store.influx import InfluxStore

SECRET = "ledger-test-webhook-secret-0123456789abcdef"
DAY = date(2026, 11, 28)
NEXT = DAY + timedelta(days=1)
MIN = 60_000
HALF_HOUR_MS = 30 * MIN
EU = "eu-ied-annex-vi"
_pg_numbers = itertools.count(1)
_hostile_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/alerts.sqlite3"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"ledger_{next(_pg_numbers)}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = connect_url(db_url)
    prepare_database(database)
    yield database
    database.close()


@dataclass
class World:
    store: InfluxStore
    db: Database
    plant: PlantConfig
    jobs: ComplianceJobs
    clock: list[int]
    t0: int
    ack_id: int

    def seal(self, through: date = DAY) -> None:
        seal_through(self.store, self.db, self.plant, through, self.clock[0], first=DAY)

    def verify(self) -> Verdict:
        return verify_plant(self.store, self.db, self.plant)

    def avg_key(self, start_ms: int) -> str:
        tags = {"plant": "kotim", "profile": EU, "pollutant": "co", "period": "30min"}
        return point_key(EMISSION_AVG, tags, start_ms)


def make_world(store: InfluxStore, db: Database, catalog: PlantCatalog) -> World:
    plant = catalog.get("kotim")
    assert plant is not None
    start_ms, end_ms = day_bounds_ms(DAY, plant.zone)
    t0 = start_ms + 10 * 3_600_000  # 10:00 local, burning since 09:00
    store.write([Point(PLANT_STATE, {"plant": "kotim"}, {"state": "burning"}, t0 - 3_600_000)])
    store.write([Reading("kotim", s, t0 + m * MIN, v).to_point() for s, v in (("o2", 14.0), ("co", 40.0)) for m in range(60)])
    clock = [end_ms + 3_600_000]
    jobs = ComplianceJobs(store, load_bundled_profiles(), clock_ms=lambda: clock[0])
    report = jobs.run_day(plant, DAY)
    assert report.days and report.written > 0

    # an alert raised by the lifecycle, acknowledged, commented and assigned by operators
    rules = load_rules(bundled_rules_path("kotim"), plant).rules
    routes = parse_routes("operators=log", [], available=["log"])
    raised = AlertRaised(plant="kotim", rule_id="t_secondary_low", subject="t_secondary", severity="critical",
                         category="process", source="P.56/2015 Ps.22(1)c", at_ms=t0 + 5 * MIN, message="secondary 950",
                         value=950.0, condition_since_ms=t0 + 4 * MIN)
    with db.transaction():
        change = Lifecycle(db, routes, rules, catalog).apply(raised)
    assert change is not None
    ack = actions.acknowledge(db, change.alert.id, "ana", t0 + 10 * MIN, "seen, burner relit")
    actions.comment(db, change.alert.id, "ana", "back above 1000", t0 + 20 * MIN)
    actions.assign(db, change.alert.id, "budi", "ana", t0 + 25 * MIN)
    # key changes in the API's audit trail
    keys = KeyStore(db)
    keys.issue("dinas-lh", Role.AGENCY, "admin", t0 + 30 * MIN, plants=["kotim"])
    keys.revoke("dinas-lh", "admin", t0 + 40 * MIN)
    return World(store, db, plant, jobs, clock, t0, ack.transition_id)


@pytest.fixture
def world(influx_store: InfluxStore, db: Database, catalog: PlantCatalog) -> World:
    w = make_world(influx_store, db, catalog)
    w.seal()
    return w


def rewrite_field(store: InfluxStore, measurement: str, tags: dict[str, str], time_ms: int, field: str, value: str) -> None:
    """One field of a stored point written again straight through InfluxDB's 1.x /write (not our client);
    `value` in line protocol (`12.5`, `29i`)."""
    line = f"{measurement},{','.join(f'{k}={v}' for k, v in sorted(tags.items()))} {field}={value} {time_ms}"
    response = httpx.post(f"{store.url}/write", params={"db": store.database, "precision": "ms"}, content=line.encode())
    assert response.status_code == 204, response.text


def test_a_sealed_day_holds_every_kind_of_record_and_verifies(world: World) -> None:
    (day,) = sealed_days(world.db, "kotim")
    kinds = {leaf.kind for leaf in day.leaves}
    assert kinds == {"emission_avg", "emission_day", "alert_transition", "api_audit", "ledger_watermark"}
    assert day.watermarks == {"alert_transitions": 4, "api_audit": 2}
    transitions = [leaf.key for leaf in day.leaves if leaf.kind == "alert_transition"]
    assert len(transitions) == 4 and f"alert_transitions id={world.ack_id}" in transitions  # raised, ack, comment, assign
    assert sum(leaf.kind == "api_audit" for leaf in day.leaves) == 2
    verdict = world.verify()
    assert (verdict.ok, verdict.days, verdict.last_chain, verdict.amended) == (True, 1, day.chain, 0)
    # sealing again seals nothing, and a sealed day is never rewritten
    seal_through(world.store, world.db, world.plant, DAY, world.clock[0])
    assert sealed_days(world.db, "kotim") == [day]
    with pytest.raises(DatabaseError, match="append-only"):
        world.db.execute("UPDATE ledger_days SET root = ? WHERE plant = ?", ("0" * 64, "kotim"))
    with pytest.raises(DatabaseError, match="append-only"):
        world.db.execute("DELETE FROM ledger_days")


def test_an_emission_average_rewritten_in_influxdb_is_named(world: World) -> None:
    tags = {"plant": "kotim", "profile": EU, "pollutant": "co", "period": "30min"}
    rewrite_field(world.store, EMISSION_AVG, tags, world.t0 + HALF_HOUR_MS, "value", "12.5")
    found = world.verify().mismatch
    assert found is not None
    assert (found.problem, found.kind, found.key, found.day) == ("changed", "emission_avg", world.avg_key(world.t0 + HALF_HOUR_MS), DAY)


def test_an_alert_transition_changed_by_sql_is_named(world: World) -> None:
    world.db.execute("UPDATE alert_transitions SET actor = ? WHERE id = ?", ("mallory", world.ack_id))
    found = world.verify().mismatch
    assert found is not None
    assert (found.problem, found.kind, found.key, found.day) == ("changed", "alert_transition", f"alert_transitions id={world.ack_id}", DAY)


def test_audit_rows_changed_removed_or_added_by_sql_are_named(world: World) -> None:
    issued = world.db.query_one("SELECT id FROM api_audit WHERE action = 'key_issued'")
    revoked = world.db.query_one("SELECT id FROM api_audit WHERE action = 'key_revoked'")
    assert issued is not None and revoked is not None
    world.db.execute("UPDATE api_audit SET detail = ? WHERE id = ?", ("role=admin plants=*", issued["id"]))
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.key) == ("changed", f"api_audit id={issued['id']}")
    world.db.execute("DELETE FROM api_audit WHERE id = ?", (issued["id"],))
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.key) == ("missing", f"api_audit id={issued['id']}")


def test_an_audit_row_slipped_into_a_sealed_day_is_named(world: World) -> None:
    # a row under the day's watermark that was not there when it was sealed (the one above it moved up)
    world.db.execute("UPDATE api_audit SET id = id + 10 WHERE id = 2")
    world.db.execute("INSERT INTO api_audit (id, at_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                     (2, world.t0 + 35 * MIN, "admin", "key_issued", "backdoor", ""))
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.kind, found.key, found.day) == ("changed", "api_audit", "api_audit id=2", DAY)
    world.db.execute("DELETE FROM api_audit WHERE id = 2")
    world.db.execute("INSERT INTO api_audit (id, at_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                     (1_000, world.t0 + 35 * MIN, "admin", "key_issued", "backdoor", ""))
    found = world.verify().mismatch  # id 2 gone first; the later rows wait for the next seal
    assert found is not None and (found.problem, found.key) == ("missing", "api_audit id=2")


def test_a_row_written_late_with_an_older_time_joins_the_next_seal(world: World) -> None:
    # an alert raised from data replayed after an outage: its time is in the sealed day, its row is new
    late = world.db.insert("INSERT INTO api_audit (at_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?) RETURNING id",
                           (world.t0 + 50 * MIN, "admin", "key_issued", "late", ""))
    assert world.verify().ok
    world.clock[0] += 86_400_000
    world.seal(NEXT)
    (_, next_day) = sealed_days(world.db, "kotim")
    assert f"api_audit id={late}" in {leaf.key for leaf in next_day.leaves}
    assert world.verify().mismatch is None
    world.db.execute("UPDATE api_audit SET actor = ? WHERE id = ?", ("mallory", late))
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.key, found.day) == ("changed", f"api_audit id={late}", NEXT)


def test_a_watermark_changed_in_the_ledger_is_named(world: World) -> None:
    world.db.execute("DROP TRIGGER ledger_days_append_only ON ledger_days" if world.db.dialect.name == "postgresql"
                     else "DROP TRIGGER ledger_days_no_update")
    world.db.execute("UPDATE ledger_days SET watermarks = ? WHERE plant = ?", ('{"alert_transitions": 4, "api_audit": 1}', "kotim"))
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.kind, found.key) in {
        ("changed", "ledger_watermark", "api_audit"), ("missing", "api_audit", "api_audit id=2")}


def test_an_amendment_by_the_recomputation_verifies_as_amended_before_and_after_its_seal(world: World) -> None:
    # the CEMS re-sends its first 15 minutes flagged maintenance; the recomputation runs the next day
    world.store.write([Reading("kotim", "co", world.t0 + m * MIN, 40.0, "maintenance").to_point() for m in range(15)])
    world.clock[0] = day_bounds_ms(NEXT, world.plant.zone)[0] + 12 * 3_600_000
    report = world.jobs.recompute(world.plant, *day_bounds_ms(DAY, world.plant.zone))
    changed = {a.period for a in report.amendments if (a.profile, a.pollutant) == (EU, "co")}
    assert {"30min", "24h"} <= changed
    pending = world.verify()
    assert pending.ok and pending.pending >= 2 and pending.amended == 0

    world.seal(NEXT)
    sealed = world.verify()
    assert (sealed.ok, sealed.days, sealed.pending) == (True, 2, 0)
    assert sealed.amended == pending.pending
    (_, next_day) = sealed_days(world.db, "kotim")
    notes = [leaf for leaf in next_day.leaves if leaf.kind == "emission_amendment"]
    assert len(notes) == len(report.amendments)
    note = next(leaf for leaf in notes if leaf.target == world.avg_key(world.t0))
    assert note.replaced and note.replacement and note.replaced != note.replacement

    # the amended result then changed again outside the amendment path: named, on its own day
    tags = {"plant": "kotim", "profile": EU, "pollutant": "co", "period": "30min"}
    rewrite_field(world.store, EMISSION_AVG, tags, world.t0, "n_valid", "29i")
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.key, found.day) == ("changed", world.avg_key(world.t0), DAY)


def test_a_forged_amendment_explains_only_the_value_it_states_and_only_until_sealed(world: World) -> None:
    tags = {"plant": "kotim", "profile": EU, "pollutant": "co", "period": "30min"}
    (stored,) = read_averages(world.store, "kotim", world.t0, world.t0 + 1, profile=EU, pollutant="co", period="30min").values()
    rewrite_field(world.store, EMISSION_AVG, tags, world.t0, "value", "10.0")
    made_ms = world.clock[0] + 86_400_000  # made the day after next: not sealed yet

    def forge(value: float) -> None:
        world.store.write([Point("emission_amendment", {**tags, "amended_at": str(made_ms)}, {
            "old_quality": "valid", "new_quality": "valid", "old_value": stored.value or 0.0, "new_value": value,
            "old_version": stored.version, "new_version": stored.version, "reason": "late data"}, world.t0)])

    forge(11.0)  # claims another value than the one now stored: explains nothing
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.key) == ("changed", world.avg_key(world.t0))
    # one that states the stored value is accepted while its day is open (the exposure is the time to the seal) ...
    forge(10.0)
    assert world.verify().pending == 1
    # ... and once sealed it is in the chain with the hash it replaced: the sealed day's leaf still names it
    world.clock[0] = made_ms + 86_400_000
    world.seal(DAY + timedelta(days=2))
    (_, _, forged_day) = sealed_days(world.db, "kotim")
    (leaf,) = [leaf for leaf in forged_day.leaves if leaf.kind == "emission_amendment"]
    (first,) = [leaf for leaf in sealed_days(world.db, "kotim")[0].leaves if leaf.key == world.avg_key(world.t0)]
    assert (leaf.target, leaf.replaced) == (world.avg_key(world.t0), first.hash)


def test_the_commands_seal_and_verify_and_exit_1_naming_the_record(
    influx_store: InfluxStore, catalog: PlantCatalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_url = f"sqlite:///{tmp_path}/alerts.sqlite3"  # the commands run the same SQL on PostgreSQL (covered above)
    db = connect_url(db_url)
    prepare_database(db)
    world = make_world(influx_store, db, catalog)
    db.close()
    for name, value in {"WASTEWATCH_INFLUX_URL": influx_store.url, "WASTEWATCH_INFLUX_DATABASE": influx_store.database,
                        "WASTEWATCH_ALERTS_DB_URL": db_url, "WASTEWATCH_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(name, value)
    assert main(["ledger", "seal", "--plant", "kotim", "--through", DAY.isoformat()]) == 0
    assert "sealed 1 day" in capsys.readouterr().out
    assert main(["verify", "--period", "2026-11"]) == 0
    out = capsys.readouterr().out
    db = open_ledger_database(Settings(alerts_db_url=db_url, data_dir=tmp_path / "data"))
    (day,) = sealed_days(db, "kotim")
    db.close()
    assert out.strip() == f"kotim: OK, 1 sealed day checked; last chain hash {day.chain} ({DAY})"
    assert main(["ledger", "roots", "--period", "2026-Q4"]) == 0
    assert day.root in capsys.readouterr().out

    tags = {"plant": "kotim", "profile": EU, "pollutant": "co", "period": "30min"}
    rewrite_field(influx_store, EMISSION_AVG, tags, world.t0, "value", "1.0")
    assert main(["verify", "--plant", "kotim", "--period", f"{DAY}..{NEXT}"]) == 1
    out = capsys.readouterr().out
    assert f"changed: emission_avg {world.avg_key(world.t0)} of kotim {DAY}" in out
    assert main(["verify", "--period", "2026-13"]) == 2
    assert main(["ledger", "seal", "--through", "2099-01-01"]) == 2


def test_a_result_deleted_from_influxdb_is_named_missing(world: World) -> None:
    start_ms = day_bounds_ms(DAY, world.plant.zone)[0]
    world.store.query(f"DELETE FROM emission_day WHERE plant = 'kotim' AND pollutant = 'co' AND time = {start_ms}ms", method="POST")
    found = world.verify().mismatch
    assert found is not None and (found.problem, found.kind, found.day) == ("missing", "emission_day", DAY)
    assert found.key == point_key("emission_day", {"plant": "kotim", "profile": EU, "pollutant": "co"}, start_ms)


def test_a_ledger_row_rewritten_around_its_triggers_breaks_the_chain(world: World) -> None:
    if world.db.dialect.name == "postgresql":
        world.db.execute("DROP TRIGGER ledger_days_append_only ON ledger_days")
    else:
        world.db.execute("DROP TRIGGER ledger_days_no_update")
    world.db.execute("UPDATE ledger_days SET leaves = ? WHERE plant = ?", ("not json", "kotim"))
    found = world.verify().mismatch
    assert found is not None and found.problem == "chain" and "unreadable" in found.detail


def test_the_day_job_seals_its_day_through_the_hook(influx_store: InfluxStore, db: Database, catalog: PlantCatalog) -> None:
    world = make_world(influx_store, db, catalog)
    jobs = ComplianceJobs(influx_store, load_bundled_profiles(), clock_ms=lambda: world.clock[0],
                          after_day=[sealing_hook(db)])
    report = jobs.run_day(world.plant, DAY)
    (sealed,) = report.after_day
    assert isinstance(sealed, list) and [d.day for d in sealed] == [DAY]
    assert day_roots(db, "kotim", DAY, NEXT) == [(DAY, sealed[0].root, sealed[0].chain)]
    assert world.verify().ok
    # the next night's job seals the next day after it, on the same chain
    world.clock[0] += 86_400_000
    (after,) = jobs.run_day(world.plant, NEXT).after_day
    assert isinstance(after, list) and [(d.day, d.previous) for d in after] == [(NEXT, sealed[0].chain)]


def test_the_agency_gets_each_sealed_days_chain_hash_through_the_outbox_once(
    influx_store: InfluxStore, db: Database, db_url: str, catalog: PlantCatalog,
) -> None:
    """The day job seals its day and the agency's webhook receives that day's root and chain hash, signed,
    through the alert outbox and its sender; sealing the same day again adds no second notification."""
    world = make_world(influx_store, db, catalog)
    receiver = WebhookReceiver(SECRET).start()
    routes = parse_routes("agency=webhook", ["regulatory"], ["webhook"])
    lifecycle = Lifecycle(db, routes, (), catalog, LifecyclePolicy(), annotate=False)
    jobs = ComplianceJobs(influx_store, load_bundled_profiles(), clock_ms=lambda: world.clock[0],
                          after_day=[sealing_hook(db, agency_notice(lifecycle))])
    sender_db = connect_url(db_url)
    sender = OutboxSender(sender_db, {"webhook": WebhookNotifier(receiver.url, SECRET, timeout_s=10)}, SenderPolicy(retry_base_s=0.05))
    try:
        (sealed,) = jobs.run_day(world.plant, DAY).after_day
        assert isinstance(sealed, list) and [d.day for d in sealed] == [DAY]
        assert lifecycle.notify_sealed_day("kotim", DAY.isoformat(), sealed[0].root, sealed[0].chain, 1, world.clock[0]) == 0
        sender.start()
        sender.wake()
        (got,) = wait_until(lambda: receiver.accepted or None, timeout_s=30, what="the sealed day at the agency's webhook")
    finally:
        sender.stop()
        sender_db.close()
        receiver.stop()
    assert got.verified and got.body["kind"] == "ledger_day" and got.body["day"] == DAY.isoformat()
    assert (got.body["root"], got.body["chain"]) == (sealed[0].root, sealed[0].chain)
    assert sealed[0].chain in got.body["text"]["id"]["body"] and sealed[0].chain in got.body["text"]["en"]["body"]


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-11-28", DAY, DAY),
    ("2026-11-28..2026-12-02", DAY, date(2026, 12, 2)),
])
def test_periods(text: str, first: date, last: date) -> None:
    assert parse_period(text) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "2026-11-31", "2026-12-02..2026-11-28", "november", "2026-11-28.."])
def test_bad_periods_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_period(text)


def test_sealing_stops_before_a_day_whose_day_job_has_not_run(world: World) -> None:
    t1 = world.t0 + 86_400_000
    world.store.write([Reading("kotim", s, t1 + m * MIN, v).to_point() for s, v in (("o2", 14.0), ("co", 40.0)) for m in range(30)])
    world.clock[0] += 86_400_000
    assert world.jobs.run_half_hour(world.plant, t1 + HALF_HOUR_MS).written > 0  # NEXT's averages, no daily results yet
    assert seal_through(world.store, world.db, world.plant, NEXT, world.clock[0]) == []
    assert [d.day for d in sealed_days(world.db, "kotim")] == [DAY]
    world.jobs.run_day(world.plant, NEXT)
    assert [d.day for d in seal_through(world.store, world.db, world.plant, NEXT, world.clock[0])] == [NEXT]
    assert world.verify().ok


def test_watermarks_on_postgresql_wait_for_an_insert_in_flight(postgres: PostgresServer) -> None:
    """PostgreSQL hands out ids before commit: a watermark read while a row is being inserted waits for it,
    so no row under a watermark commits after the seal read it."""
    url = postgres.create_database(f"ledger_{next(_pg_numbers)}")
    writer, sealer, watcher = connect_url(url), connect_url(url), connect_url(url)
    try:
        prepare_database(writer)
        result: list[dict[str, int]] = []
        with writer.transaction():
            row_id = writer.insert("INSERT INTO api_audit (at_ms, actor, action, target, detail) VALUES (1, 'a', 'login', 'a', '') RETURNING id")
            thread = threading.Thread(target=lambda: result.append(max_ids(sealer)))
            thread.start()
            deadline = time.monotonic() + 30
            while not watcher.query_one("SELECT 1 AS x FROM pg_locks WHERE NOT granted AND mode = 'ShareLock'"):
                assert time.monotonic() < deadline, "the watermark read did not wait for the insert in flight"
                time.sleep(0.02)
        thread.join(30)
        assert result == [{"alert_transitions": 0, "api_audit": row_id}]
    finally:
        for db in (writer, sealer, watcher):
            db.close()
        postgres.drop_database(url.rsplit("/", 1)[1])


json_like = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leaves=st.one_of(st.text(max_size=40), json_like.map(json.dumps)),
       marks=st.one_of(st.text(max_size=20), json_like.map(json.dumps)), hexes=st.lists(st.text("0123456789abcdef", max_size=64), min_size=3, max_size=3))
def test_hostile_ledger_rows_end_in_a_named_broken_chain(tmp_path: Path, catalog: PlantCatalog, leaves: str, marks: str, hexes: list[str]) -> None:
    """A ledger_days row written around the ledger with anything in it: verify still answers, naming the chain."""
    db = connect_url(f"sqlite:///{tmp_path}/hostile-{next(_hostile_numbers)}.sqlite3")
    try:
        prepare_database(db)
        db.execute("INSERT INTO ledger_days (plant, day, root, previous_chain, chain, leaves, leaf_count, watermarks, sealed_at_ms)"
                   " VALUES ('kotim', '2026-11-28', ?, ?, ?, ?, 0, ?, 0)", (hexes[0], hexes[1], hexes[2], leaves, marks))
        plant = catalog.get("kotim")
        assert plant is not None
        days = sealed_days(db, "kotim")
        verdict = verify(days, [DAY], {DAY: []}, [])
        assert verdict.mismatch is not None and verdict.mismatch.problem in {"chain", "missing", "changed", "added"}
    finally:
        db.close()


def test_a_sealed_day_on_the_mqtt_channel_goes_to_the_plants_ledger_topic() -> None:
    payload = sealed_day_payload(None, "kotim", "2026-11-28", "ab" * 32, "cd" * 32, 734, language="id", at_ms=0)
    assert notification_topic(Notification(1, "k", "mqtt", SEALED_DAY, payload)) == "plants/kotim/alerts/ledger"
