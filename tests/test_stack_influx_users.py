"""The InfluxDB users of the production stack (deploy/influxdb/init/10-wastewatch-users.sh), made on the
real InfluxDB 1.x with authentication on, then used the way each service uses them: through the
environment docker-compose.yml gives it (tests/test_stack_secrets.py interpolates it), the service's
own settings and its own store. Writers cannot read or drop; readers cannot write; no one but the
admin can manage users or databases.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.servers import InfluxServer, _stop_process
from tests.test_stack_secrets import COMPOSE, dotenv, real_secrets, service_environment
from wastewatch.points import Point, StoreRejected
from wastewatch.settings import InfluxSettings, Settings
from wastewatch.store import open_store
from wastewatch.store.influx import InfluxStore

ROOT = Path(__file__).resolve().parents[1]
INIT = ROOT / "deploy" / "influxdb" / "init" / "10-wastewatch-users.sh"
DATABASE = "wastewatch"
ADMIN, ADMIN_PASSWORD = "admin", "admin-" + os.urandom(8).hex()
WRITERS = ("ingest", "alerts")
READERS = ("reports", "api")
# the influxd settings of the influxdb service (the rest of its INFLUXDB_* are the image's init's)
SERVER_SETTINGS = {"INFLUXDB_HTTP_AUTH_ENABLED", "INFLUXDB_REPORTING_DISABLED", "INFLUXDB_CONTINUOUS_QUERIES_ENABLED"}


@dataclass
class AuthInfluxServer(InfluxServer):
    """`InfluxServer` configured by the influxdb service's INFLUXDB_* settings in docker-compose.yml (influxd
    reads them from its environment, as in the image: authentication on, continuous queries off),
    bootstrapped as the image does: an admin, the database."""

    log: list[str] = field(default_factory=list)

    def start(self, timeout_s: float = 30.0) -> AuthInfluxServer:
        conf = self.directory / "influxdb.conf"
        conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.directory}/meta"\n'
            f'[data]\n  dir = "{self.directory}/data"\n  wal-dir = "{self.directory}/wal"\n  query-log-enabled = false\n'
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
        )
        shipped = {k: v for k, v in COMPOSE["services"]["influxdb"]["environment"].items() if k in SERVER_SETTINGS}
        with open(self.directory / "influxd.log", "ab") as log:
            self.proc = subprocess.Popen(
                [shutil.which("influxd") or "/usr/bin/influxd", "run", "-config", str(conf)],
                stdout=log, stderr=log, start_new_session=True, env={"PATH": os.environ["PATH"], **shipped},
            )
        with httpx.Client(base_url=self.url, timeout=2) as client:
            import time

            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    if client.get("/ping").status_code == 204:
                        break
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"influxd did not start; see {self.directory}/influxd.log")
                time.sleep(0.05)
            # with no user yet, InfluxDB takes only this statement
            client.post("/query", data={"q": f"CREATE USER {ADMIN} WITH PASSWORD '{ADMIN_PASSWORD}' WITH ALL PRIVILEGES"}).raise_for_status()
            admin_query(self, f"CREATE DATABASE {DATABASE}")
        return self


def admin_query(server: InfluxServer, q: str) -> dict:
    response = httpx.post(f"{server.url}/query", data={"q": q}, auth=(ADMIN, ADMIN_PASSWORD), timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def influx() -> Iterator[AuthInfluxServer]:
    server = AuthInfluxServer().start()
    yield server
    _stop_process(server.proc)
    shutil.rmtree(server.directory, ignore_errors=True)


def influxdb_environment(env: dict[str, str], server: InfluxServer) -> dict[str, str]:
    """The influxdb container's environment from docker-compose.yml, pointed at the test server."""
    environment = service_environment("influxdb", env)
    environment.update(PATH=os.environ["PATH"], INFLUXDB_INIT_PORT=str(server.port), INFLUXDB_ADMIN_USER=ADMIN,
                       INFLUXDB_ADMIN_PASSWORD=ADMIN_PASSWORD)
    return environment


def run_init(env: dict[str, str], server: InfluxServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(INIT)], env=influxdb_environment(env, server), capture_output=True, text=True)


def service_store(name: str, env: dict[str, str], server: InfluxServer) -> InfluxStore:
    """The service's store, opened from the settings its compose environment gives it."""
    environment = {k: v for k, v in service_environment(name, env).items() if k.startswith("WASTEWATCH_INFLUX_")}
    fields = {k.removeprefix("WASTEWATCH_INFLUX_").lower(): v for k, v in environment.items()}
    fields["url"] = server.url
    store = open_store(Settings(influx=InfluxSettings(**fields)))  # type: ignore[arg-type]
    assert isinstance(store, InfluxStore) and store.database == DATABASE
    return store


def grafana_query(env: dict[str, str], server: InfluxServer, q: str) -> httpx.Response:
    """What Grafana's datasource sends: InfluxQL with WASTEWATCH_GRAFANA_INFLUX_USER and _PASSWORD (its
    `user` and `secureJsonData.password`, sent as the InfluxDB 1.x login)."""
    environment = service_environment("grafana", env)
    user, password = environment["WASTEWATCH_GRAFANA_INFLUX_USER"], environment["WASTEWATCH_GRAFANA_INFLUX_PASSWORD"]
    return httpx.post(f"{server.url}/query", data={"db": environment["WASTEWATCH_GRAFANA_INFLUX_DATABASE"], "q": q},
                      auth=(user, password), timeout=10)


def point(value: float) -> Point:
    return Point("reading", {"plant": "kotim", "sensor": "o2"}, {"value": value}, 1_700_000_000_000)


@pytest.fixture(scope="module")
def env(influx: AuthInfluxServer) -> dict[str, str]:
    values = dotenv(**real_secrets())
    values["INFLUXDB_API_PASSWORD"] = "it's a \\ hard 'one'"  # quoting survives the InfluxQL string literal
    result = run_init(values, influx)
    assert result.returncode == 0, result.stderr
    # the compliance user wrote one point every reader can see
    with closing(service_store("compliance", values, influx)) as store:
        store.write([point(9.0)])
    return values


def test_the_init_makes_one_user_per_service_with_its_privilege(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    users = {row[0]: row[1] for row in admin_query(influx, "SHOW USERS")["results"][0]["series"][0]["values"]}
    assert users == {ADMIN: True, **{f"wastewatch-{s}": False for s in ("ingest", "alerts", "compliance", "reports", "api", "grafana")}}
    for service, privilege in (("ingest", "WRITE"), ("alerts", "WRITE"), ("compliance", "ALL PRIVILEGES"),
                               ("reports", "READ"), ("api", "READ"), ("grafana", "READ")):
        grants = admin_query(influx, f'SHOW GRANTS FOR "wastewatch-{service}"')["results"][0]["series"][0]["values"]
        assert grants == [[DATABASE, privilege]], service


@pytest.mark.parametrize("name", WRITERS)
def test_writers_write_but_cannot_read_or_drop(name: str, influx: AuthInfluxServer, env: dict[str, str]) -> None:
    with closing(service_store(name, env, influx)) as store:
        store.write([point(1.0)])
        with pytest.raises(StoreRejected, match="not authorized"):
            store.select("reading")
        # (InfluxDB 1.x lets WRITE also run DELETE, DROP SERIES and DROP RETENTION POLICY on its database:
        # no grant takes that away, the write-only gateway does: tests/test_stack_influx_gateway.py)
        for statement in ('DROP MEASUREMENT "reading"', f'DROP DATABASE "{DATABASE}"', "SHOW MEASUREMENTS",
                          f"CREATE RETENTION POLICY short ON {DATABASE} DURATION 1h REPLICATION 1",
                          "SHOW USERS", "CREATE USER intruder WITH PASSWORD 'x' WITH ALL PRIVILEGES"):
            with pytest.raises(StoreRejected, match="not authorized"):
                store.query(statement, method="POST")
    assert admin_query(influx, f"SHOW MEASUREMENTS ON {DATABASE}")["results"][0]["series"][0]["values"] == [["reading"]]


@pytest.mark.parametrize("name", READERS)
def test_readers_read_but_cannot_write_or_drop(name: str, influx: AuthInfluxServer, env: dict[str, str]) -> None:
    with closing(service_store(name, env, influx)) as store:
        assert [p.tags for p in store.select("reading")] == [{"plant": "kotim", "sensor": "o2"}]
        with pytest.raises(StoreRejected, match="not authorized"):
            store.write([point(2.0)])
        for statement in ('DROP MEASUREMENT "reading"', f'DROP DATABASE "{DATABASE}"', 'DROP SERIES FROM "reading"',
                          'DELETE FROM "reading"', f"DROP RETENTION POLICY autogen ON {DATABASE}"):
            with pytest.raises(StoreRejected, match="not authorized"):
                store.query(statement, method="POST")


def test_compliance_reads_and_writes_but_cannot_drop_or_manage_users(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    with closing(service_store("compliance", env, influx)) as store:
        store.write([point(3.0)])
        assert store.select("reading")
        for statement in (f'DROP DATABASE "{DATABASE}"', 'DROP MEASUREMENT "reading"', "CREATE DATABASE other", "SHOW USERS",
                          "CREATE USER intruder WITH PASSWORD 'x' WITH ALL PRIVILEGES"):
            with pytest.raises(StoreRejected, match="not authorized"):
                store.query(statement, method="POST")


def test_grafana_reads_with_its_own_user_and_never_the_admin(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    environment = service_environment("grafana", env)
    user, password = environment["WASTEWATCH_GRAFANA_INFLUX_USER"], environment["WASTEWATCH_GRAFANA_INFLUX_PASSWORD"]
    assert user == "wastewatch-grafana" and password != ADMIN_PASSWORD
    assert "INFLUXDB_ADMIN_PASSWORD" not in str(COMPOSE["services"]["grafana"])
    read = grafana_query(env, influx, 'SELECT * FROM "reading"')
    assert read.status_code == 200 and "error" not in read.json()["results"][0]
    assert grafana_query(env, influx, f'DROP DATABASE "{DATABASE}"').status_code == 403
    refused = httpx.post(f"{influx.url}/write", params={"db": DATABASE}, content=b"reading value=1", auth=(user, password))
    assert refused.status_code == 403


def test_a_wrong_password_is_refused(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    with closing(service_store("ingest", {**env, "INFLUXDB_INGEST_PASSWORD": "not-the-password"}, influx)) as store:
        with pytest.raises(StoreRejected, match="401|authorization failed"):
            store.write([point(1.0)])


def test_running_the_init_again_applies_new_passwords_and_keeps_the_grants(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    rotated = {**env, "INFLUXDB_REPORTS_PASSWORD": os.urandom(16).hex()}
    result = run_init(rotated, influx)
    assert result.returncode == 0, result.stderr
    with closing(service_store("reports", rotated, influx)) as store:
        assert store.select("reading")
    with closing(service_store("reports", env, influx)) as stale, pytest.raises(StoreRejected):
        stale.select("reading")
    grants = admin_query(influx, 'SHOW GRANTS FOR "wastewatch-reports"')["results"][0]["series"][0]["values"]
    assert grants == [[DATABASE, "READ"]]
    run_init(env, influx)  # back, for the other tests


def test_the_image_sources_the_init_and_goes_on(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    # the influxdb image runs `. file` in its own bash (set -e): the script must neither exit it nor change its options
    script = f'set -e\nINFLUXDB_INIT_PORT={influx.port}\n. "{INIT}"\ncase $- in *u*) echo "set -u leaked";; esac\necho "init went on"\n'
    result = subprocess.run(["bash", "-c", script], env=influxdb_environment(env, influx), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "init went on"


def test_the_init_stops_on_an_empty_password(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    environment = influxdb_environment(env, influx)
    environment["INFLUXDB_GRAFANA_PASSWORD"] = ""
    result = subprocess.run(["sh", str(INIT)], env=environment, capture_output=True, text=True)
    assert result.returncode != 0 and "INFLUXDB_GRAFANA_PASSWORD" in result.stderr


def test_authentication_is_on_and_continuous_queries_are_off(influx: AuthInfluxServer, env: dict[str, str]) -> None:
    assert httpx.post(f"{influx.url}/query", data={"q": "SHOW DATABASES"}).status_code == 401
    # a reader may create a continuous query (InfluxDB 1.x allows it) that would write: the service that
    # would run it is off (it reports no statistics when it is not running)
    with closing(service_store("api", env, influx)) as store:
        store.query(f"CREATE CONTINUOUS QUERY copy ON {DATABASE} BEGIN SELECT max(value) INTO copied FROM reading GROUP BY time(1m) END",
                    method="POST")
    assert "series" not in admin_query(influx, "SHOW STATS FOR 'cq'")["results"][0]
    admin_query(influx, f"DROP CONTINUOUS QUERY copy ON {DATABASE}")
