"""The write-only InfluxDB gateway (deploy/proxy/influx-write.conf) on the real nginx, in front of the real
InfluxDB with authentication and the shipped users (tests/test_stack_influx_users.py). The ingest and
the alert worker reach InfluxDB only through it (docker-compose.yml puts them on no network InfluxDB
is on): with their own WRITE users they can write, and nothing else, not even what InfluxDB 1.x's WRITE
privilege allows on /query (DELETE, DROP SERIES, DROP RETENTION POLICY).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.servers import _stop_process, free_port, wait_for_port
from tests.test_stack_influx_users import DATABASE, AuthInfluxServer, admin_query, point, run_init, service_store
from tests.test_stack_secrets import COMPOSE, dotenv, real_secrets
from wastewatch.points import StoreRejected
from wastewatch.store.influx import InfluxStore

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = ROOT / "deploy" / "proxy" / "influx-write.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx)")
WRITERS = ("ingest", "alerts")


class Gateway:
    def __init__(self, directory: Path, influx_port: int) -> None:
        self.directory, self.port, self.influx_port = directory, free_port(), influx_port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gateway:
        d = self.directory
        text = GATEWAY.read_text()
        assert text.count("listen 8086;") == 1 and text.count("http://influxdb:8086;") == 2
        text = text.replace("listen 8086;", f"listen 127.0.0.1:{self.port};")
        (d / "influx-write.conf").write_text(text.replace("http://influxdb:8086;", f"http://127.0.0.1:{self.influx_port};"))
        temp = d / "temp"
        temp.mkdir()
        temp.chmod(0o777)
        (d / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 64; }\nhttp {\n  access_log off;\n"
            + "".join(f"  {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"  include {d}/influx-write.conf;\n}}\n"
        )
        with open(d / "nginx.out", "ab") as out:
            self.proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")], stdout=out, stderr=out, start_new_session=True)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        _stop_process(self.proc)


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[AuthInfluxServer, Gateway, dict[str, str]]]:
    influx = AuthInfluxServer().start()
    directory = Path(tempfile.mkdtemp(prefix="ww-gateway-"))
    gateway = Gateway(directory, influx.port)
    try:
        env = dotenv(**real_secrets())
        assert run_init(env, influx).returncode == 0
        gateway.start()
        yield influx, gateway, env
    finally:
        gateway.stop()
        _stop_process(influx.proc)
        shutil.rmtree(influx.directory, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)


def writer_store(name: str, env: dict[str, str], gateway: Gateway) -> InfluxStore:
    """The writer's store from its compose settings, with the gateway's address for http://proxy:8086."""
    assert COMPOSE["services"][name]["environment"]["WASTEWATCH_INFLUX_URL"] == "http://proxy:8086"
    return service_store(name, env, gateway)  # type: ignore[arg-type]  # anything with .url


@pytest.mark.parametrize("name", WRITERS)
def test_writers_write_through_the_gateway_and_can_do_nothing_else(name: str, stack, caplog: pytest.LogCaptureFixture) -> None:
    influx, gateway, env = stack
    with closing(writer_store(name, env, gateway)) as store:
        assert store.ping()
        store.write([point(1.0)])
        # the service's start: CREATE DATABASE is refused, and the service goes on (a warning)
        with caplog.at_level(logging.WARNING):
            store.ensure_database()
        assert "could not create database" in caplog.text
        with pytest.raises(StoreRejected, match="403.*write-only gateway"):
            store.select("reading")
        # what InfluxDB itself would let a WRITE user do: the gateway lets none of it through
        for statement in ('DELETE FROM "reading"', 'DROP SERIES FROM "reading"', f"DROP RETENTION POLICY autogen ON {DATABASE}"):
            with pytest.raises(StoreRejected, match="403.*write-only gateway"):
                store.query(statement, method="POST")
    assert admin_query(influx, f'SELECT count(value) FROM "{DATABASE}".."reading"')["results"][0]["series"][0]["values"][0][1] == 1
    # GET /write, and other paths, are refused too
    assert httpx.get(f"{gateway.url}/write", params={"db": DATABASE}).status_code == 403
    assert httpx.post(f"{gateway.url}/api/v2/delete", params={"bucket": DATABASE}).status_code == 403


def test_the_same_users_straight_to_influxdb_could_delete(stack) -> None:
    # why the gateway and the network layout: InfluxDB 1.x's WRITE privilege includes deleting
    influx, _, env = stack
    response = httpx.post(f"{influx.url}/query", data={"db": DATABASE, "q": 'DROP SERIES FROM "nothing_here"'},
                          auth=("wastewatch-ingest", env["INFLUXDB_INGEST_PASSWORD"]))
    assert response.status_code == 200 and "error" not in response.json()["results"][0]


def test_the_gateway_still_needs_the_users_password(stack) -> None:
    _, gateway, env = stack
    with closing(writer_store("ingest", {**env, "INFLUXDB_INGEST_PASSWORD": "wrong"}, gateway)) as store:
        with pytest.raises(StoreRejected, match="401"):
            store.write([point(2.0)])


def test_writers_are_on_no_network_influxdb_is_on() -> None:
    services = COMPOSE["services"]
    influx_networks = set(services["influxdb"]["networks"])
    assert influx_networks == {"influx"} and COMPOSE["networks"]["influx"]["internal"] is True
    assert "ports" not in services["influxdb"]
    for name in WRITERS:
        assert not influx_networks & set(services[name].get("networks", ["default"])), name
    # the readers, and the gateway, are
    for name in ("grafana", "api", "compliance", "reports", "proxy"):
        assert "influx" in services[name]["networks"], name
    for name in ("api", "compliance", "reports"):
        assert services[name]["environment"]["WASTEWATCH_INFLUX_URL"] == "http://influxdb:8086", name
    assert "./deploy/proxy/influx-write.conf:/etc/nginx/conf.d/influx-write.conf:ro" in services["proxy"]["volumes"]
