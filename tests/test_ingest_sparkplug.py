"""Sparkplug B through the real Mosquitto into the running ingest and InfluxDB, and into the alert worker:
births, aliased data and deaths stored like the JSON contract's readings and statuses, a sequence gap
answered with an NCMD rebirth, a storm of hostile payloads dead-lettered with reasons (the ingest
stays live), and InfluxDB down while Sparkplug data arrives (nothing lost)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.helpers import hostile_examples, publish_all, wait_until
from tests.test_sparkplug_decode import PLC_BIRTH, hostile_payloads
from wastewatch.decode import REJECT_REASONS
from wastewatch.mqtt import make_client
from wastewatch.plant import PlantCatalog, load_catalog
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings, parse_mqtt_url
from wastewatch.sparkplug import sparkplug_b_pb2 as pb
from wastewatch.sparkplug.payload import REBIRTH_METRIC, MetricOut, encode_payload, parse_payload
from wastewatch.sparkplug.topics import ncmd_topic, sparkplug_topic
from wastewatch.store.influx import InfluxStore

EDGE = "plant-gateway"


def sparkplug_catalog(group: str) -> PlantCatalog:
    """The Kotim plant with its example Sparkplug mapping under a group of the test's own (the session broker is shared)."""
    kotim = load_catalog(None).get("kotim")
    assert kotim is not None and kotim.sparkplug
    node = kotim.sparkplug[0].model_copy(update={"group": group})
    return PlantCatalog([kotim.model_copy(update={"sparkplug": [node]})])


class EdgeNode:
    """A Sparkplug edge node with a PLC and a CEMS device: its messages in order, with seq 0-255 wrapping."""

    def __init__(self, group: str, bdseq: int = 1) -> None:
        self.group, self.bdseq, self.seq = group, bdseq, 0

    def _next(self) -> int:
        seq, self.seq = self.seq, (self.seq + 1) % 256
        return seq

    def nbirth(self, now_ms: int) -> tuple[str, bytes]:
        self.seq = 0
        metrics = [MetricOut("bdSeq", self.bdseq, pb.UInt64), MetricOut(REBIRTH_METRIC, False, pb.Boolean)]
        return sparkplug_topic("NBIRTH", self.group, EDGE), encode_payload(metrics, timestamp_ms=now_ms, seq=self._next())

    def dbirth(self, device: str, metrics: list[MetricOut], now_ms: int) -> tuple[str, bytes]:
        return sparkplug_topic("DBIRTH", self.group, EDGE, device), encode_payload(metrics, timestamp_ms=now_ms, seq=self._next())

    def ddata(self, device: str, metrics: list[MetricOut], now_ms: int, seq: int | None = None) -> tuple[str, bytes]:
        number = self._next() if seq is None else seq
        return sparkplug_topic("DDATA", self.group, EDGE, device), encode_payload(metrics, timestamp_ms=now_ms, seq=number)

    def ddeath(self, device: str, now_ms: int) -> tuple[str, bytes]:
        return sparkplug_topic("DDEATH", self.group, EDGE, device), encode_payload([], timestamp_ms=now_ms, seq=self._next())

    def ndeath(self, bdseq: int | None = None) -> tuple[str, bytes]:
        metrics = [MetricOut("bdSeq", self.bdseq if bdseq is None else bdseq, pb.UInt64)]
        return sparkplug_topic("NDEATH", self.group, EDGE), encode_payload(metrics, timestamp_ms=None, seq=None)


class CommandListener:
    """Subscribes to an edge node's NCMD topic and keeps the decoded payloads."""

    def __init__(self, url: str, topic: str, client_id: str) -> None:
        self.payloads: list[pb.Payload] = []
        subscribed = threading.Event()
        self._client = make_client(parse_mqtt_url(url), client_id)
        self._client.on_message = lambda c, u, m: self.payloads.append(parse_payload(bytes(m.payload)))
        self._client.on_subscribe = lambda *a: subscribed.set()
        self._client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        broker = parse_mqtt_url(url)
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert subscribed.wait(10), "could not subscribe to the NCMD topic"

    def rebirths(self) -> int:
        return sum(1 for p in self.payloads for m in p.metrics if m.name == REBIRTH_METRIC and m.boolean_value)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def readings(store: InfluxStore, sensor: str) -> list[tuple[int, float, str]]:
    return [(p.time_ms, float(p.fields["value"]), p.tags["status"]) for p in store.select("reading", where={"plant": "kotim", "sensor": sensor})]


def online(store: InfluxStore, device: str) -> int | None:
    """The device's last stored status (1 online, 0 offline); None before any."""
    points = store.select("device_status", where={"plant": "kotim", "device": device})
    return int(points[-1].fields["online"]) if points else None


@pytest.fixture
def group(tmp_path: Path) -> str:
    return f"G-{tmp_path.name}"


@pytest.fixture
def ingest(settings_for, ingest_for, influx_store, group):  # type: ignore[no-untyped-def]
    worker = IngestWorker(settings_for(influx_store), ingest_for(), sparkplug_catalog(group), influx_store)
    worker.start()
    wait_until(worker.connected.is_set, what="ingest connected")
    yield worker
    worker.stop()


def test_births_aliased_data_and_deaths_are_stored_like_json_readings_and_statuses(ingest, influx_store, mosquitto, group, tmp_path) -> None:  # type: ignore[no-untyped-def]
    now_ms = round(time.time() * 1000) - 60_000
    node = EdgeNode(group)
    messages = [
        node.nbirth(now_ms),
        node.dbirth("PLC", PLC_BIRTH, now_ms),
        node.dbirth("CEMS", [MetricOut("Stack/O2", 10.5, pb.Float, alias=101), MetricOut("Stack/CO", 12, pb.UInt32, alias=102)], now_ms),
        node.ddata("PLC", [MetricOut(None, 905.5, pb.Float, alias=1, timestamp_ms=now_ms + 1000), MetricOut(None, -35, pb.Int16, alias=2)], now_ms + 1000),
        node.ddata("PLC", [MetricOut(None, 910.0, pb.Float, alias=1), MetricOut(None, 1.0, pb.Float, alias=77)], now_ms + 2000),  # alias 77: no birth
        node.ddata("CEMS", [MetricOut(None, 9.75, pb.Float, alias=101, quality=0)], now_ms + 3000),
        node.ddeath("PLC", now_ms + 4000),
    ]
    publish_all(mosquitto.url, messages, client_id=f"edge-{tmp_path.name}")
    wait_until(lambda: len(readings(influx_store, "t_primary")) == 3 and online(influx_store, "plc") == 0
               and ingest.counts().acked == len(messages), timeout_s=30, what="the births, data and the DDEATH stored")
    assert readings(influx_store, "t_primary") == [(now_ms, 850.0, "valid"), (now_ms + 1000, 905.5, "valid"), (now_ms + 2000, 910.0, "valid")]
    assert readings(influx_store, "draft_primary") == [(now_ms, -20.0, "valid"), (now_ms + 1000, -35.0, "valid")]
    assert readings(influx_store, "id_fan") == [(now_ms, 1.0, "valid")]
    assert readings(influx_store, "o2") == [(now_ms, 10.5, "valid"), (now_ms + 3000, 9.75, "malfunction")]
    assert readings(influx_store, "co") == [(now_ms, 12.0, "valid")]
    assert ingest.dead_letters.counts() == {"unknown_alias": 1}
    letter = ingest.dead_letters.list(reason="unknown_alias")[0]
    assert letter.topic == sparkplug_topic("DDATA", group, EDGE, "PLC") and "alias 77" in letter.detail
    publish_all(mosquitto.url, [node.ndeath(bdseq=0), node.ndeath()], client_id=f"edge-{tmp_path.name}")  # an earlier session's will, then this one's
    assert online(influx_store, "cems") == 1  # its DBIRTH
    wait_until(lambda: online(influx_store, "cems") == 0 and ingest.counts().acked == len(messages) + 2, timeout_s=30, what="the NDEATH stored")
    assert ingest.dead_letters.counts() == {"unknown_alias": 1, "stale_death": 1}


def test_a_sequence_gap_is_answered_with_an_ncmd_rebirth_and_the_gaps_data_stored(ingest, influx_store, mosquitto, group, tmp_path) -> None:  # type: ignore[no-untyped-def]
    listener = CommandListener(mosquitto.url, ncmd_topic(group, EDGE), f"host-{tmp_path.name}")
    try:
        now_ms = round(time.time() * 1000) - 60_000
        node = EdgeNode(group)
        publish_all(mosquitto.url, [node.nbirth(now_ms), node.dbirth("PLC", PLC_BIRTH, now_ms),
                                    node.ddata("PLC", [MetricOut(None, 900.0, pb.Float, alias=1)], now_ms + 1000)], client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: len(readings(influx_store, "t_primary")) == 2, timeout_s=30, what="in-sequence data stored")
        assert listener.rebirths() == 0
        gap = node.ddata("PLC", [MetricOut(None, 920.0, pb.Float, alias=1)], now_ms + 2000, seq=node.seq + 3)
        publish_all(mosquitto.url, [gap], client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: listener.rebirths() == 1, timeout_s=30, what="an NCMD rebirth request")
        wait_until(lambda: len(readings(influx_store, "t_primary")) == 3, timeout_s=30, what="the gap's data stored")
        assert readings(influx_store, "t_primary")[-1] == (now_ms + 2000, 920.0, "valid")
        command = listener.payloads[0]
        assert [(m.name, m.datatype, m.boolean_value) for m in command.metrics] == [(REBIRTH_METRIC, pb.Boolean, True)]
        assert ingest.dead_letters.counts() == {}
    finally:
        listener.close()


@settings(max_examples=hostile_examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(storm=st.lists(st.tuples(st.sampled_from(["NBIRTH", "NDATA", "NDEATH", "DBIRTH", "DDATA", "DDEATH"]),
                                st.one_of(hostile_payloads(), st.binary(max_size=300))), min_size=1, max_size=25))
def test_a_storm_of_hostile_payloads_is_stored_or_dead_lettered_and_the_ingest_stays_live(
    ingest, influx_store, mosquitto, group, tmp_path, storm
) -> None:  # type: ignore[no-untyped-def]
    before = ingest.counts()
    messages = [(sparkplug_topic(kind, group, EDGE, "PLC" if kind.startswith("D") else None), payload) for kind, payload in storm]  # type: ignore[arg-type]
    publish_all(mosquitto.url, messages, client_id=f"storm-{tmp_path.name}")
    now_ms = round(time.time() * 1000)
    node = EdgeNode(group)
    valid = [node.nbirth(now_ms), node.dbirth("PLC", [MetricOut("Stack/Temperature", 181.25, pb.Double, alias=9)], now_ms),
             node.ddata("PLC", [MetricOut(None, 182.5, pb.Double, alias=9)], now_ms + 1)]
    publish_all(mosquitto.url, valid, client_id=f"storm-{tmp_path.name}")
    wait_until(lambda: (now_ms + 1, 182.5, "valid") in readings(influx_store, "t_stack")
               and ingest.counts().acked == before.acked + len(messages) + len(valid), timeout_s=30, what="the valid message after the storm")
    assert set(ingest.dead_letters.counts()) <= set(REJECT_REASONS) - {"decoder_error"}


def test_aliased_data_queued_while_the_ingest_restarts_is_decoded_with_the_births_it_kept(
    settings_for, ingest_for, influx_store, mosquitto, group, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings, catalog = settings_for(influx_store), sparkplug_catalog(group)
    now_ms = round(time.time() * 1000) - 60_000
    node = EdgeNode(group)
    first = IngestWorker(settings, ingest_for(), catalog, influx_store)
    first.start()
    try:
        wait_until(first.connected.is_set, what="ingest connected")
        publish_all(mosquitto.url, [node.nbirth(now_ms), node.dbirth("PLC", PLC_BIRTH, now_ms)], client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: first.counts().acked == 2, timeout_s=30, what="the births acknowledged")
    finally:
        first.stop()
    queued = [node.ddata("PLC", [MetricOut(None, 930.0 + i, pb.Float, alias=1)], now_ms + 1000 * (i + 1)) for i in range(3)]
    publish_all(mosquitto.url, queued, client_id=f"edge-{tmp_path.name}")  # nobody listens: the session queues them
    second = IngestWorker(settings, ingest_for(), catalog, influx_store)
    second.start()
    try:
        wait_until(lambda: second.counts().acked == 3, timeout_s=30, what="the queued data acknowledged")
        assert readings(influx_store, "t_primary")[-3:] == [(now_ms + 1000 * (i + 1), 930.0 + i, "valid") for i in range(3)]
        assert second.dead_letters.counts() == {}
    finally:
        second.stop()


def test_the_alert_worker_raises_a_threshold_alert_from_sparkplug_data(settings_for, mosquitto, group, tmp_path) -> None:  # type: ignore[no-untyped-def]
    component = AlertsComponent(settings_for(), AlertSettings(client_id=f"alerts-{tmp_path.name}", routes="operators=log"),
                                sparkplug_catalog(group), scheduler=False)
    component.start()
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        now_ms = round(time.time() * 1000)
        node = EdgeNode(group)
        birth = [MetricOut("Chamber/Secondary/Temperature", 1050.0, pb.Float, alias=5)]
        burnt_out = [MetricOut(None, 1371.5, pb.Float, alias=5)]  # a type K thermocouple's open-circuit reading
        publish_all(mosquitto.url, [node.nbirth(now_ms - 10), node.dbirth("PLC", birth, now_ms - 10), node.ddata("PLC", burnt_out, now_ms)],
                    client_id=f"edge-{tmp_path.name}")
        alert = wait_until(lambda: component.lifecycle.alerts.active("kotim", "thermocouple_open", "t_secondary"),
                           timeout_s=30, what="thermocouple_open raised from the Sparkplug reading")
        assert alert.value == pytest.approx(1371.5)
    finally:
        component.stop()


def test_an_alert_worker_that_cannot_read_a_node_asks_for_a_rebirth_and_then_judges_it(settings_for, mosquitto, group, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A worker that starts after the births (a restart, a standby taking over) knows no aliases: it asks."""
    listener = CommandListener(mosquitto.url, ncmd_topic(group, EDGE), f"host-{tmp_path.name}")
    component = AlertsComponent(settings_for(), AlertSettings(client_id=f"alerts-{tmp_path.name}", routes="operators=log"),
                                sparkplug_catalog(group), scheduler=False)
    component.start()
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        now_ms = round(time.time() * 1000)
        node = EdgeNode(group)
        node.seq = 42  # the node was born long ago
        burnt_out = [MetricOut(None, 1371.5, pb.Float, alias=5)]
        publish_all(mosquitto.url, [node.ddata("PLC", burnt_out, now_ms - 20)], client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: listener.rebirths() == 1, timeout_s=30, what="the alert worker's NCMD rebirth request")
        assert component.lifecycle.alerts.active("kotim", "thermocouple_open", "t_secondary") is None  # it could not read the alias
        birth = [MetricOut("Chamber/Secondary/Temperature", 1050.0, pb.Float, alias=5)]
        publish_all(mosquitto.url, [node.nbirth(now_ms - 10), node.dbirth("PLC", birth, now_ms - 10), node.ddata("PLC", burnt_out, now_ms)],
                    client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: component.lifecycle.alerts.active("kotim", "thermocouple_open", "t_secondary"), timeout_s=30,
                   what="thermocouple_open raised after the rebirth")
        assert listener.rebirths() == 1
    finally:
        component.stop()
        listener.close()


@pytest.mark.fault
def test_influx_down_while_sparkplug_data_arrives_then_up_loses_nothing(tmp_path, mosquitto, own_influx, group) -> None:  # type: ignore[no-untyped-def]
    store = InfluxStore(own_influx.url, "sparkplug_faults")
    settings = Settings(mqtt=BrokerSettings(url=mosquitto.url), data_dir=tmp_path, influx=InfluxSettings(url=own_influx.url))
    worker = IngestWorker(settings, IngestSettings(client_id=f"ingest-{tmp_path.name}"), sparkplug_catalog(group), store)
    worker.start()
    try:
        wait_until(worker.connected.is_set)
        start_ms = round(time.time() * 1000) - 3_600_000
        node = EdgeNode(group)
        birth = [MetricOut("Chamber/Primary/Temperature", 850.0, pb.Float, alias=1), MetricOut("Chamber/Secondary/Temperature", 1050.0, pb.Float, alias=2)]
        publish_all(mosquitto.url, [node.nbirth(start_ms), node.dbirth("PLC", birth, start_ms)], client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: len(readings(store, "t_primary")) == 1, timeout_s=30)
        own_influx.stop()
        data = [node.ddata("PLC", [MetricOut(None, 800.0 + i % 100, pb.Float, alias=1), MetricOut(None, 1000.0 + i % 100, pb.Float, alias=2)],
                           start_ms + (i + 1) * 100) for i in range(1500)]
        publish_all(mosquitto.url, data, client_id=f"edge-{tmp_path.name}")
        wait_until(lambda: worker.counts().acked == 2 + len(data), timeout_s=60, what="acknowledged from the spool")
        assert worker.spool.points > 0
        own_influx.start()
        wait_until(lambda: worker.spool.batches == 0 and len(readings(store, "t_primary")) == 1501 and len(readings(store, "t_secondary")) == 1501,
                   timeout_s=90, what="spool drained")
        assert worker.dead_letters.counts() == {}
    finally:
        worker.stop()
        store.close()
