"""A service's own Prometheus metrics: one registry, served on a port (prometheus_client's HTTP server on
a background thread) until closed. The ingest and the edge each fill the registry with their metrics."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server


class MetricsEndpoint:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._server: WSGIServer | None = None

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:
        """Serve /metrics on a background thread until `close()`."""
        self._server, _ = start_http_server(port, addr=addr, registry=self.registry)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
