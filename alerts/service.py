"""Wiring the alert worker from settings: rules, database, notifiers, routes, sender and worker.

`AlertsComponent` is the start/stop unit the demo runs (with an `on_change` hook to print alerts as
they open and close); `run_alerts` is `wastewatch alerts`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TextIO

from alerts.clock import Clock, DataClock
from alerts.leases import Leases, worker_identity
from alerts.lifecycle import Lifecycle, Policy
from alerts.notifiers import Notifier
from alerts.notifiers.annotation import AnnotationNotifier
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.log import LogNotifier
from alerts.notifiers.mqtt import MqttNotifier
from alerts.notifiers.webhook import WebhookNotifier, check_secret, check_url
from alerts.routing import Routes, parse_routes
from alerts.rules import RuleConfigError, RuleSet, bundled_rules_path, load_rules
from alerts.schema import open_database
from alerts.sender import OutboxSender, SenderPolicy
from alerts.store import AlertChange
from alerts.worker import AlertWorker
from wastewatch.plant import PlantCatalog, load_catalog
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.runtime import wait_for_signal
from wastewatch.settings import Settings, SettingsError
from wastewatch.store import open_store

logger = logging.getLogger(__name__)


def load_rulesets(settings: Settings, catalog: PlantCatalog) -> list[RuleSet]:
    """The configured rule file (or every `*.yaml` in the configured folder, one plant each), or the
    bundled rule set of every catalogue plant that has one."""
    if settings.alerts_rules_file is not None:
        path = settings.alerts_rules_file
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


def check_webhook_settings(settings: Settings) -> None:
    """Refuse, with one line naming the setting, a webhook URL that is not https:// (plain http:// only
    to this machine or with WASTEWATCH_ALERTS_WEBHOOK_ALLOW_HTTP) and a missing or short secret."""
    if not settings.alerts_webhook_url:
        return
    try:
        check_url(settings.alerts_webhook_url, allow_http=settings.alerts_webhook_allow_http)
    except ValueError as exc:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_WEBHOOK_URL: {exc}") from None
    if settings.alerts_webhook_secret is None or not settings.alerts_webhook_secret.get_secret_value():
        raise SettingsError("bad setting WASTEWATCH_ALERTS_WEBHOOK_SECRET: required with WASTEWATCH_ALERTS_WEBHOOK_URL")
    try:
        check_secret(settings.alerts_webhook_secret.get_secret_value())
    except ValueError as exc:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_WEBHOOK_SECRET: {exc}") from None


def build_notifiers(settings: Settings, store: Store | None) -> dict[str, Notifier]:
    """Every channel the settings configure; a webhook with a bad URL or secret is refused."""
    check_webhook_settings(settings)
    notifiers: dict[str, Notifier] = {"log": LogNotifier()}
    if store is not None:
        notifiers["annotation"] = AnnotationNotifier(store)
    if settings.alerts_webhook_url and settings.alerts_webhook_secret is not None:
        notifiers["webhook"] = WebhookNotifier(
            settings.alerts_webhook_url, settings.alerts_webhook_secret.get_secret_value(),
            timeout_s=settings.alerts_webhook_timeout_s, allow_http=settings.alerts_webhook_allow_http,
        )
    if settings.alerts_smtp_host and settings.alerts_smtp_to:
        notifiers["email"] = EmailNotifier(
            settings.alerts_smtp_host, settings.alerts_smtp_port, settings.alerts_smtp_from,
            [a.strip() for a in settings.alerts_smtp_to.split(",") if a.strip()],
            starttls=settings.alerts_smtp_starttls, user=settings.alerts_smtp_user,
            password=settings.alerts_smtp_password.get_secret_value() if settings.alerts_smtp_password else None,
            timeout_s=settings.alerts_smtp_timeout_s,
        )
    if settings.broker is not None:
        notifiers["mqtt"] = MqttNotifier(
            # a clean session, so unique per process: workers sharing a client id prefix must not evict each other
            settings.broker, f"{settings.alerts_client_id}-notify-{uuid.uuid4().hex[:8]}", protocol=settings.mqtt_protocol,
            ca_file=settings.mqtt_ca_file,
        )
    return notifiers


def build_routes(settings: Settings, notifiers: Mapping[str, Notifier]) -> Routes:
    try:
        return parse_routes(settings.alerts_routes, settings.alerts_agency_categories, available=notifiers)
    except ValueError as exc:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_ROUTES: {exc}") from exc


def lifecycle_policy(settings: Settings) -> Policy:
    return Policy(
        language=settings.alerts_language, public_url=settings.alerts_public_url, flap_count=settings.alerts_flap_count,
        flap_window_s=settings.alerts_flap_window_s, escalation_after_min=settings.alerts_escalation_after_min,
        escalation_levels=settings.alerts_escalation_levels, flap_settle_s=settings.alerts_flap_settle_s,
    )


def sender_policy(settings: Settings) -> SenderPolicy:
    return SenderPolicy(
        retry_base_s=settings.alerts_retry_base_s, retry_max_s=settings.alerts_retry_max_s,
        failover_after_attempts=settings.alerts_failover_after_attempts,
        rate_limit_count=settings.alerts_rate_limit_count, rate_limit_window_s=settings.alerts_rate_limit_window_s,
        language=settings.alerts_language,
    )


def default_clock(settings: Settings) -> Clock:
    return DataClock(idle_speed=1.0) if settings.alerts_clock == "data" else time.time


class AlertsComponent:
    """The alert worker and its outbox sender as one start/stop unit."""

    name = "alerts"

    def __init__(
        self, settings: Settings, catalog: PlantCatalog | None = None, store: Store | None = None, *,
        clock: Clock | None = None, on_change: Callable[[AlertChange], None] | None = None,
        notifiers: Mapping[str, Notifier] | None = None, sender_wall: Callable[[], float] = time.time,
        scheduler: bool = True,
    ) -> None:
        self.settings = settings
        if notifiers is None:
            check_webhook_settings(settings)  # before anything is opened
        self.catalog = catalog or load_catalog(settings.plant_config)
        self.rulesets = load_rulesets(settings, self.catalog)
        self._own_store = store is None
        self.store = store if store is not None else open_store(settings)
        self.db: Database = open_database(settings)
        self._sender_db = open_database(settings)
        self.notifiers = dict(notifiers) if notifiers is not None else build_notifiers(settings, self.store)
        self.routes = build_routes(settings, self.notifiers)
        rules = [rule for rs in self.rulesets for rule in rs.rules]
        self.lifecycle = Lifecycle(self.db, self.routes, rules, self.catalog, lifecycle_policy(settings))
        self.sender = OutboxSender(self._sender_db, self.notifiers, sender_policy(settings), wall=sender_wall,
                                   plants=lambda: self.worker.plants_filter())
        leases = None
        if settings.alerts_lease_s > 0:  # the commit's lease check must run on the worker's own connection
            leases = Leases(self.db, worker_identity(settings.alerts_client_id), settings.alerts_lease_s)
        self.worker = AlertWorker(
            settings, self.catalog, self.rulesets, self.db, self.lifecycle,
            clock=clock or default_clock(settings), on_change=on_change, on_commit=self.sender.wake, scheduler=scheduler,
            leases=leases,
        )

    def start(self) -> None:
        try:
            self.store.ensure_database()
        except Exception as exc:  # the store may be down at start: annotations wait in the outbox
            logger.warning("could not reach the time-series store at start error=%s", exc)
        self.sender.start()
        self.worker.start()

    def stop(self) -> None:
        try:
            self.worker.stop()
        finally:
            self.sender.stop()
            self.db.close()
            self._sender_db.close()
            if self._own_store:
                self.store.close()


def change_printer(out: TextIO) -> Callable[[AlertChange], None]:
    """An `on_change` hook printing each alert as it opens, closes or escalates (the demo's view)."""

    def show(change: AlertChange) -> None:
        if change.kind not in ("raised", "cleared", "escalated"):
            return
        a = change.alert
        print(f"alert {change.kind:<9} #{a.id} {a.severity:<8} {a.key}: {a.message}", file=out, flush=True)

    return show


def run_alerts(settings: Settings) -> int:
    """`wastewatch alerts`: run the worker until SIGINT/SIGTERM."""
    if settings.mqtt_url is None:
        raise SettingsError("bad setting WASTEWATCH_MQTT_URL: required for `wastewatch alerts`")
    component = AlertsComponent(settings)
    component.start()
    try:
        wait_for_signal(threading.Event())
    finally:
        component.stop()
    return 0
