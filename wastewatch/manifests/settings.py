"""The manifests' settings (`WASTEWATCH_MANIFESTS_*`): the reconciliation tolerance and grace period,
extra header names, the watched folder's poll."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import Section


class ManifestSettings(Section):
    """`wastewatch manifests` and the API's manifest upload and statement."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_MANIFESTS_")

    tolerance: float = Field(
        default=0.05, gt=0, lt=1,
        description="share |received - declared| / declared above which a manifest is a discrepancy "
                    "(domain.md §7 reconciliation rule, [A])",
    )
    grace_days: float = Field(
        default=2.0, ge=0, le=60,
        description="days after a manifest's received (else shipped) day before it is judged: never received, "
                    "or its quantity; and before weighed batches without a manifest are reported ([A])",
    )
    match_window_days: int = Field(
        default=14, ge=1, le=92,
        description="days either side of a month read for batches carrying its manifests (a delivery fed later)",
    )
    headers: dict[str, list[str]] = Field(
        default_factory=dict,
        description='extra header names per column, JSON: {"declared_kg": ["Berat Bersih"], "generator": ["RS"]}',
    )
    poll_s: float = Field(default=10.0, gt=0, le=3600, description="how often `manifests watch` looks into its folder")
    reconcile_every_s: float = Field(
        default=3600.0, ge=60, le=86_400,
        description="`manifests watch --reconcile`: how often the previous and current month are judged without a new file",
    )
