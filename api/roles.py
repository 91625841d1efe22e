"""Who may do what: four roles, each allowed everything the one before it may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """evaluator < agency < operator < admin."""

    EVALUATOR = "evaluator"  # summaries (tonnage, uptime, compliance) and reports
    AGENCY = "agency"  # plus sensors, readings, averages, batches and alerts (read)
    OPERATOR = "operator"  # plus acknowledge, comment on and assign alerts
    ADMIN = "admin"  # plus API keys

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)

    def allows(self, required: Role) -> bool:
        """True when a key with this role may call a route that requires `required`."""
        return self.rank >= required.rank


ROLE_ORDER: tuple[Role, ...] = (Role.EVALUATOR, Role.AGENCY, Role.OPERATOR, Role.ADMIN)
