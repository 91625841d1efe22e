"""`wastewatch demo`: broker (embedded unless configured), store, ingest, alerts, compliance, the API and
the plant simulator in one process.

The demo opens with the last days of plant history written into the store, then the same plant goes
on live from the moment the demo started, in real time, with a fault a few minutes in (so an alert
opens and clears). Each part is a component with `start`/`stop`; they start in order and stop in
reverse, so the alert worker, the compliance jobs and the API join the list without touching the rest.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol, TextIO

import uvicorn

from alerts.clock import DataClock
from alerts.regulatory import RegulatoryAlerts
from alerts.schema import open_database
from alerts.service import AlertsComponent, change_printer
from alerts.settings import AlertSettings
from api.app import create_app
from api.keys import KeyNotFound, KeyStore
from api.roles import Role
from api.settings import ApiSettings
from api.summaries.rollup import rollup_after_day
from compliance.replay import ComplianceComponent
from compliance.settings import ComplianceSettings
from ingest.settings import IngestSettings
from ingest.worker import IngestCounts, IngestWorker
from launch.history import HistoryPlan, HistoryProgress, HistorySummary, backfill_history, plan_history
from simulators.model import PlantModel
from simulators.publisher import PublishError, PublishProgress, run_simulator
from simulators.scenarios import FaultWindow, parse_fault_spec
from wastewatch.embedded_broker import EmbeddedBroker
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantCatalog, PlantConfig, PlantConfigError, load_catalog
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.runtime import free_port, port_is_free, stop_on_signal
from wastewatch.settings import BrokerSettings, Section, Settings, env_name, load
from wastewatch.store import open_store
from wastewatch.store.sqlite import SqliteStore

logger = logging.getLogger(__name__)

MQTT_DEFAULT_PORT = 1883
# The live simulator starts where the history ends, when the demo started: it publishes the seconds the
# history took this much faster than real time, then goes on in real time.
CATCH_UP_SPEED = 60.0
STATUS_EVERY_S = 1.0
PLAIN_STATUS_EVERY_S = 5.0
SIMULATOR_ACK_TIMEOUT_S = 10.0
CAUGHT_UP_S = 5.0  # the simulator's clock this close to the wall clock shows as "real time"
# The compliance jobs run a half-hour once the data clock is this many real seconds past it (scaled by
# the catch-up speed), so the ingest has written the window's last readings (it flushes every 0.25 s).
WRITE_LATENCY_S = 1.0


class Component(Protocol):
    """One running part of the demo."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class BrokerComponent:
    """The embedded amqtt broker on 127.0.0.1:1883, or on a free port when 1883 is taken."""

    name = "broker"

    def __init__(self) -> None:
        self._broker: EmbeddedBroker | None = None

    @property
    def url(self) -> str:
        if self._broker is None:
            raise RuntimeError("the embedded broker has not started")
        return self._broker.url

    def start(self) -> None:
        # amqtt (and its `transitions` state machines) log every session change at INFO, burying the demo's lines.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
        port = MQTT_DEFAULT_PORT if port_is_free(MQTT_DEFAULT_PORT) else free_port()
        try:
            self._broker = EmbeddedBroker(port).start()
        except RuntimeError:
            if port != MQTT_DEFAULT_PORT:
                raise
            logger.info("port %s taken after all, using a free port", port)  # lost a race for 1883
            self._broker = EmbeddedBroker(free_port()).start()

    def stop(self) -> None:
        if self._broker is not None:
            self._broker.stop()



@dataclass
class StoreComponent:
    """The time-series store; opened by `open_store`, closed last but for the broker."""

    store: Store
    name: str = "store"

    def start(self) -> None:
        return None

    def stop(self) -> None:
        self.store.close()


@dataclass
class IngestComponent:
    worker: IngestWorker
    name: str = "ingest"

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()


class SimulatorComponent:
    """The plant simulator in a thread, carrying on the history's model from where it stopped.

    The history ends at the moment the demo started; the seconds it took to write are published
    `CATCH_UP_SPEED` times faster, then the plant goes on in real time, so no timestamp lies ahead of
    the wall clock (the ingest dead-letters more than 300 s ahead). It is one run of one plant model,
    so the plant goes on through the hand-off: no jump in its temperatures, no batch id used twice.
    """

    name = "simulator"

    def __init__(self, settings: Settings, plant: PlantConfig, model: PlantModel, *, seed: int) -> None:
        self.settings, self.plant, self.model, self.seed = settings, plant, model, seed
        self.failed = threading.Event()
        self.error: str | None = None
        self.sim_ms: int | None = None
        self.mode = "starting"
        self.published = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(SIMULATOR_ACK_TIMEOUT_S + 5)

    def _run(self) -> None:
        try:
            self._simulate()
        except (PublishError, ValueError) as exc:
            self.error = str(exc)
            logger.error("simulator failed error=%s", exc)
            self.failed.set()

    def _simulate(self) -> None:
        model = self.model
        broker = self.settings.mqtt.address
        assert broker is not None  # run_demo sets the URL before the simulator is built
        self.mode = "catching up"
        self.sim_ms = max(model.now_ms, model.start_ms)
        summary = run_simulator(
            broker, self.plant, seed=self.seed, start_ms=model.start_ms, mode="accelerated",
            speed=CATCH_UP_SPEED, duration_s=None, protocol=self.settings.mqtt.protocol,
            ca_file=self.settings.mqtt.ca_file, stop_event=self._stop, on_progress=self._progress,
            ack_timeout_s=SIMULATOR_ACK_TIMEOUT_S, model=model, catch_up=True,
        )
        self.published = summary.published

    def _progress(self, progress: PublishProgress) -> None:
        self.sim_ms = progress.sim_ms
        self.published = progress.published
        if progress.sim_ms >= time.time() * 1000 - CAUGHT_UP_S * 1000:
            self.mode = "real time"


def choose_port(owner: type[Section], settings: Section, field: str, default_host: str = "127.0.0.1") -> int:
    """The port `settings.<field>` names when it was set (busy: a `ConfigError` naming the variable), or,
    left at its default, that default when free and a free port otherwise."""
    port = int(getattr(settings, field))
    host = str(getattr(settings, "host", default_host))
    if field not in settings.model_fields_set:
        return port if port_is_free(port, host) else free_port()
    if not port_is_free(port, host):
        raise ConfigError(
            f"bad setting {env_name(owner, field)}={port}: port {port} on {host} is in use (another demo or service?); "
            f"stop what listens there, set another port, or unset {env_name(owner, field)} to let the demo pick a free one"
        )
    return port


class ApiComponent:
    """The HTTP API (uvicorn) in a thread on `port` (see `choose_port`), with its own connection to the
    alert database and an admin key of its own: issued at the start under a name no other run uses (a
    second demo on the same database keeps its key), revoked at the stop."""

    name = "api"

    def __init__(self, settings: Settings, api: ApiSettings, store: Store, catalog: PlantCatalog, port: int) -> None:
        self.db: Database = open_database(settings)
        self.url = f"http://{api.host}:{port}"
        app = create_app(settings, api, store=store, catalog=catalog, alert_db=self.db)
        self._server = uvicorn.Server(uvicorn.Config(app, host=api.host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="demo-api", daemon=True)
        self.key = ""
        self._key_id: str | None = None

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.05)
        name = f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        issued = KeyStore(self.db).issue(name, Role.ADMIN, "demo", round(time.time() * 1000))
        self.key, self._key_id = issued.secret_key, issued.key.key_id

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        try:
            if self._key_id is not None:
                KeyStore(self.db).revoke(self._key_id, "demo", round(time.time() * 1000))
        except KeyNotFound:  # an admin revoked it meanwhile
            pass
        finally:
            self.db.close()


class _Stack:
    """Started components, stopped in reverse; one failing stop does not keep the others running."""

    def __init__(self) -> None:
        self._started: list[Component] = []

    def start(self, component: Component) -> None:
        component.start()
        self._started.append(component)

    def stop_all(self, first: str | None = None) -> None:
        """Stop in reverse order of starting, but the component named `first` before any other."""
        self._started.sort(key=lambda component: component.name == first)  # stable: only `first` moves, to the end
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:
                logger.exception("stopping a demo component failed component=%s", component.name)



def _describe_broker(settings: Settings, embedded: bool) -> str:
    broker = settings.mqtt.address
    assert broker is not None
    scheme = "mqtts" if broker.tls else "mqtt"  # the URL without its credentials
    kind = "embedded amqtt" if embedded else "external"
    return f"{scheme}://{broker.host}:{broker.port} ({kind}, MQTT {settings.mqtt.protocol})"


def _describe_store(store: Store, settings: Settings) -> str:
    if isinstance(store, SqliteStore):
        return f"SQLite {store.path.resolve()}"
    return f"InfluxDB {settings.influx.url} database {settings.influx.database}"


def _status_line(sim: SimulatorComponent, counts: IngestCounts, zone: tzinfo) -> str:
    clock = "-"
    if sim.sim_ms is not None:
        clock = datetime.fromtimestamp(sim.sim_ms / 1000, zone).strftime("%m-%d %H:%M")
    return (
        f"received {counts.received} | written {counts.written} | dead-lettered {counts.dead_lettered} | "
        f"spool batches {counts.spool_batches} | plant {clock} {sim.mode} | published {sim.published}"
    )


def _report_until_stopped(
    stop: threading.Event, sim: SimulatorComponent, ingest: IngestWorker, zone: tzinfo, out: TextIO
) -> None:
    """A status line every second, rewritten in place on a terminal; a plain line every 5 s otherwise."""
    tty = out.isatty()
    every_ticks = 1 if tty else round(PLAIN_STATUS_EVERY_S / STATUS_EVERY_S)
    ticks = width = 0
    while not stop.wait(STATUS_EVERY_S) and not sim.failed.is_set():
        ticks += 1
        if ticks % every_ticks:
            continue
        line = _status_line(sim, ingest.counts(), zone)
        if tty:
            # A line longer than the terminal wraps, and `\r` would then only rewrite its last part.
            line = line[: shutil.get_terminal_size().columns - 1]
            out.write("\r" + line.ljust(width))
            width = len(line)
        else:
            out.write(line + "\n")
        out.flush()
    if tty and width:
        out.write("\n")


@dataclass(frozen=True)
class Services:
    """The settings of every service the demo runs, each read from its own variables."""

    ingest: IngestSettings
    alerts: AlertSettings
    compliance: ComplianceSettings
    api: ApiSettings

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Each service's settings from the environment (example secrets allowed as `settings` allows them)."""
        return cls(load(IngestSettings, demo=settings.demo), load(AlertSettings, demo=settings.demo),
                   load(ComplianceSettings, demo=settings.demo), load(ApiSettings, demo=settings.demo))


@dataclass
class _Running:
    settings: Settings
    store: Store
    worker: IngestWorker
    simulator: SimulatorComponent
    api: ApiComponent
    history: HistorySummary | None
    plan: HistoryPlan
    faults: list[FaultWindow]


@dataclass(frozen=True)
class DemoPlan:
    """What one run will do, settled before anything starts: its start (where the history ends and the
    live plant goes on), the history's length, its faults and the API's port."""

    now_ms: int
    backfill_days: int
    faults: list[FaultWindow]
    api_port: int

    @classmethod
    def make(cls, plant: PlantConfig, services: Services, *, backfill_days: int, fault_specs: Sequence[str]) -> DemoPlan:
        """Raises `ValueError` (a bad fault spec) or `ConfigError` (a busy explicit port)."""
        now_ms = round(time.time() * 1000)
        faults = [parse_fault_spec(spec, sim_start_ms=now_ms, zone=plant.zone) for spec in fault_specs]
        if services.ingest.metrics_port:
            choose_port(IngestSettings, services.ingest, "metrics_port")
        return cls(now_ms, backfill_days, faults, choose_port(ApiSettings, services.api, "port"))


def _fill_history(
    store: Store, catalog: PlantCatalog, plant: PlantConfig, plan: DemoPlan, seed: int, out: TextIO
) -> tuple[HistoryPlan, HistorySummary | None, PlantModel]:
    """The last days of history up to the demo's start (only the gap since the store's newest data, on a
    restart), and the plant model the live simulation carries on."""
    history = plan_history(store, plant, days=plan.backfill_days, now_ms=plan.now_ms)
    start_ms, end_ms = history.start_ms, history.end_ms
    model = PlantModel(plant, seed, start_ms, plan.faults)
    if history.last_batch is not None:
        model.carry_on_batches(history.last_batch)
    if end_ms <= start_ms:
        return history, None, model

    def progress(p: HistoryProgress) -> None:
        if p.phase == "compliance":
            print(f"  history: {p.points} points written; computing averages and validity for every day", file=out, flush=True)
        elif (p.sim_ms - start_ms) % (2 * 86_400_000) < 6 * 3_600_000:  # about every other simulated day
            day = datetime.fromtimestamp(p.sim_ms / 1000, plant.zone).strftime("%Y-%m-%d")
            print(f"  history: plant day {day}, {p.points} points", file=out, flush=True)

    if history.resumed:
        since, gap_min = _local(start_ms, plant.zone, "%Y-%m-%d %H:%M"), (end_ms - start_ms) / 60_000
        gap = f"{gap_min:.0f} min" if gap_min < 120 else f"{gap_min / 60:.1f} h"
        print(f"back-filling plant history since the store's newest data ({since}, {gap}; no MQTT, see launch/history.py)",
              file=out, flush=True)
    else:
        print(f"back-filling {plan.backfill_days} days of plant history into the store (no MQTT; see launch/history.py)",
              file=out, flush=True)
    summary = backfill_history(
        store, catalog, plant, seed=seed, start_ms=start_ms, end_ms=end_ms, now_ms=plan.now_ms, on_progress=progress,
        model=model, state=history.state, signals=history.signals,
    )
    print(
        f"history ready in {summary.seconds:.0f} s: {summary.points} points, {summary.state_changes} state changes, "
        f"{summary.averages} averages", file=out, flush=True,
    )
    return history, summary, model


def _start_all(
    settings: Settings, services: Services, catalog: PlantCatalog, plant: PlantConfig, stack: _Stack, plan: DemoPlan, *,
    seed: int,
) -> _Running:
    if settings.mqtt.url is None:
        broker = BrokerComponent()
        stack.start(broker)
        # amqtt speaks MQTT 3.1.1 only, so every client of the embedded broker does too.
        settings = settings.model_copy(update={"mqtt": BrokerSettings(url=broker.url, protocol="3.1.1", demo=settings.demo)})
    store = open_store(settings)
    stack.start(StoreComponent(store))
    history_plan, history, model = _fill_history(store, catalog, plant, plan, seed, sys.stdout)
    worker = IngestWorker(settings, services.ingest, catalog, store)
    stack.start(IngestComponent(worker))
    # The catch-up runs faster than real time, so the alert worker keeps time by the data and the
    # compliance jobs read the same clock.
    clock = DataClock(idle_speed=1.0)
    alerts = AlertsComponent(settings, services.alerts, catalog, store, clock=clock, on_change=change_printer(sys.stdout))
    stack.start(alerts)
    regulatory = RegulatoryAlerts(alerts.lifecycle, on_commit=alerts.sender.wake, on_change=change_printer(sys.stdout))
    settle_s = max(services.compliance.settle_s, WRITE_LATENCY_S * CATCH_UP_SPEED)
    stack.start(ComplianceComponent(
        store, catalog, clock, settle_s=settle_s, out=sys.stdout, on_findings=regulatory.apply, after_day=[rollup_after_day],
    ))
    api = ApiComponent(settings, services.api, store, catalog, plan.api_port)
    stack.start(api)
    simulator = SimulatorComponent(settings, plant, model, seed=seed)
    stack.start(simulator)
    return _Running(settings, store, worker, simulator, api, history, history_plan, plan.faults)


def _local(ms: int, zone: tzinfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return datetime.fromtimestamp(ms / 1000, zone).strftime(fmt)


def _print_banner(running: _Running, plant: PlantConfig, *, embedded: bool, seed: int, out: TextIO) -> None:
    settings, api, zone = running.settings, running.api, plant.zone
    data_dir = settings.data_dir.resolve()
    print(f"MQTT broker:  {_describe_broker(settings, embedded)}", file=out)
    print(f"store:        {_describe_store(running.store, settings)}", file=out)
    print(f"plant:        {plant.id} ({plant.name}), time zone {plant.timezone}, now {_local(round(time.time() * 1000), zone)}", file=out)
    plan = running.plan
    history = "the store's, carried on" if plan.resumed else f"from {_local(plan.start_ms, zone, '%Y-%m-%d %H:%M')}"
    print(f"history:      {history}; live from {_local(plan.end_ms, zone)} in real time, seed {seed}", file=out)
    for fault in running.faults:
        after_s = (fault.start_ms - plan.end_ms) / 1000
        print(f"fault:        {fault.name} at {_local(fault.start_ms, zone, '%H:%M:%S')} ({after_s:+g} s from the start) for {fault.duration_s:g} s "
              "(alerts print below as they open and clear; --fault to choose, wastewatch simulate --list-faults)", file=out)
    print(f"data dir:     {data_dir}", file=out)
    print(f"dead letters: {data_dir / 'deadletters.sqlite3'} (list them: wastewatch deadletters)", file=out)
    print(f"open:         {api.url}/docs  (the API, OpenAPI pages; {api.url}/ready says what is up)", file=out)
    print(f"demo key:     {api.key}  (admin, this run's own; revoked when it stops)", file=out)
    print(f'  try:        curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/sensors"', file=out)
    print(f'              curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/tonnage?start=-7d&by=day"', file=out)
    month = _local(running.plan.start_ms, zone, "%Y-%m")
    print(f'  report:     curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/reports/{month}?format=pdf&lang=en" -o report.pdf', file=out)
    print("running; Ctrl-C stops", file=out, flush=True)


def run_demo(
    settings: Settings,
    *,
    services: Services | None = None,
    seed: int = 1,
    backfill_days: int = 7,
    faults: Sequence[str] = (),
    stop_event: threading.Event | None = None,
) -> int:
    """Run the demo until Ctrl-C/SIGTERM (or `stop_event`); 0 on a clean stop, 1 when the simulator failed,
    2 on a bad fault spec. `faults` are `wastewatch simulate --fault` specs whose `+<duration>`
    counts from the demo's start."""
    catalog = load_catalog(settings.plant_config)
    plant = next(iter(catalog), None)
    if plant is None:
        raise PlantConfigError("the plant catalogue is empty")
    services = services or Services.load(settings)
    try:
        plan = DemoPlan.make(plant, services, backfill_days=backfill_days, fault_specs=faults)
    except ValueError as exc:
        print(f"wastewatch demo: {exc}", file=sys.stderr)
        return 2
    stop = stop_event or threading.Event()
    stack = _Stack()
    started = time.monotonic()
    out = sys.stdout
    with stop_on_signal(stop):
        try:
            running = _start_all(settings, services, catalog, plant, stack, plan, seed=seed)
            _print_banner(running, plant, embedded=settings.mqtt.url is None, seed=seed, out=out)
            _report_until_stopped(stop, running.simulator, running.worker, plant.zone, out)
        finally:
            # The alert worker stops first: the simulator's parting "offline" is the demo ending, not a plant fault.
            stack.stop_all(first="alerts")
    sim, counts = running.simulator, running.worker.counts()
    outcome = f"failed ({sim.error})" if sim.failed.is_set() else "stopped"
    print(
        f"demo {outcome} after {time.monotonic() - started:.0f} s: published {sim.published}, received {counts.received}, "
        f"written {counts.written}, dead-lettered {counts.dead_lettered}, spool batches {counts.spool_batches}",
        file=out,
        flush=True,
    )
    return 1 if sim.failed.is_set() else 0
