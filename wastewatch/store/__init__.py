"""Time-series store: one small interface, two backends (InfluxDB over its 1.x HTTP API; SQLite).

Exceptions:
    StoreError
    ├── StoreUnavailable   the store could not be reached or answered 5xx: retry later
    └── StoreRejected      the store refused the data or the query (4xx): never retry as it is
"""

from __future__ import annotations

from wastewatch.store.base import AggregateRow, Point, Store, StoreError, StoreRejected, StoreUnavailable

__all__ = ["AggregateRow", "Point", "Store", "StoreError", "StoreRejected", "StoreUnavailable", "open_store"]


def open_store(settings: "Settings") -> Store:
    """The store the settings name: InfluxDB when `WASTEWATCH_INFLUX_URL` is set, else embedded SQLite."""
    if settings.influx_url:
        from wastewatch.store.influx import InfluxStore

        return InfluxStore(
            settings.influx_url,
            settings.influx_database,
            token=settings.influx_token.get_secret_value() if settings.influx_token else None,
            username=settings.influx_username,
            password=settings.influx_password.get_secret_value() if settings.influx_password else None,
            timeout_s=settings.influx_timeout_s,
        )
    from wastewatch.store.sqlite import SqliteStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStore(settings.data_dir / "timeseries.sqlite3")


from wastewatch.settings import Settings  # noqa: E402  (for the annotation above)
