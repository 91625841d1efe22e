"""Real services for the tests: one Mosquitto and one InfluxDB per session, a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from ingest.settings import IngestSettings
from tests.helpers import clear_retained
from tests.postgres import PostgresServer
from tests.servers import InfluxServer, MosquittoServer
from wastewatch.plant import PlantCatalog, load_catalog
from wastewatch.points import Store
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings
from wastewatch.store.influx import InfluxStore
from wastewatch.store.sqlite import SqliteStore

_db_numbers = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `minutes` first (stable otherwise): under two workers one of them takes a long test at the
    start while the other goes through the rest, instead of one worker waiting alone on it at the end."""
    items.sort(key=lambda item: item.get_closest_marker("minutes") is None)


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MosquittoServer]:
    server = MosquittoServer().start()
    yield server
    server.cleanup()


@pytest.fixture(autouse=True)
def _retained_cleared(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test on the session's broker, the retained messages under plants/ go: the simulator's
    parting "offline", an edge's device statuses and health would otherwise reach a later test's worker,
    which would read a device as offline (an alert on a fault-free day, seen twice)."""
    yield
    if "mosquitto" in request.fixturenames:
        clear_retained(request.getfixturevalue("mosquitto").url, quiet_s=0.15)


@pytest.fixture(scope="session")
def influx() -> Iterator[InfluxServer]:
    server = InfluxServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def own_influx() -> Iterator[InfluxServer]:
    """An InfluxDB of the test's own, for tests that stop, kill or restart it."""
    server = InfluxServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def own_broker() -> Iterator[MosquittoServer]:
    """A Mosquitto of the test's own, for tests that restart it."""
    server = MosquittoServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def influx_store(influx: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influx.url, f"test_{next(_db_numbers)}")
    store.ensure_database()
    yield store
    if influx.proc is not None and influx.proc.poll() is None:
        store.drop_database()
    store.close()


@pytest.fixture(params=["influx", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each contract test runs against both backends."""
    if request.param == "influx":
        yield request.getfixturevalue("influx_store")
    else:
        sqlite = SqliteStore(tmp_path / "ts.sqlite3")
        yield sqlite
        sqlite.close()


@pytest.fixture(scope="session")
def catalog() -> PlantCatalog:
    return load_catalog(None)


class SettingsFor(Protocol):
    """`settings_for(store=None, **overrides)`: the shared settings on the session broker, the test's
    data dir and (given a store) its InfluxDB database; overrides are `Settings` fields."""

    def __call__(self, store: InfluxStore | None = None, **overrides: object) -> Settings: ...


class IngestFor(Protocol):
    """`ingest_for(**overrides)`: the ingest worker's settings with a client id of the test's own."""

    def __call__(self, **overrides: object) -> IngestSettings: ...


@pytest.fixture
def settings_for(tmp_path: Path, mosquitto: MosquittoServer) -> SettingsFor:
    def make(store: InfluxStore | None = None, **overrides: object) -> Settings:
        values: dict[str, object] = {"mqtt": BrokerSettings(url=mosquitto.url), "data_dir": tmp_path / "data"}
        if store is not None:
            values["influx"] = InfluxSettings(url=store.url, database=store.database)
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def ingest_for(tmp_path: Path) -> IngestFor:
    def make(**overrides: object) -> IngestSettings:
        return IngestSettings(**{"client_id": f"ingest-{tmp_path.name}", **overrides})  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.cleanup()
