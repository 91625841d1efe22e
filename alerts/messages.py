"""Alert message templates: the placeholders a rule's message may use, checked at load, filled per event."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

PLACEHOLDERS: dict[str, object] = {
    "plant": "kotim",
    "rule": "rule_id",
    "subject": "t_secondary",
    "severity": "critical",
    "value": 1.0,
    "threshold": 1.0,
    "detail": "why",
    "duration_s": 1.0,
    "plant_state": "burning",
}
"""Each placeholder with a sample value used to check format specs at load time."""


class _Renderer(Formatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        # a value that is not known (no reading yet, no threshold in the rule) prints as n/a
        if value is None:
            return "n/a"
        return super().format_field(value, format_spec)


def check_template(template: str) -> str:
    """The template, or ValueError naming the first unknown placeholder or bad format spec."""
    for _, field, _, _ in Formatter().parse(template):
        if field is not None and field not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{field}}}; known: {', '.join(PLACEHOLDERS)}")
    try:
        _Renderer().vformat(template, (), PLACEHOLDERS)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"cannot fill template: {exc}") from None
    return template


def render(template: str, values: Mapping[str, object]) -> str:
    return _Renderer().vformat(template, (), values)


class MessageTemplates(BaseModel):
    """Per-event message text; `updated` defaults to `raised`. `cleared` is for a recovery,
    `not_applicable` for an alert cleared because the plant left the rule's states."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raised: str
    updated: str | None = None
    cleared: str = "{rule} on {subject} cleared"
    not_applicable: str = "{rule} on {subject} cleared: the rule does not apply while the plant is {plant_state}"

    @field_validator("raised", "updated", "cleared", "not_applicable")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)

