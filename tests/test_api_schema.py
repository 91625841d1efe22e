"""Schemathesis against the app's own OpenAPI schema, with an admin key: no 5xx, answers as documented.

Bounded (a few examples per operation) so it runs in seconds; the served app is a real uvicorn.
Two checks are left out, each for a reason: `positive_data_acceptance`, because a range can match
its parameter's schema and still be wrong (end before start, month 13), which must be a 422 with a
message; `allow_header_conformance`, because Starlette's 405 names only the methods of the one route
it matched, not every method of the path (a framework limit, not an API behaviour we rely on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from api.roles import Role
from tests.api_support import Api, run_api, seed_plant_day
from tests.test_alert_lifecycle import T0, raised
from wastewatch.plant import PlantCatalog
from wastewatch.store.sqlite import SqliteStore


@pytest.fixture(scope="module")
def served(catalog: PlantCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp: Path = tmp_path_factory.mktemp("api-schema")
    store = SqliteStore(tmp / "ts.sqlite3")
    seed_plant_day(store)
    for api in run_api(store, catalog, tmp, auth_failures_burst=100_000):
        with api.ctx.alert_db.transaction():
            Lifecycle(api.ctx.alert_db, parse_routes("operators=log", ["regulatory"], ["log"]), [], catalog).apply(raised(T0))
        yield api
    store.close()


@pytest.fixture(scope="module")
def api_schema(served: Api) -> Any:
    return schemathesis.openapi.from_dict(served.app.openapi())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_schema(case: Any, served: Api) -> None:
    case.call_and_validate(
        base_url=str(served.client.base_url), headers=served.auth(Role.ADMIN),
        excluded_checks=[schemathesis.checks.positive_data_acceptance, schemathesis.checks.allow_header_conformance],
    )
