"""Manifest findings (`wastewatch.manifests.reconcile`) into the alert lifecycle, as `alerts.regulatory`
does for the compliance findings: one alert of category `regulatory` per (plant,
`regulatory_manifest_<kind>`, manifest number), through the same lifecycle and outbox, so the agency
gets it, a repeat while active notifies nobody, and a finding that no longer holds clears it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from alerts.events import AlertCleared, AlertEvent, AlertRaised, AlertUpdated
from alerts.regulatory import CATEGORY, RegulatoryAlerts
from alerts.store import AlertChange
from wastewatch.manifests.reconcile import SOURCE, STATUS, ManifestFinding

logger = logging.getLogger(__name__)


def manifest_event(finding: ManifestFinding, active_raised_at_ms: int | None, occurrences: int = 1) -> AlertEvent | None:
    common = dict(
        plant=finding.plant, rule_id=finding.rule_id, subject=finding.subject, severity=finding.severity,
        category=CATEGORY, source=SOURCE, status=STATUS, at_ms=finding.judged_at_ms,
        message=finding.message, value=finding.value, detail=finding.detail,
    )
    if finding.holding:
        if active_raised_at_ms is None:
            return AlertRaised(**common, condition_since_ms=finding.since_ms)  # type: ignore[arg-type]
        return AlertUpdated(**common, raised_at_ms=active_raised_at_ms, occurrences=occurrences)  # type: ignore[arg-type]
    if active_raised_at_ms is None:
        return None
    return AlertCleared(**common, raised_at_ms=active_raised_at_ms, reason="recovered")  # type: ignore[arg-type]


def apply_manifest_findings(bridge: RegulatoryAlerts, findings: Iterable[ManifestFinding]) -> list[AlertChange]:
    """Apply findings in one transaction; a holding finding whose alert is active and unchanged in
    message is left alone (a rerun of the job notifies and writes nothing)."""
    lifecycle = bridge.lifecycle
    changes: list[AlertChange] = []
    with lifecycle.db.transaction():
        for finding in sorted(findings, key=lambda f: (f.judged_at_ms, f.rule_id, f.subject)):
            active = lifecycle.alerts.active(finding.plant, finding.rule_id, finding.subject)
            if active is not None and finding.holding and active.message == finding.message:
                continue
            event = manifest_event(finding, active.raised_at_ms if active else None, (active.occurrences + 1) if active else 1)
            if event is None:
                continue
            change = lifecycle.apply(event)
            if change is not None:
                changes.append(change)
    for change in changes:
        logger.info("manifest alert %s id=%s key=%s", change.kind, change.alert.id, change.alert.key)
    return changes


def active_subjects(bridge: RegulatoryAlerts, plant: str, rule_id: str) -> list[str]:
    """The subjects of the plant's active alerts of one rule (the without-manifest alerts to clear)."""
    rows = bridge.lifecycle.db.query("SELECT subject FROM alerts WHERE plant = ? AND rule_id = ? AND active = 1", (plant, rule_id))
    return [str(r["subject"]) for r in rows]
