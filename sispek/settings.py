"""The SISPEK uploader's settings (`WASTEWATCH_SISPEK_*`), unofficial until confirmed with KLHK; the
store and the relational database are shared (`wastewatch.settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import Section

UNOFFICIAL = "unofficial until confirmed with KLHK"


class SispekSettings(Section):
    """`wastewatch sispek run`: the SISPEK upload (unofficial until confirmed with KLHK)."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_SISPEK_")

    enabled: bool = Field(default=False, description=f"upload 5-minute stack values to SISPEK ({UNOFFICIAL})")
    base_url: str | None = Field(
        default=None, description=f"the SISPEK server, e.g. https://host (the /api/v2/… paths are assumed; {UNOFFICIAL})"
    )
    app_id: str | None = Field(default=None, description=f"the application id KLHK issues for the token call ({UNOFFICIAL})")
    app_secret: SecretStr | None = Field(default=None, description=f"the application secret for the token call ({UNOFFICIAL})")
    stacks_file: Path | None = Field(
        default=None,
        description="stacks mapping YAML (plant sensors → SISPEK stack and parameter names); "
        "unset: the bundled Kotim example (sispek/stacks/kotim.yaml, its names unconfirmed)",
    )
    interval_s: int = Field(
        default=3600, ge=300, le=86_400, description=f"how often closed periods are queued and sent (SISPEK: every hour; {UNOFFICIAL})"
    )
    settle_s: int = Field(default=120, ge=0, le=3600, description="wait after a period closes for its last readings to be written")
    retry_window_h: int = Field(
        default=24, ge=1, le=24 * 14,
        description="an unsent 5-minute record is retried this long after its slot, then marked failed and reported",
    )
    retry_base_s: float = Field(default=30.0, gt=0, description="first retry delay; doubled per failed attempt")
    retry_max_s: float = Field(default=1800.0, gt=0, description="longest retry delay (the back-off's cap)")
    timeout_s: float = Field(default=30.0, gt=0, description="HTTP timeout per SISPEK request")
    batch_max: int = Field(default=12, ge=1, le=2016, description="most 5-minute records of one stack per request (12: an hour)")
    lease_s: int = Field(
        default=60, ge=1, le=3600,
        description="one uploader per database: a stopped or killed one's lease lapses after this long, then another takes over",
    )
    send_sentinels: bool = Field(
        default=False,
        description="WARNING: distorts averages. Send 1 for a slot whose analyser was only in calibration and 0 for one only "
        "broken, instead of leaving it out; only if the server requires it (off: such a slot is missing; "
        f"the codes are {UNOFFICIAL})",
    )

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> SispekSettings:
        if self.enabled and not (self.base_url and self.app_id and self.app_secret):
            raise ValueError(
                "WASTEWATCH_SISPEK_ENABLED needs WASTEWATCH_SISPEK_BASE_URL, WASTEWATCH_SISPEK_APP_ID and WASTEWATCH_SISPEK_APP_SECRET"
            )
        if self.interval_s % 300 or 86_400 % self.interval_s:
            raise ValueError("WASTEWATCH_SISPEK_INTERVAL_S must be a multiple of 300 s that divides a day (3600: hourly)")
        return self
