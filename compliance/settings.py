"""The compliance jobs' settings (`WASTEWATCH_COMPLIANCE_*`); the store is shared (`wastewatch.settings`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import Section


class ComplianceSettings(Section):
    """`wastewatch compliance run`: when the half-hour and day jobs run."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_COMPLIANCE_")

    settle_s: int = Field(default=30, ge=0, le=600, description="wait after a half-hour closes for its last readings to be written")
    day_at_min: int = Field(default=15, ge=0, le=59, description="minutes after local midnight the day job recomputes yesterday")
