"""A local PostgreSQL server as a child process (tests, benchmarks), like `tests.servers`.

Debian's server binaries (`/usr/lib/postgresql/<version>/bin`) run as the `postgres` OS user when
we are root (PostgreSQL refuses to run as root), in a temporary data directory owned by it, on a
free loopback port with its unix socket in that directory; trust authentication, no fsync (a test
server: durability is the production server's job). Stopped by PID.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from wastewatch.runtime import free_port

SERVER_USER = "postgres"


def server_bin_dir() -> Path:
    """The newest installed `/usr/lib/postgresql/<version>/bin` that has `postgres`."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).parent
    raise FileNotFoundError("no PostgreSQL server binaries: apt-get install postgresql")


def _as_server_user() -> list[str]:
    """The command prefix that runs the server binaries as `postgres` when we are root."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={SERVER_USER}", f"--regid={SERVER_USER}", "--init-groups", "--"]


@dataclass
class PostgresServer:
    """A PostgreSQL cluster: `initdb` into a temp dir, then `postgres -D … -p <port>`."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ww-postgres-")))
    proc: subprocess.Popen[bytes] | None = None
    user: str = SERVER_USER

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout_s: float = 60.0) -> PostgresServer:
        bin_dir, data = server_bin_dir(), self.directory / "data"
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        if not data.exists():
            subprocess.run(
                [*_as_server_user(), str(bin_dir / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                check=True, capture_output=True,
            )
        with open(self.directory / "postgres.log", "ab") as log:
            self.proc = subprocess.Popen(
                [*_as_server_user(), str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-h", "127.0.0.1", "-k", str(self.directory), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdout=log, stderr=log, start_new_session=True,
            )
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"postgres exited with {self.proc.returncode}; see {self.directory}/postgres.log") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"PostgreSQL did not accept connections within {timeout_s} s") from None
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast shutdown": disconnect clients, checkpoint, exit
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
