"""Time-series store backends behind the one interface in `wastewatch.points`: InfluxDB over its 1.x
HTTP API, and embedded SQLite. `open_store` picks the one the settings name."""

from __future__ import annotations

from wastewatch.points import Store
from wastewatch.settings import Settings
from wastewatch.store.influx import InfluxStore
from wastewatch.store.sqlite import SqliteStore


def open_store(settings: Settings) -> Store:
    """The store the settings name: InfluxDB when `WASTEWATCH_INFLUX_URL` is set, else embedded SQLite."""
    if settings.influx.url:
        return InfluxStore(
            settings.influx.url,
            settings.influx.database,
            token=settings.influx.token.get_secret_value() if settings.influx.token else None,
            username=settings.influx.username,
            password=settings.influx.password.get_secret_value() if settings.influx.password else None,
            timeout_s=settings.influx.timeout_s,
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStore(settings.data_dir / "timeseries.sqlite3")
