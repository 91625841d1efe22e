"""Wiring the alert worker from settings: rules, database, notifiers, routes, sender and worker.

`AlertsComponent` is the start/stop unit the demo runs (with an `on_change` hook to print alerts as
they open and close); `run_alerts` is `wastewatch alerts`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TextIO

from alerts.clock import Clock, DataClock
from alerts.leases import Leases, worker_identity
from alerts.lifecycle import Lifecycle, Policy
from alerts.notifiers import Notifier, telegram
from alerts.notifiers.registry import build_notifiers, configured_channels
from alerts.routing import Routes, parse_routes
from alerts.rules import RuleConfigError, RuleSet, bundled_rules_path, load_rules
from alerts.schema import open_database
from alerts.sender import OutboxSender, SenderPolicy
from alerts.settings import AlertSettings
from alerts.store import AlertChange
from alerts.telegram_acks import TelegramAcks
from alerts.worker import AlertWorker
from wastewatch.plant import PlantCatalog, load_catalog
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.runtime import wait_for_signal
from wastewatch.settings import Settings, SettingsError
from wastewatch.store import open_store

logger = logging.getLogger(__name__)


def load_rulesets(alerts: AlertSettings, catalog: PlantCatalog) -> list[RuleSet]:
    """The configured rule file (or every `*.yaml` in the configured folder, one plant each), or the
    bundled rule set of every catalogue plant that has one."""
    if alerts.rules_file is not None:
        path = alerts.rules_file
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        if not files:
            raise RuleConfigError(f"{path}: no *.yaml rule files in this folder", ["no rules"])
        rulesets = []
        for file in files:
            ruleset = load_rules(file)
            rulesets.append(load_rules(file, catalog.get(ruleset.plant)) if catalog.get(ruleset.plant) else ruleset)
        return rulesets
    found = [load_rules(bundled_rules_path(p.id), p) for p in catalog if bundled_rules_path(p.id).exists()]
    if not found:
        raise RuleConfigError("no alert rules: set WASTEWATCH_ALERTS_RULES_FILE", ["no rules"])
    return found


def build_routes(alerts: AlertSettings, available: Iterable[str]) -> Routes:
    """The routes of WASTEWATCH_ALERTS_ROUTES over the channels `available`."""
    try:
        return parse_routes(alerts.routes, alerts.agency_categories, available=available)
    except ValueError as exc:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_ROUTES: {exc}") from exc


def lifecycle_policy(alerts: AlertSettings) -> Policy:
    return Policy(
        language=alerts.language, public_url=alerts.public_url, flap_count=alerts.flap_count,
        flap_window_s=alerts.flap_window_s, escalation_after_min=alerts.escalation_after_min,
        escalation_levels=alerts.escalation_levels, flap_settle_s=alerts.flap_settle_s,
    )


def sender_policy(alerts: AlertSettings) -> SenderPolicy:
    return SenderPolicy(
        retry_base_s=alerts.retry_base_s, retry_max_s=alerts.retry_max_s,
        failover_after_attempts=alerts.failover_after_attempts,
        rate_limit_count=alerts.rate_limit_count, rate_limit_window_s=alerts.rate_limit_window_s,
        language=alerts.language,
    )


def default_clock(alerts: AlertSettings) -> Clock:
    return DataClock(idle_speed=1.0) if alerts.clock == "data" else time.time


class AlertsComponent:
    """The alert worker and its outbox sender as one start/stop unit."""

    name = "alerts"

    def __init__(
        self, settings: Settings, alerts: AlertSettings, catalog: PlantCatalog | None = None, store: Store | None = None, *,
        clock: Clock | None = None, on_change: Callable[[AlertChange], None] | None = None,
        notifiers: Mapping[str, Notifier] | None = None, sender_wall: Callable[[], float] = time.time,
        scheduler: bool = True,
    ) -> None:
        self.settings, self.alerts = settings, alerts
        if notifiers is None:
            configured_channels(settings, alerts)  # a bad channel setting is refused before anything is opened
        self.catalog = catalog or load_catalog(settings.plant_config)
        self.rulesets = load_rulesets(alerts, self.catalog)
        self._own_store = store is None
        self.store = store if store is not None else open_store(settings)
        self.db: Database = open_database(settings)
        self._sender_db = open_database(settings)
        self.notifiers = dict(notifiers) if notifiers is not None else build_notifiers(settings, alerts, self.store)
        self.routes = build_routes(alerts, self.notifiers)
        rules = [rule for rs in self.rulesets for rule in rs.rules]
        self.lifecycle = Lifecycle(self.db, self.routes, rules, self.catalog, lifecycle_policy(alerts))
        self.sender = OutboxSender(self._sender_db, self.notifiers, sender_policy(alerts), wall=sender_wall,
                                   plants=lambda: self.worker.plants_filter())
        leases = None
        if alerts.lease_s > 0:  # the commit's lease check must run on the worker's own connection
            leases = Leases(self.db, worker_identity(alerts.client_id), alerts.lease_s)
        self.worker = AlertWorker(
            settings, alerts, self.catalog, self.rulesets, self.db, self.lifecycle,
            clock=clock or default_clock(alerts), on_change=on_change, on_commit=self.sender.wake, scheduler=scheduler,
            leases=leases,
        )
        self.telegram_acks: TelegramAcks | None = None
        if alerts.telegram_poll and telegram.check_settings(alerts):  # the Acknowledge button's presses
            self._acks_db = open_database(settings)
            self.telegram_acks = TelegramAcks(telegram.telegram_api(alerts), telegram.telegram_users(alerts), self._acks_db,
                                              wall=sender_wall, language=alerts.language)

    def start(self) -> None:
        try:
            self.store.ensure_database()
        except Exception as exc:  # the store may be down at start: annotations wait in the outbox
            logger.warning("could not reach the time-series store at start error=%s", exc)
        self.sender.start()
        self.worker.start()
        if self.telegram_acks is not None:
            self.telegram_acks.start()

    def stop(self) -> None:
        try:
            if self.telegram_acks is not None:
                self.telegram_acks.stop()
            self.worker.stop()
        finally:
            self.sender.stop()
            self.db.close()
            self._sender_db.close()
            if self.telegram_acks is not None:
                self.telegram_acks.api.close()
                self._acks_db.close()
            if self._own_store:
                self.store.close()


def _change_text(change: AlertChange) -> str:
    """The raised (or escalated) alert's message; for a clear, why and after how long (the row keeps the
    raised message, which would read as if the fault were still there)."""
    a = change.alert
    if change.kind != "cleared":
        return a.message
    why = "no longer applies (plant state)" if a.clear_reason == "not_applicable" else "recovered"
    if a.cleared_at_ms is None:
        return why
    minutes, seconds = divmod(round((a.cleared_at_ms - a.raised_at_ms) / 1000), 60)
    return f"{why} after {minutes} min {seconds:02d} s" if minutes else f"{why} after {seconds} s"


def change_printer(out: TextIO) -> Callable[[AlertChange], None]:
    """An `on_change` hook printing each alert as it opens, closes or escalates (the demo's view)."""

    def show(change: AlertChange) -> None:
        if change.kind not in ("raised", "cleared", "escalated"):
            return
        a = change.alert
        print(f"alert {change.kind:<9} #{a.id} {a.severity:<8} {a.key}: {_change_text(change)}", file=out, flush=True)

    return show


def run_alerts(settings: Settings, alerts: AlertSettings) -> int:
    """`wastewatch alerts`: run the worker until SIGINT/SIGTERM."""
    if settings.mqtt.url is None:
        raise SettingsError("bad setting WASTEWATCH_MQTT_URL: required for `wastewatch alerts`")
    component = AlertsComponent(settings, alerts)
    component.start()
    try:
        wait_for_signal(threading.Event())
    finally:
        component.stop()
    return 0
