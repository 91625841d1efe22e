"""The bridge from compliance results into the alert lifecycle: each regulatory finding of a
compliance job raises, updates or clears one alert of category `regulatory` per (plant, rule,
subject), through the same lifecycle and outbox as every other alert (so routing sends it to the
agency, a repeat while active notifies nobody, and a recovery goes where the raise went).

The alert database holds the state: a holding finding raises only when no alert of its key is
active, and a finding that no longer holds clears only an active one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from alerts.events import AlertCleared, AlertEvent, AlertRaised, AlertUpdated
from alerts.lifecycle import Lifecycle
from alerts.notifiers.registry import configured_channels
from alerts.schema import open_database
from alerts.service import build_routes, lifecycle_policy
from alerts.settings import AlertSettings
from alerts.store import AlertChange
from wastewatch.compliance.regulatory import Finding
from wastewatch.plant import PlantCatalog
from wastewatch.relational import Database
from wastewatch.settings import Settings

logger = logging.getLogger(__name__)

CATEGORY = "regulatory"


def event_for(finding: Finding, active_raised_at_ms: int | None, occurrences: int = 1) -> AlertEvent | None:
    """The lifecycle event a finding means, given the raise time of its active alert (None: no active alert)."""
    common = dict(
        plant=finding.plant, rule_id=finding.rule_id, subject=finding.alert_subject, severity=finding.severity,
        category=CATEGORY, source=finding.source, status=finding.status, at_ms=finding.judged_at_ms,
        message=finding.message, value=finding.value, detail=finding.detail,
    )
    if finding.holding:
        if active_raised_at_ms is None:
            return AlertRaised(**common, condition_since_ms=finding.since_ms)  # type: ignore[arg-type]
        return AlertUpdated(**common, raised_at_ms=active_raised_at_ms, occurrences=occurrences)  # type: ignore[arg-type]
    if active_raised_at_ms is None:
        return None
    return AlertCleared(**common, raised_at_ms=active_raised_at_ms, reason="recovered")  # type: ignore[arg-type]


class RegulatoryAlerts:
    """Applies findings to a `Lifecycle` in one transaction; `on_commit` wakes the outbox sender."""

    def __init__(
        self, lifecycle: Lifecycle, *, on_commit: Callable[[], None] | None = None,
        on_change: Callable[[AlertChange], None] | None = None,
    ) -> None:
        self.lifecycle = lifecycle
        self._on_commit, self._on_change = on_commit, on_change

    def apply(self, findings: Iterable[Finding]) -> list[AlertChange]:
        """Oldest first, so a day's findings replayed in order end in the newest state."""
        changes: list[AlertChange] = []
        with self.lifecycle.db.transaction():
            for finding in sorted(findings, key=lambda f: (f.judged_at_ms, f.rule_id, f.alert_subject)):
                active = self.lifecycle.alerts.active(finding.plant, finding.rule_id, finding.alert_subject)
                event = event_for(finding, active.raised_at_ms if active else None, (active.occurrences + 1) if active else 1)
                if event is None:
                    continue
                change = self.lifecycle.apply(event)
                if change is not None:
                    changes.append(change)
        if changes and self._on_commit is not None:
            self._on_commit()
        for change in changes:
            logger.info("regulatory alert %s id=%s key=%s", change.kind, change.alert.id, change.alert.key)
            if self._on_change is not None:
                self._on_change(change)
        return changes


def open_regulatory_alerts(settings: Settings, alerts: AlertSettings, catalog: PlantCatalog) -> tuple[RegulatoryAlerts, Database]:
    """A bridge on the alert database the settings name, for a process without the alert worker
    (`wastewatch compliance`); close the returned database when done."""
    # the channels the worker's sender has for these settings, named without connecting any: this
    # process writes outbox rows, the worker sends them
    routes = build_routes(alerts, configured_channels(settings, alerts))
    db = open_database(settings)
    return RegulatoryAlerts(Lifecycle(db, routes, (), catalog, lifecycle_policy(alerts))), db
