"""`wastewatch demo`: broker (embedded unless configured), store, ingest, alerts, compliance, the API and
the plant simulator in one process.

The demo opens with the last days of plant history written into the store, then the same plant goes
on live from the moment the demo started, in real time, with a fault a few minutes in (so an alert
opens and clears). Each part is a component with `start`/`stop`; they start in order and stop in
reverse, so the alert worker, the compliance jobs and the API join the list without touching the rest.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from alerts.clock import DataClock
from alerts.regulatory import RegulatoryAlerts
from alerts.service import AlertsComponent, change_printer
from alerts.settings import AlertSettings
from api.settings import ApiSettings
from api.summaries.rollup import rollup_after_day
from compliance.replay import ComplianceComponent
from compliance.settings import ComplianceSettings
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from launch.demo_parts import (
    CATCH_UP_SPEED,
    ApiComponent,
    BrokerComponent,
    IngestComponent,
    Running,
    SimulatorComponent,
    Stack,
    StoreComponent,
    choose_port,
)
from launch.demo_terminal import local_time, print_banner, report_until_stopped
from launch.history import HistoryPlan, HistoryProgress, HistorySummary, backfill_history, plan_history
from simulators.model import PlantModel
from simulators.scenarios import FaultWindow, parse_fault_spec
from simulators.schedule import schedule_named
from wastewatch.plant import PlantCatalog, PlantConfig, PlantConfigError, load_catalog
from wastewatch.points import Store
from wastewatch.runtime import stop_on_signal
from wastewatch.settings import BrokerSettings, Settings, load
from wastewatch.store import open_store

logger = logging.getLogger(__name__)

# The compliance jobs run a half-hour once the data clock is this many real seconds past it (scaled by
# the catch-up speed), so the ingest has written the window's last readings (it flushes every 0.25 s).
WRITE_LATENCY_S = 1.0
# Unless WASTEWATCH_ALERTS_ROUTES says otherwise, the demo routes every audience to MQTT only: it has no
# webhook or mail server, and it prints each alert itself (so the log channel would say it twice).
DEMO_ROUTES = "operators=mqtt;agency=mqtt"


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
        alerts = load(AlertSettings, demo=settings.demo)
        if "routes" not in alerts.model_fields_set:
            alerts = alerts.model_copy(update={"routes": DEMO_ROUTES})
        return cls(load(IngestSettings, demo=settings.demo), alerts, load(ComplianceSettings, demo=settings.demo),
                   load(ApiSettings, demo=settings.demo))


@dataclass(frozen=True)
class DemoPlan:
    """What one run will do, settled before anything starts: its start (where the history ends and the
    live plant goes on), the history's length, its faults, the API's port and the operating schedule."""

    now_ms: int
    backfill_days: int
    faults: list[FaultWindow]
    api_port: int
    schedule: str  # a name of `simulators.schedule.SCHEDULE_NAMES`

    @classmethod
    def make(
        cls, plant: PlantConfig, services: Services, *, backfill_days: int, fault_specs: Sequence[str], schedule: str = "continuous",
    ) -> DemoPlan:
        """Raises `ValueError` (a bad fault spec or schedule) or `ConfigError` (a busy explicit port)."""
        schedule_named(schedule)
        now_ms = round(time.time() * 1000)
        faults = [parse_fault_spec(spec, sim_start_ms=now_ms, zone=plant.zone) for spec in fault_specs]
        if services.ingest.metrics_port:
            choose_port(IngestSettings, services.ingest, "metrics_port")
        return cls(now_ms, backfill_days, faults, choose_port(ApiSettings, services.api, "port"), schedule)


def _fill_history(
    store: Store, catalog: PlantCatalog, plant: PlantConfig, plan: DemoPlan, seed: int, out: TextIO
) -> tuple[HistoryPlan, HistorySummary | None, PlantModel]:
    """The last days of history up to the demo's start (only the gap since the store's newest data, on a
    restart), and the plant model the live simulation carries on."""
    history = plan_history(store, plant, days=plan.backfill_days, now_ms=plan.now_ms)
    start_ms, end_ms = history.start_ms, history.end_ms
    model = PlantModel(plant, seed, start_ms, plan.faults, schedule_named(plan.schedule))
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
        since, gap_min = local_time(start_ms, plant.zone, "%Y-%m-%d %H:%M"), (end_ms - start_ms) / 60_000
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
    settings: Settings, services: Services, catalog: PlantCatalog, plant: PlantConfig, stack: Stack, plan: DemoPlan, *,
    seed: int,
) -> Running:
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
    return Running(settings, store, worker, simulator, api, history, history_plan, plan.faults, services.alerts.routes,
                   plan.schedule)


def run_demo(
    settings: Settings,
    *,
    services: Services | None = None,
    seed: int = 1,
    backfill_days: int = 7,
    faults: Sequence[str] = (),
    schedule: str = "continuous",
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
        plan = DemoPlan.make(plant, services, backfill_days=backfill_days, fault_specs=faults, schedule=schedule)
    except ValueError as exc:
        print(f"wastewatch demo: {exc}", file=sys.stderr)
        return 2
    stop = stop_event or threading.Event()
    stack = Stack()
    started = time.monotonic()
    out = sys.stdout
    with stop_on_signal(stop):
        try:
            running = _start_all(settings, services, catalog, plant, stack, plan, seed=seed)
            print_banner(running, plant, embedded=settings.mqtt.url is None, seed=seed, out=out)
            report_until_stopped(stop, running.simulator, running.worker, plant.zone, out)
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
