"""The alert lifecycle in the database: events from the pure core become alert rows, audit-trail
entries and outbox rows, all in the caller's transaction (operators' actions: `alerts.actions`).

Flood control lives here too: an update while active notifies nobody; an alert raised again and
again (`flap_count` raises within `flap_window_s`) is flapping, and from then on its raises and
their recoveries are recorded but not sent, after one "flapping" notice; once the alert has stayed
as it is (active or cleared) for `flap_settle_s`, one "settled" notice says which. Every notified
problem gets its recovery: a clear goes to the audiences its raise went to, and to escalation if
escalated (an alert that settled while active counts as notified from then on).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerts.events import AlertCleared, AlertEvent, AlertRaised, AlertUpdated
from alerts.outbox import Outbox, idempotency_key
from alerts.plant_state import PlantStateTransition, state_point
from alerts.routing import Routes
from alerts.rules import Rule
from alerts.store import AlertChange, AlertNotFound, AlertRecord, AlertStore
from alerts.templates import SEALED_DAY, alert_payload, sealed_day_payload
from wastewatch.plant import PlantCatalog
from wastewatch.records import PLANT_STATE
from wastewatch.relational import Database

logger = logging.getLogger(__name__)

ANNOTATION_CHAIN = ("annotation",)
ALERT_EVENT = "alert_event"


@dataclass(frozen=True, slots=True)
class Policy:
    language: str = "id"
    public_url: str = "http://localhost:8000"
    flap_count: int = 4
    flap_window_s: float = 3600.0
    escalation_after_min: float = 15.0
    escalation_levels: int = 2
    flap_settle_s: float = 900.0


class Lifecycle:
    def __init__(
        self, db: Database, routes: Routes, rules: Sequence[Rule], catalog: PlantCatalog,
        policy: Policy | None = None, *, annotate: bool = True,
    ) -> None:
        self.db, self.routes, self.catalog = db, routes, catalog
        self.policy = policy or Policy()
        self.annotate = annotate
        self.alerts, self.outbox = AlertStore(db), Outbox(db)
        self._rules: dict[tuple[str, str], Rule] = {(r.plant, r.id): r for r in rules}

    # -- events from the evaluator (call inside a transaction) ------------------------------------------

    def apply(self, event: AlertEvent) -> AlertChange | None:
        if isinstance(event, AlertRaised):
            return self._raised(event)
        existing = self.alerts.active(event.plant, event.rule_id, event.subject)
        if existing is None:
            logger.warning("no active alert to %s, ignored key=%s", event.kind, event.key)
            return None
        if isinstance(event, AlertUpdated):
            return self._repeat(existing, event)
        return self._cleared(existing, event)

    def _raised(self, event: AlertRaised) -> AlertChange:
        existing = self.alerts.active(event.plant, event.rule_id, event.subject)
        if existing is not None:  # the core lost its state, the database did not: still one alert
            return self._repeat(existing, event)
        window_ms = round(self.policy.flap_window_s * 1000)
        raises = self.alerts.raises_since(event.plant, event.rule_id, event.subject, event.at_ms - window_ms) + 1
        flapping = raises >= self.policy.flap_count
        rule = self._rules.get((event.plant, event.rule_id))
        alert_id = self.alerts.open(event, rule.title if rule else "", notified=not flapping, flapping=flapping)
        tid = self.alerts.add_transition(
            alert_id, event.at_ms, "raised",
            detail={"condition_since_ms": event.condition_since_ms, "value": event.value, "flapping": flapping},
        )
        alert = self._get(alert_id)
        audiences = self.routes.audiences_for(alert.severity, alert.category)
        if not flapping:
            self._notify(alert, "raised", tid, event.at_ms, audiences)
        elif raises == self.policy.flap_count:
            extra = {"raises": raises, "window_min": self.policy.flap_window_s / 60}
            self._notify(alert, "flapping", tid, event.at_ms, audiences, extra)
        self._annotate_alert(alert, event, tid)
        return AlertChange("raised", alert, tid)

    def _repeat(self, existing: AlertRecord, event: AlertUpdated | AlertRaised) -> AlertChange:
        self.alerts.touch(existing.id, event)
        tid = self.alerts.add_transition(existing.id, event.at_ms, "updated", detail={"value": event.value, "detail": event.detail})
        alert = self._get(existing.id)
        self._annotate_alert(alert, event, tid)
        return AlertChange("updated", alert, tid)

    def _cleared(self, existing: AlertRecord, event: AlertCleared) -> AlertChange:
        self.alerts.clear(existing.id, event)
        tid = self.alerts.add_transition(existing.id, event.at_ms, "cleared", detail={"reason": event.reason, "value": event.value})
        alert = self._get(existing.id)
        if alert.notified:
            audiences = self.routes.audiences_for(alert.severity, alert.category)
            if alert.escalation_level:
                audiences.append("escalation")
            self._notify(alert, "cleared", tid, event.at_ms, audiences, {"reason": event.reason, "message": event.message})
        self._annotate_alert(alert, event, tid)
        return AlertChange("cleared", alert, tid)

    # -- time-driven ---------------------------------------------------------------------------------

    def escalate_due(self, now_ms: int, plants: Collection[str] | None = None) -> list[AlertChange]:
        """Critical alerts (of `plants`, or all) unacknowledged for `escalation_after_min` per level:
        re-sent to escalation."""
        after_ms = round(self.policy.escalation_after_min * 60_000)
        if after_ms <= 0 or self.policy.escalation_levels <= 0:
            return []
        changes = []
        for alert in self.alerts.escalation_candidates(now_ms - after_ms, self.policy.escalation_levels, plants):
            level = min(self.policy.escalation_levels, (now_ms - alert.raised_at_ms) // after_ms)
            if level <= alert.escalation_level:
                continue
            self.alerts.set_escalation_level(alert.id, level)
            tid = self.alerts.add_transition(alert.id, now_ms, "escalated", detail={"level": level})
            alert = self._get(alert.id)
            extra = {"escalation_level": level, "after_min": level * self.policy.escalation_after_min}
            self._notify(alert, "escalated", tid, now_ms, ["escalation"], extra)
            changes.append(AlertChange("escalated", alert, tid))
        return changes

    def settle_due(self, now_ms: int, plants: Collection[str] | None = None) -> list[AlertChange]:
        """Flapping alerts (of `plants`, or all) quiet for `flap_settle_s`: one "settled" notice each."""
        settle_ms = round(self.policy.flap_settle_s * 1000)
        changes = []
        for alert in self.alerts.settle_candidates(now_ms - settle_ms, plants):
            self.alerts.mark_notified(alert.id)
            tid = self.alerts.add_transition(alert.id, now_ms, "settled", detail={"active": bool(alert.active)})
            alert = self._get(alert.id)
            audiences = self.routes.audiences_for(alert.severity, alert.category)
            self._notify(alert, "settled", tid, now_ms, audiences, {"quiet_min": self.policy.flap_settle_s / 60,
                                                                    "active": bool(alert.active)})
            changes.append(AlertChange("settled", alert, tid))
        return changes

    def record_plant_state(self, transition: PlantStateTransition) -> None:
        """The plant's operating-state change, for the time-series store (Grafana annotations)."""
        if not self.annotate:
            return
        state = state_point(transition)
        point = {"measurement": state.measurement, "tags": dict(state.tags), "fields": dict(state.fields), "time_ms": state.time_ms}
        key = f"ww-state-{transition.plant}-{transition.at_ms}-{transition.to_state.value}-annotation"
        self.outbox.add(plant=transition.plant, alert_id=None, transition_id=None, kind=PLANT_STATE, audience="store", chain=ANNOTATION_CHAIN,
                        level=0, key=key, payload=point, now_ms=transition.at_ms)

    def notify_sealed_day(self, plant: str, day: str, root: str, chain: str, leaves: int, now_ms: int) -> int:
        """The agency's rows for a day sealed into the tamper-evident ledger (its root and chain hash),
        through the outbox like any notification: one per agency chain and day, however often it is
        asked (the idempotency key). How many rows were added."""
        payload = sealed_day_payload(self.catalog.get(plant), plant, day, root, chain, leaves,
                                     language=self.policy.language, at_ms=now_ms)
        added = 0
        for audience, route in self.routes.deliveries(["agency"]):
            added += bool(self.outbox.add(plant=plant, alert_id=None, transition_id=None, kind=SEALED_DAY, audience=audience,
                                          chain=route, level=0, key=idempotency_key(f"ledger-{plant}-{day}", route[0]),
                                          payload=payload, now_ms=now_ms))
        return added

    # -- helpers -------------------------------------------------------------------------------------

    def _get(self, alert_id: int) -> AlertRecord:
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise AlertNotFound(f"no alert {alert_id}")
        return alert

    def _notify(
        self, alert: AlertRecord, kind: str, tid: int, at_ms: int, audiences: Sequence[str],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        payload = alert_payload(
            kind, alert, at_ms=at_ms, rule=self._rules.get((alert.plant, alert.rule_id)),
            plant=self.catalog.get(alert.plant), public_url=self.policy.public_url,
            language=self.policy.language, extra=extra,
        )
        for audience, chain in self.routes.deliveries(audiences):
            self.outbox.add(plant=alert.plant, alert_id=alert.id, transition_id=tid, kind=kind, audience=audience, chain=chain, level=0,
                            key=idempotency_key(f"t{tid}", chain[0]), payload=payload, now_ms=at_ms)

    def _annotate_alert(self, alert: AlertRecord, event: AlertEvent, tid: int) -> None:
        if not self.annotate:
            return
        extra = {} if event.value is None else {"value": float(event.value)}
        annotate_alert_event(self.outbox, alert, event.kind, tid, event.at_ms, event.message, extra)


def annotate_alert_event(
    outbox: Outbox, alert: AlertRecord, kind: str, tid: int, at_ms: int, message: str, extra: Mapping[str, Any],
) -> None:
    """An `alert_event` point for the time-series store (Grafana's annotations and the evaluator's
    counts), as an outbox row of the annotation channel in the caller's transaction."""
    fields: dict[str, Any] = {"alert_id": alert.id, "message": message, "title": alert.title or alert.rule_id, **extra}
    point = {
        "measurement": ALERT_EVENT,
        "tags": {"plant": alert.plant, "rule": alert.rule_id, "subject": alert.subject, "severity": alert.severity, "kind": kind},
        "fields": fields, "time_ms": at_ms,
    }
    outbox.add(plant=alert.plant, alert_id=alert.id, transition_id=tid, kind=ALERT_EVENT, audience="store", chain=ANNOTATION_CHAIN,
               level=0, key=idempotency_key(f"t{tid}", "annotation"), payload=point, now_ms=at_ms)
