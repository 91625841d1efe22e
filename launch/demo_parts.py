"""The demo's running parts, each a component with `start`/`stop`: the embedded broker, the store, the
ingest, the plant simulator, the API (with this run's key and console login), and the stack that
starts them in order and stops them in reverse."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import uvicorn

from alerts.schema import open_database
from api.app import create_app
from api.keys import KeyNotFound, KeyStore
from api.roles import Role
from api.settings import ApiSettings
from api.users import UserStore
from ingest.worker import IngestWorker
from launch.history import HistoryPlan, HistorySummary
from simulators.model import PlantModel
from simulators.publisher import PublishError, PublishProgress, run_simulator
from simulators.scenarios import FaultWindow
from wastewatch.embedded_broker import EmbeddedBroker
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.runtime import free_port, port_is_free
from wastewatch.settings import Section, Settings, env_name

logger = logging.getLogger(__name__)

MQTT_DEFAULT_PORT = 1883
# The live simulator starts where the history ends, when the demo started: it publishes the seconds the
# history took this much faster than real time, then goes on in real time.
CATCH_UP_SPEED = 60.0
SIMULATOR_ACK_TIMEOUT_S = 10.0
CAUGHT_UP_S = 5.0  # the simulator's clock this close to the wall clock shows as "real time"


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
    alert database, an admin key and an operator's console login of its own: made at the start under
    names no other run uses (a second demo on the same database keeps its own), revoked and disabled
    at the stop."""

    name = "api"

    def __init__(self, settings: Settings, api: ApiSettings, store: Store, catalog: PlantCatalog, port: int) -> None:
        self.db: Database = open_database(settings)
        self.url = f"http://{api.host}:{port}"
        app = create_app(settings, api, store=store, catalog=catalog, alert_db=self.db)
        self._server = uvicorn.Server(uvicorn.Config(app, host=api.host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="demo-api", daemon=True)
        self.key = ""
        self._key_id: str | None = None
        self.console_user = self.console_password = ""

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.05)
        now_ms = round(time.time() * 1000)
        name = f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        issued = KeyStore(self.db).issue(name, Role.ADMIN, "demo", now_ms)
        self.key, self._key_id = issued.secret_key, issued.key.key_id
        # An operator: sees every alert and acknowledges it, as the control room does.
        user, password = f"demo-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        UserStore(self.db).add(user, Role.OPERATOR, password, "demo", now_ms)
        self.console_user, self.console_password = user, password

    @property
    def console_url(self) -> str:
        return f"{self.url}/console/"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        now_ms = round(time.time() * 1000)
        try:
            if self._key_id is not None:
                try:
                    KeyStore(self.db).revoke(self._key_id, "demo", now_ms)
                except KeyNotFound:  # an admin revoked it meanwhile
                    pass
            if self.console_user:
                UserStore(self.db).disable(self.console_user, "demo", now_ms)
        finally:
            self.db.close()


class Stack:
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



@dataclass
class Running:
    """What `run_demo` started, as the banner and the status line show it."""

    settings: Settings
    store: Store
    worker: IngestWorker
    simulator: SimulatorComponent
    api: ApiComponent
    history: HistorySummary | None
    plan: HistoryPlan
    faults: list[FaultWindow]
    alert_routes: str
    schedule: str


