"""Alerts the agency can trust (issue 17), replayed: simulated days through the decoder and the alert
engine the worker runs, and through the running worker itself.

- a fault-free day raises no alert at all (30 days, the daily and the continuous schedule);
- each fault scenario, at three times of day and on two seeds, raises exactly its expected alerts,
  and at most one of them reaches the agency (critical, or of an agency category);
- a worker started mid-operation and SIGKILLed mid-day raises nothing on a fault-free day.

The sweeps are slow: `pytest -m fault tests/test_trust_replay.py -s` runs them and prints the numbers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from alerts import AlertEvent, bundled_rules_path, load_rules
from alerts.engine import Engine
from alerts.routing import parse_routes
from alerts.schema import open_database
from alerts.store import AlertStore
from simulators import generate_messages, parse_fault_spec, schedule_named
from tests.helpers import publish_all, wait_until
from tests.test_alert_worker import SECRET, alert_settings, morning_start_ms, receiver
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog

ZONE = timezone(timedelta(hours=7))  # Asia/Jakarta
HOUR_MS = 3_600_000
ROUTES = parse_routes("operators=mqtt,log;agency=webhook", "regulatory")

# fault spec (its start added per run): the alerts it must raise
EXPECTED: dict[str, list[str]] = {
    "id_fan_failure/15m": ["id_fan_stopped"],
    "burner_trip/20m": ["t_secondary_falling", "t_secondary_low"],
    "burner_trip/45m,burner=both": ["t_secondary_falling", "t_secondary_low"],
    "wet_batch/30m": ["t_primary_low"],
    "overcharge/30m": ["charge_rate"],
    "network_outage/2h": ["plant_no_data"],
    "thermocouple_open/15m,sensor=t_primary": ["thermocouple_open"],
    "thermocouple_open/15m,sensor=t_secondary": ["thermocouple_open"],
    "flatline/20m,sensor=t_primary": ["flatline"],
    "flatline/20m,sensor=t_secondary": ["flatline"],
    "scrubber_failure/1h": ["scrubber_ph_low"],
    "door_puff/15m": [],
    "cems_calibration/15m": [],
    "duplicates/1h": [],
    "out_of_order/1h": [],
    "clock_skew/2h": [],
    "invalid_messages/10m": [],
}
TIMES_OF_DAY = ("+8h", "+13h", "+18h")  # 08:00, 13:00 and 18:00: the plant burning since about 06:00
SEEDS = (1, 2)


def replay_day(catalog: PlantCatalog, seed: int, faults: list[str] = [], schedule: str = "daily") -> list[AlertEvent]:  # noqa: B006
    """One local day, 00:00 to 24:00, through the engine as the worker runs it (a worker started at
    midnight: the plant seeded cold)."""
    day = datetime(2026, 11, 1 + seed % 28, tzinfo=ZONE)
    start_ms = round(day.timestamp() * 1000)
    plant = catalog.get("kotim")
    generated = generate_messages(plant, seed=seed, start_ms=start_ms, duration_s=24 * 3600,  # type: ignore[arg-type]
                                  faults=[parse_fault_spec(f, sim_start_ms=start_ms) for f in faults],
                                  schedule=schedule_named(schedule))
    engine = Engine([load_rules(bundled_rules_path("kotim"), plant)], 5000)
    events: list[AlertEvent] = []
    for message in generated.messages:
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            events += engine.observe(record, message.at_ms).events
    return events


def raised(events: list[AlertEvent]) -> list[AlertEvent]:
    return [e for e in events if e.kind == "raised"]


def to_agency(events: list[AlertEvent]) -> int:
    return sum(1 for e in raised(events) if "agency" in ROUTES.audiences_for(e.severity, e.category))


def test_a_fault_free_day_raises_no_alert(catalog: PlantCatalog) -> None:
    assert [(e.rule_id, e.message) for e in raised(replay_day(catalog, 0))] == []


@pytest.mark.fault
def test_thirty_fault_free_days_raise_no_alert(catalog: PlantCatalog) -> None:
    found = {(schedule, seed): raised(replay_day(catalog, seed, schedule=schedule))
             for schedule, seeds in (("daily", range(30)), ("continuous", range(3))) for seed in seeds}
    false_positives = Counter(e.rule_id for events in found.values() for e in events)
    print(f"\nfault-free days: {len(found)} (30 daily, 3 continuous); false positives: {sum(false_positives.values())} {dict(false_positives)}")
    assert false_positives == Counter()


@pytest.mark.fault
@pytest.mark.parametrize("fault", list(EXPECTED))
def test_each_fault_raises_exactly_its_alerts_and_tells_the_agency_at_most_once(fault: str, catalog: PlantCatalog) -> None:
    name, _, rest = fault.partition("/")
    outcomes = {}
    for at in TIMES_OF_DAY:
        for seed in SEEDS:
            events = replay_day(catalog, seed, [f"{name}@{at}/{rest}"])
            outcomes[(at, seed)] = (sorted(e.rule_id for e in raised(events)), to_agency(events))
    print(f"\n{fault}: alerts per fault {sorted({len(r) for r, _ in outcomes.values()})}, "
          f"agency notifications per fault {sorted({a for _, a in outcomes.values()})}")
    assert {key: rules for key, (rules, _) in outcomes.items()} == {key: sorted(EXPECTED[fault]) for key in outcomes}
    assert all(agency <= 1 for _, agency in outcomes.values())


@pytest.mark.fault
def test_a_batch_fed_during_the_start_up_raises_the_interlock_alone(catalog: PlantCatalog) -> None:
    """The start-up breach (§4.5): the interlock's alert; the chamber below 1000 degC with that batch
    in it is the same fault."""
    outcomes = {}
    for seed in (1, 2, 3):
        events = replay_day(catalog, seed, ["startup_feed@+5h/2h"])
        outcomes[seed] = ([e.rule_id for e in raised(events)], to_agency(events))
    print(f"\nstartup_feed: {outcomes}")
    assert outcomes == {seed: (["feed_interlock"], 1) for seed in (1, 2, 3)}


WORKER_PROCESS = """
import threading
from alerts.service import AlertsComponent
from wastewatch.settings import Settings

component = AlertsComponent(Settings())
component.start()
print("subscribed" if component.worker.connected.wait(30) else "not connected", flush=True)
threading.Event().wait()
"""


@pytest.mark.fault
def test_a_worker_started_mid_operation_and_killed_mid_day_raises_nothing_on_a_fault_free_day(
    settings_for, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    start_ms = morning_start_ms(2)  # 05:00, pre-heat
    generated = generate_messages(catalog.get("kotim"), seed=7, start_ms=start_ms, duration_s=16 * 3600)  # type: ignore[arg-type]
    # the worker starts at 10:00 with the plant burning; killed at 14:00 while it works through the morning
    morning = [m for m in generated.messages if start_ms + 5 * HOUR_MS <= m.at_ms < start_ms + 9 * HOUR_MS]
    afternoon = [m for m in generated.messages if m.at_ms >= start_ms + 9 * HOUR_MS]
    settings = alert_settings(settings_for, tmp_path, receiver)
    env = {**os.environ, **{f"WASTEWATCH_{k.upper()}": str(v) for k, v in {
        "mqtt_url": settings.mqtt_url, "data_dir": settings.data_dir, "alerts_client_id": settings.alerts_client_id,
        "alerts_routes": settings.alerts_routes, "alerts_webhook_url": receiver.url, "alerts_webhook_secret": SECRET,
        "alerts_escalation_after_min": 0, "alerts_clock": "data", "alerts_tick_interval_s": 0.5,
    }.items()}}
    db = open_database(settings)
    store = AlertStore(db)

    def data_time_ms() -> int:
        # the data time of the last t_secondary reading the worker committed
        saved = store.load_states().get("kotim/t_secondary_low/t_secondary")
        return 0 if saved is None else (json.loads(saved[1])["leaves"].get("c", {}).get("time_ms") or 0)

    def worker() -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-c", WORKER_PROCESS], env=env, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None and process.stdout.readline().strip() == "subscribed"
        return process

    first = worker()
    try:
        publish_all(mosquitto.url, [(m.topic, m.payload) for m in morning], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: data_time_ms() >= start_ms + 7 * HOUR_MS, timeout_s=120, what="half the morning committed")
    finally:
        os.kill(first.pid, signal.SIGKILL)  # mid-batch: what was not committed is redelivered
        first.wait(10)
        if first.stdout is not None:
            first.stdout.close()
    publish_all(mosquitto.url, [(m.topic, m.payload) for m in afternoon], client_id=f"pub-{tmp_path.name}")
    second = worker()
    try:
        last_ms = max(r.time_ms for m in afternoon for r in m.records if getattr(r, "sensor", None) == "t_secondary")
        wait_until(lambda: data_time_ms() >= last_ms, timeout_s=300, what="the afternoon committed")
        alerts = store.list_alerts(limit=100)
    finally:
        os.kill(second.pid, signal.SIGTERM)
        second.wait(10)
        if second.stdout is not None:
            second.stdout.close()
        db.close()
    print(f"\nworker started 10:00, SIGKILLed mid-day, restarted: {len(alerts)} alerts, {len(receiver.requests)} agency notifications")
    assert [(a.rule_id, a.message) for a in alerts] == [] and receiver.requests == []
