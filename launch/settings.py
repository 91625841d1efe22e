"""Every settings class of every command, in one list: what the deployment checks load together (a
service container's environment must satisfy all of them) and what documents every variable."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from alerts.settings import AlertSettings
from api.settings import ApiSettings, ReportSettings
from compliance.settings import ComplianceSettings
from edge.settings import EdgeSettings
from ingest.settings import IngestSettings
from sispek.settings import SispekSettings
from wastewatch.manifests.settings import ManifestSettings
from wastewatch.settings import Settings, load, variables

EVERY_SETTINGS: tuple[type[BaseSettings], ...] = (Settings, IngestSettings, AlertSettings, ComplianceSettings, ApiSettings, ReportSettings, EdgeSettings, SispekSettings,
                                                 ManifestSettings)


def load_every_settings() -> list[BaseSettings]:
    """Every settings class read from the environment; the first bad variable raises `SettingsError`."""
    return [load(cls) for cls in EVERY_SETTINGS]


def known_variables() -> set[str]:
    """Every `WASTEWATCH_*` variable some settings class reads."""
    return {name for cls in EVERY_SETTINGS for name in variables(cls)}
