"""The HTTPS proxy of the stack (deploy/proxy/wastewatch.conf) on the real nginx, with certificates made
by deploy/gen-certs.sh, in front of two local HTTP servers standing in for Grafana and the API. The
container's paths and names (/etc/nginx/certs, grafana:3000, api:8000) and its three ports become a
temporary directory, the local servers and free loopback ports; nothing else of the file is changed.
Debian's nginx (apt-get install nginx) runs it; the stack's image is nginx:1.27 (the file uses nothing
newer than 1.22).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.servers import _stop_process, free_port, wait_for_port
from tests.test_stack_secrets import COMPOSE

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "deploy" / "proxy" / "wastewatch.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx)")


class Upstream:
    """A local HTTP server that answers with its name and records what it was sent."""

    def __init__(self, name: str) -> None:
        self.name, self.requests = name, []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
                body = json.dumps({"upstream": upstream.name, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Proxy:
    directory: Path
    grafana: Upstream
    api: Upstream
    http_port: int = field(default_factory=free_port)
    grafana_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        return self.directory / "certs" / "ca.crt"

    def conf(self) -> str:
        text = SHIPPED.read_text()
        for old, new in (
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{self.grafana_port} ssl;"),
            ("listen 8443 ssl;", f"listen 127.0.0.1:{self.api_port} ssl;"),
            ("set $wastewatch_grafana http://grafana:3000;", f"set $wastewatch_grafana http://127.0.0.1:{self.grafana.port};"),
            ("set $wastewatch_api http://api:8000;", f"set $wastewatch_api http://127.0.0.1:{self.api.port};"),
        ):
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        assert text.count("/etc/nginx/certs/") == 2
        return text.replace("/etc/nginx/certs/", f"{self.directory}/certs/")

    def start(self) -> Proxy:
        d = self.directory
        subprocess.run(["sh", str(ROOT / "deploy" / "gen-certs.sh"), "localhost"], check=True, capture_output=True,
                       env={**os.environ, "WASTEWATCH_CERTS_DIR": str(d / "certs"), "WASTEWATCH_CA_DIR": str(d / "ca")})
        (d / "wastewatch.conf").write_text(self.conf())
        temp = d / "temp"
        temp.mkdir()
        temp.chmod(0o777)  # nginx's workers (nobody when started as root) buffer there
        (d / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 64; }\n"
            "http {\n  access_log off;\n"
            + "".join(f"  {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"  include {d}/wastewatch.conf;\n}}\n"
        )
        check = subprocess.run([NGINX, "-t", "-p", str(d), "-c", str(d / "nginx.conf")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        with open(d / "nginx.out", "ab") as out:
            self.proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")], stdout=out, stderr=out, start_new_session=True)
        for port in (self.http_port, self.grafana_port, self.api_port):
            wait_for_port(port)
        return self

    def https(self, port: int) -> httpx.Client:
        """A client that trusts only gen-certs.sh's CA and checks the name (localhost)."""
        return httpx.Client(base_url=f"https://localhost:{port}", verify=ssl.create_default_context(cafile=str(self.ca_file)), timeout=10)

    def stop(self) -> None:
        _stop_process(self.proc)


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    grafana, api = Upstream("grafana"), Upstream("api")
    directory = Path(tempfile.mkdtemp(prefix="ww-proxy-"))
    proxy = Proxy(directory, grafana, api)
    try:
        yield proxy.start()
    finally:
        proxy.stop()
        grafana.stop()
        api.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_grafana_is_served_over_https_with_the_real_client_address(proxy: Proxy) -> None:
    with proxy.https(proxy.grafana_port) as client:
        response = client.get("/d/operations?orgId=1", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200 and response.json() == {"upstream": "grafana", "path": "/d/operations?orgId=1"}
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "nginx/" not in response.headers.get("server", "")  # server_tokens off
    sent = proxy.grafana.requests[-1]["headers"]
    assert sent["x-forwarded-proto"] == "https"
    assert sent["x-forwarded-for"] == "127.0.0.1"  # what the proxy saw, not what the client claimed
    assert sent["host"] == "localhost"


def test_grafana_live_websockets_are_passed_on(proxy: Proxy) -> None:
    with proxy.https(proxy.grafana_port) as client:
        client.get("/api/live/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    sent = proxy.grafana.requests[-1]["headers"]
    assert sent["upgrade"] == "websocket" and sent["connection"] == "upgrade"


def test_the_api_is_served_over_https_with_its_key_and_the_real_client_address(proxy: Proxy) -> None:
    with proxy.https(proxy.api_port) as client:
        response = client.get("/plants/kotim/readings?limit=1", headers={"Authorization": "Bearer k-123", "X-Forwarded-For": "10.0.0.1"})
    assert response.status_code == 200 and response.json()["upstream"] == "api"
    sent = proxy.api.requests[-1]["headers"]
    assert sent["authorization"] == "Bearer k-123"
    assert sent["x-forwarded-for"] == "127.0.0.1" and sent["x-forwarded-proto"] == "https"


def test_plain_http_on_port_80_only_redirects_to_https(proxy: Proxy) -> None:
    seen = len(proxy.grafana.requests)
    response = httpx.get(f"http://127.0.0.1:{proxy.http_port}/login?next=%2Fd", headers={"Host": "wastewatch.example"})
    assert response.status_code == 301
    assert response.headers["location"] == "https://wastewatch.example/login?next=%2Fd"
    assert len(proxy.grafana.requests) == seen


def test_plain_http_to_the_https_ports_never_reaches_an_upstream(proxy: Proxy) -> None:
    seen = (len(proxy.grafana.requests), len(proxy.api.requests))
    # the API refuses (a client sending its key in clear text must fail, not be redirected) …
    api = httpx.get(f"http://127.0.0.1:{proxy.api_port}/plants", headers={"Authorization": "Bearer k-123"})
    assert api.status_code == 400
    # … Grafana's port sends a browser to the HTTPS address
    grafana = httpx.get(f"http://127.0.0.1:{proxy.grafana_port}/", headers={"Host": "wastewatch.example"})
    assert grafana.status_code == 301 and grafana.headers["location"] == "https://wastewatch.example/"
    assert (len(proxy.grafana.requests), len(proxy.api.requests)) == seen


def test_a_client_checks_the_certificate(proxy: Proxy, tmp_path: Path) -> None:
    subprocess.run(["sh", str(ROOT / "deploy" / "gen-certs.sh"), "localhost"], check=True, capture_output=True,
                   env={**os.environ, "WASTEWATCH_CERTS_DIR": str(tmp_path / "certs"), "WASTEWATCH_CA_DIR": str(tmp_path / "ca")})
    other = ssl.create_default_context(cafile=str(tmp_path / "certs" / "ca.crt"))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://localhost:{proxy.api_port}/", verify=other)
    # and the name: the certificate is for localhost and 127.0.0.1 only
    context = ssl.create_default_context(cafile=str(proxy.ca_file))
    with socket.create_connection(("127.0.0.1", proxy.api_port)) as raw, pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        context.wrap_socket(raw, server_hostname="wastewatch.example")


def test_the_compose_proxy_runs_this_file_with_the_certificates() -> None:
    proxy = COMPOSE["services"]["proxy"]
    assert "./deploy/proxy/wastewatch.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert "./deploy/certs:/etc/nginx/certs:ro" in proxy["volumes"]
    assert proxy["image"].startswith("nginx:")
    # it looks Grafana and the API up per request (Docker's DNS): it starts, and serves the other, without either
    assert "depends_on" not in proxy
    assert "resolver 127.0.0.11 " in SHIPPED.read_text()
    for upstream in ("grafana", "api"):
        assert "ports" not in COMPOSE["services"][upstream]
