"""Alert events, past facts the worker publishes: raised, updated (while active), cleared."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.rule_state import alert_key

Severity = Literal["critical", "major", "minor", "warning"]
Category = Literal["process", "safety", "data_quality", "regulatory", "interlock"]
ClearReason = Literal["recovered", "not_applicable"]


class _AlertEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    plant: str
    rule_id: str
    subject: str = Field(description="the sensor, device, or a rule-wide name such as 'plant'")
    severity: Severity
    category: Category
    source: str = Field(description="the regulatory or engineering source of the rule")
    status: str | None = Field(default=None, description="domain.md status tag of the rule's numbers")
    at_ms: int
    message: str
    value: float | None = None
    detail: str = ""

    @property
    def key(self) -> str:
        return alert_key(self.plant, self.rule_id, self.subject)


class AlertRaised(_AlertEvent):
    """The condition held for the rule's tolerance: a new alert."""

    kind: Literal["raised"] = "raised"
    condition_since_ms: int


class AlertUpdated(_AlertEvent):
    """The condition occurred again while its alert was active (never a second alert)."""

    kind: Literal["updated"] = "updated"
    raised_at_ms: int
    occurrences: int


class AlertCleared(_AlertEvent):
    """Recovery held for the rule's recovery tolerance, or the rule stopped applying (plant state)."""

    kind: Literal["cleared"] = "cleared"
    raised_at_ms: int
    reason: ClearReason


AlertEvent = Annotated[AlertRaised | AlertUpdated | AlertCleared, Field(discriminator="kind")]
