"""A worker that starts watching a plant mid-operation (issue 17, finding 1): the plant's state is
seeded from its signals, so a burning plant is not taken for a cold one whose next batches break a
start-up hold the worker never watched. Through the engine, then through the running worker."""

from __future__ import annotations

from alerts import bundled_rules_path, load_rules
from alerts.clock import DataClock
from alerts.engine import Engine, PlantTrack
from alerts.plant_state import OperatingState, PlantSignals, PlantState
from alerts.service import AlertsComponent
from simulators import generate_messages
from tests.alert_receivers import MqttCollector
from tests.helpers import publish_all, wait_until
from tests.test_alert_worker import alert_settings, morning_start_ms, receiver, wait_drained
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog
from wastewatch.records import Reading

HOUR_MS = 3_600_000


def afternoon(catalog: PlantCatalog, start_ms: int, from_h: float, to_h: float, seed: int = 11):  # type: ignore[no-untyped-def]
    """The messages of a simulated day (pre-heat 05:00) between two hours after `start_ms`."""
    generated = generate_messages(catalog.get("kotim"), seed=seed, start_ms=start_ms, duration_s=to_h * 3600)  # type: ignore[arg-type]
    return [m for m in generated.messages if m.at_ms >= start_ms + from_h * HOUR_MS]


def engine_for(catalog: PlantCatalog) -> Engine:
    return Engine([load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))], 5000)


def test_an_engine_started_on_a_burning_plant_seeds_it_running_and_raises_nothing(catalog: PlantCatalog) -> None:
    start_ms = morning_start_ms(3)
    engine = engine_for(catalog)
    events, transitions = [], []
    for message in afternoon(catalog, start_ms, 9, 11):  # 14:00 to 16:00, the plant burning since 06:20
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            step = engine.observe(record, message.at_ms)
            events += step.events
            transitions += step.transitions
    assert [e.rule_id for e in events] == []
    first = transitions[0]
    assert (first.to_state, first.seeded) == (OperatingState.BURNING, True) and first.reason.startswith("seeded")
    assert first.at_ms - (start_ms + 9 * HOUR_MS) < 10_000  # one PLC frame


def test_a_plant_not_heard_from_for_longer_than_a_hold_is_seeded_afresh(catalog: PlantCatalog) -> None:
    engine = engine_for(catalog)
    t0 = morning_start_ms(3)
    night = PlantState(plant="kotim", operating=OperatingState.COLD, since_ms=t0)
    engine.restore({"plant:kotim": ("plant", PlantTrack(state=night, signals=PlantSignals(), seen_ms=t0).model_dump_json())})
    later = t0 + 9 * HOUR_MS
    frame = {"t_primary": 860.0, "t_secondary": 1045.0, "burner_primary": 1.0, "burner_secondary": 1.0, "id_fan": 1.0}
    transitions = []
    for sensor, value in frame.items():
        transitions += engine.observe(Reading("kotim", sensor, later, value), later).transitions
    assert [(t.to_state, t.seeded) for t in transitions] == [(OperatingState.BURNING, True)]


def test_a_worker_started_at_two_in_the_afternoon_sends_the_agency_nothing(
    settings_for, influx_store, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    start_ms = morning_start_ms(2)
    messages = afternoon(catalog, start_ms, 9, 11)
    settings, alerts = alert_settings(settings_for, tmp_path, receiver, influx_store)
    collector = MqttCollector(mosquitto.url, ["plants/kotim/state"], f"collector-{tmp_path.name}")
    component = AlertsComponent(settings, alerts, catalog, influx_store, clock=DataClock(), scheduler=False)
    component.start()
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        publish_all(mosquitto.url, [(m.topic, m.payload) for m in messages], client_id=f"pub-{tmp_path.name}")
        wait_drained(component, len(messages))
        alerts = component.lifecycle.alerts.list_alerts(limit=100)
        states = wait_until(lambda: [m for _, m, retained in collector.messages if not retained], what="published state")
    finally:
        component.stop()
        collector.close()
    assert [(a.rule_id, a.message) for a in alerts] == []
    assert receiver.requests == []
    assert states[0]["state"] == "burning" and states[0]["reason"].startswith("seeded")
