"""`wastewatch demo`: broker (embedded unless configured), store, ingest, alerts, compliance, the API and
the plant simulator in one process.

Each part is a component with `start`/`stop`; they start in order and stop in reverse, so the alert
worker, the compliance jobs and the API join the list without touching the rest.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
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
from api.keys import KeyConflict, KeyStore
from api.roles import Role
from api.settings import ApiSettings
from api.summaries.rollup import rollup_after_day
from compliance.replay import ComplianceComponent
from compliance.settings import ComplianceSettings
from ingest.settings import IngestSettings
from ingest.worker import IngestCounts, IngestWorker
from launch.history import HistoryProgress, HistorySummary, backfill_history
from simulators.model import PlantModel
from simulators.publisher import PublishError, PublishProgress, run_simulator
from wastewatch.embedded_broker import EmbeddedBroker
from wastewatch.plant import PlantCatalog, PlantConfig, PlantConfigError, load_catalog
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.runtime import free_port, port_is_free, stop_on_signal
from wastewatch.settings import BrokerSettings, Settings, load
from wastewatch.store import open_store
from wastewatch.store.sqlite import SqliteStore

logger = logging.getLogger(__name__)

MQTT_DEFAULT_PORT = 1883
# The simulation starts this far in the past, so the demo opens with a whole plant day (24 min at speed 60).
LEAD_S = 86_400.0
STATUS_EVERY_S = 1.0
PLAIN_STATUS_EVERY_S = 5.0
SIMULATOR_ACK_TIMEOUT_S = 10.0
CAUGHT_UP_S = 5.0  # the simulator's clock this close to the wall clock shows as "real time"
# The compliance jobs run a half-hour once the data clock is this many real seconds past it (scaled by
# the replay speed), so the ingest has written the window's last readings (it flushes every 0.25 s).
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
    """The plant simulator in a thread: a day's catch-up accelerated, then real time.

    It starts `LEAD_S` in the past (or where the history's model stopped) and runs at `speed` only
    until its clock meets the real one, then goes on in real time, so no timestamp ever lies ahead of
    the wall clock (the ingest dead-letters more than 300 s ahead). It is one run of one plant model,
    so the plant goes on through the hand-off: no jump in its temperatures, no batch id used twice.
    """

    name = "simulator"

    def __init__(self, settings: Settings, plant: PlantConfig, *, speed: float, seed: int, model: PlantModel | None = None) -> None:
        self.settings, self.plant, self.speed, self.seed = settings, plant, speed, seed
        self._model = model
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
        model = self._model or PlantModel(self.plant, self.seed, round(time.time() * 1000 - LEAD_S * 1000))
        broker = self.settings.mqtt.address
        assert broker is not None  # run_demo sets the URL before the simulator is built
        # Started behind the wall clock, the run goes `speed` times faster until it meets it, then in real
        # time; at speed <= 1 it never catches up. Start-up delays only make the meeting later, never ahead.
        self.mode = f"x{self.speed:g}"
        self.sim_ms = max(model.now_ms, model.start_ms)
        summary = run_simulator(
            broker, self.plant, seed=self.seed, start_ms=model.start_ms, mode="accelerated",
            speed=self.speed, duration_s=None, protocol=self.settings.mqtt.protocol,
            ca_file=self.settings.mqtt.ca_file, stop_event=self._stop, on_progress=self._progress,
            ack_timeout_s=SIMULATOR_ACK_TIMEOUT_S, model=model, catch_up=self.speed > 1,
        )
        self.published = summary.published

    def _progress(self, progress: PublishProgress) -> None:
        self.sim_ms = progress.sim_ms
        self.published = progress.published
        if self.speed > 1 and progress.sim_ms >= time.time() * 1000 - CAUGHT_UP_S * 1000:
            self.mode = "real time"


class ApiComponent:
    """The HTTP API (uvicorn) in a thread, on `WASTEWATCH_API_PORT` or a free port when that is taken,
    with its own connection to the alert database; a fresh admin key named `demo` each run."""

    name = "api"

    def __init__(self, settings: Settings, api: ApiSettings, store: Store, catalog: PlantCatalog) -> None:
        self.db: Database = open_database(settings)
        port = api.port if port_is_free(api.port) else free_port()
        self.url = f"http://{api.host}:{port}"
        app = create_app(settings, api, store=store, catalog=catalog, alert_db=self.db)
        self._server = uvicorn.Server(uvicorn.Config(app, host=api.host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="demo-api", daemon=True)
        self.key = ""

    def start(self) -> None:
        keys, now_ms = KeyStore(self.db), round(time.time() * 1000)
        try:
            self.key = keys.issue("demo", Role.ADMIN, "demo", now_ms).secret_key
        except KeyConflict:  # the previous run's key: replace it
            keys.revoke("demo", "demo", now_ms)
            self.key = keys.issue("demo", Role.ADMIN, "demo", now_ms).secret_key
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
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


def _fill_history(
    store: Store, catalog: PlantCatalog, plant: PlantConfig, backfill_s: float, seed: int, out: TextIO
) -> tuple[HistorySummary, PlantModel]:
    """`--backfill`: simulated history up to LEAD_S ago, and the plant model the live simulation carries on."""
    now_ms = round(time.time() * 1000)
    end_ms = now_ms - round(LEAD_S * 1000)
    start_ms = end_ms - round(backfill_s * 1000)

    def progress(p: HistoryProgress) -> None:
        if p.phase == "compliance":
            print(f"  history: {p.points} points written; computing averages and validity for every day", file=out, flush=True)
        elif (p.sim_ms - start_ms) % (5 * 86_400_000) < 6 * 3_600_000:  # about every five simulated days
            day = datetime.fromtimestamp(p.sim_ms / 1000, plant.zone).strftime("%Y-%m-%d")
            print(f"  history: plant day {day}, {p.points} points", file=out, flush=True)

    print(f"back-filling {backfill_s / 86_400:g} days of plant history into the store (no MQTT; see launch/history.py)", file=out, flush=True)
    model = PlantModel(plant, seed, start_ms)
    summary = backfill_history(
        store, catalog, plant, seed=seed, start_ms=start_ms, end_ms=end_ms, now_ms=now_ms, on_progress=progress, model=model,
    )
    print(
        f"history ready in {summary.seconds:.0f} s: {summary.points} points, {summary.state_changes} state changes, "
        f"{summary.averages} averages", file=out, flush=True,
    )
    return summary, model


def _start_all(
    settings: Settings, services: Services, catalog: PlantCatalog, plant: PlantConfig, stack: _Stack, *,
    speed: float, seed: int, backfill_s: float,
) -> _Running:
    if settings.mqtt.url is None:
        broker = BrokerComponent()
        stack.start(broker)
        # amqtt speaks MQTT 3.1.1 only, so every client of the embedded broker does too.
        settings = settings.model_copy(update={"mqtt": BrokerSettings(url=broker.url, protocol="3.1.1", demo=settings.demo)})
    store = open_store(settings)
    stack.start(StoreComponent(store))
    history, model = _fill_history(store, catalog, plant, backfill_s, seed, sys.stdout) if backfill_s > 0 else (None, None)
    worker = IngestWorker(settings, services.ingest, catalog, store)
    stack.start(IngestComponent(worker))
    # The demo replays a plant day faster than real time, so the alert worker keeps time by the data
    # and the compliance jobs read the same clock.
    clock = DataClock(idle_speed=1.0)
    alerts = AlertsComponent(settings, services.alerts, catalog, store, clock=clock, on_change=change_printer(sys.stdout))
    stack.start(alerts)
    regulatory = RegulatoryAlerts(alerts.lifecycle, on_commit=alerts.sender.wake, on_change=change_printer(sys.stdout))
    settle_s = max(services.compliance.settle_s, WRITE_LATENCY_S * speed)
    stack.start(ComplianceComponent(
        store, catalog, clock, settle_s=settle_s, out=sys.stdout, on_findings=regulatory.apply, after_day=[rollup_after_day],
    ))
    api = ApiComponent(settings, services.api, store, catalog)
    stack.start(api)
    simulator = SimulatorComponent(settings, plant, speed=speed, seed=seed, model=model)
    stack.start(simulator)
    return _Running(settings, store, worker, simulator, api, history)


def _print_banner(running: _Running, plant: PlantConfig, *, embedded: bool, speed: float, seed: int, out: TextIO) -> None:
    settings = running.settings
    data_dir = settings.data_dir.resolve()
    print(f"MQTT broker:  {_describe_broker(settings, embedded)}", file=out)
    print(f"store:        {_describe_store(running.store, settings)}", file=out)
    print(f"plant:        {plant.id} ({plant.name}), time zone {plant.timezone}", file=out)
    print(f"simulator:    speed {speed:g} (simulated s per real s), seed {seed}, from {LEAD_S / 3600:g} h ago", file=out)
    print(f"data dir:     {data_dir}", file=out)
    print(f"dead letters: {data_dir / 'deadletters.sqlite3'} (list them: wastewatch deadletters)", file=out)
    api = running.api
    print(f"API:          {api.url}/docs  (OpenAPI)", file=out)
    print(f"demo key:     {api.key}  (admin; replaced at every start)", file=out)
    print(f'  try:        curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/tonnage?start=-30d&by=day"', file=out)
    if running.history is not None:
        month = datetime.fromtimestamp(running.history.start_ms / 1000, plant.zone).strftime("%Y-%m")
        print(f'  report:     curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/reports/{month}?format=pdf&lang=en" -o report.pdf', file=out)
    print("running; Ctrl-C stops", file=out, flush=True)


def run_demo(
    settings: Settings,
    *,
    services: Services | None = None,
    speed: float = 60.0,
    seed: int = 1,
    backfill_s: float = 0.0,
    stop_event: threading.Event | None = None,
) -> int:
    """Run the demo until Ctrl-C/SIGTERM (or `stop_event`); 0 on a clean stop, 1 when the simulator failed."""
    if speed <= 0:
        print("wastewatch demo: --speed must be positive", file=sys.stderr)
        return 2
    if backfill_s < 0:
        print("wastewatch demo: --backfill must not be negative", file=sys.stderr)
        return 2
    catalog = load_catalog(settings.plant_config)
    plant = next(iter(catalog), None)
    if plant is None:
        raise PlantConfigError("the plant catalogue is empty")
    stop = stop_event or threading.Event()
    stack = _Stack()
    started = time.monotonic()
    out = sys.stdout
    with stop_on_signal(stop):
        try:
            running = _start_all(settings, services or Services.load(settings), catalog, plant, stack, speed=speed, seed=seed, backfill_s=backfill_s)
            _print_banner(running, plant, embedded=settings.mqtt.url is None, speed=speed, seed=seed, out=out)
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
