"""Local Mosquitto and InfluxDB servers as child processes, for the tests and the benchmarks (not shipped).

Each runs on a free loopback port with its own temporary data directory and is stopped by PID.
Mosquitto started as root drops to the `mosquitto` user, so its files are made readable to it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from wastewatch.runtime import free_port

# The broker settings the project recommends (README "Broker settings that matter"): the same file
# is mounted into Mosquitto by docker-compose.yml, and used by the tests and benchmarks.
MOSQUITTO_TUNING = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "tuning" / "mosquitto-tuning.conf"



def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def _stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass
class MosquittoServer:
    """A Mosquitto broker; `extra_config` is appended to the listener and tuning lines."""

    extra_config: str = ""
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ww-mosquitto-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> MosquittoServer:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.directory.chmod(0o777)
        conf = self.directory / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"persistence_location {self.directory}/\n"
            "log_dest stderr\nlog_type error\nlog_type warning\n"
            f"{MOSQUITTO_TUNING.read_text()}{self.extra_config or 'allow_anonymous true'}\n"
        )
        conf.chmod(0o644)
        with open(self.directory / "mosquitto.log", "ab") as log:
            self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log, start_new_session=True)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        _stop_process(self.proc)

    def kill(self) -> None:
        _stop_process(self.proc, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class InfluxServer:
    """An InfluxDB 1.x server (`influxd run -config …`) with its meta, data and WAL in one temp dir."""

    port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ww-influxdb-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> InfluxServer:
        binary = shutil.which("influxd") or "/usr/bin/influxd"
        conf = self.directory / "influxdb.conf"
        conf.write_text(
            'reporting-disabled = true\n'
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.directory}/meta"\n'
            f'[data]\n  dir = "{self.directory}/data"\n  wal-dir = "{self.directory}/wal"\n'
            '  query-log-enabled = false\n  cache-snapshot-write-cold-duration = "10s"\n'
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            '  max-body-size = 0\n'
            '[monitor]\n  store-enabled = false\n'
            '[continuous_queries]\n  enabled = false\n'
        )
        with open(self.directory / "influxd.log", "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "run", "-config", str(conf)], stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ping", timeout=0.5).status_code == 204:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"influxd exited with {self.proc.returncode}; see {self.directory}/influxd.log")
            time.sleep(0.05)
        raise TimeoutError(f"InfluxDB did not answer /ping within {timeout_s} s")

    def stop(self) -> None:
        _stop_process(self.proc)

    def kill(self) -> None:
        _stop_process(self.proc, signal.SIGKILL)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
