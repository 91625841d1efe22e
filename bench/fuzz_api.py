"""Fuzz the HTTP API for a while with Schemathesis, from its own OpenAPI schema, as an admin.

Starts `wastewatch api` as a process on a free port over a scratch data directory (the SQLite
store, the alert database), seeded with a day of simulated plant history so the summaries have
data, issues an admin key, and runs `schemathesis run` with every check but the two that
`tests/test_api_schema.py` leaves out for stated reasons, for `--minutes`.

    python -m bench.fuzz_api [--minutes 60] [--workers 2]

Exit status: Schemathesis's (0 when it found nothing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.schema import open_database
from api.keys import KeyStore
from api.roles import Role
from launch.history import backfill_history
from tests.servers import free_port
from wastewatch.plant import load_catalog
from wastewatch.points import open_store
from wastewatch.settings import Settings

EXCLUDED = "positive_data_acceptance,allow_header_conformance"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="wastewatch-fuzz-api-"))
    port = free_port()
    env = {
        **os.environ, "WASTEWATCH_DATA_DIR": str(data_dir), "WASTEWATCH_API_PORT": str(port), "WASTEWATCH_LOG_LEVEL": "WARNING",
        # Schemathesis sends thousands of requests without a key: the failed-authentication limit
        # (tested in tests/test_api_auth.py) would answer them 429 instead of 401.
        "WASTEWATCH_API_AUTH_FAILURES_BURST": "100000000",
    }
    env = {k: v for k, v in env.items() if not (k.startswith("WASTEWATCH_") and k.endswith(("_URL",)))}
    settings = Settings(data_dir=data_dir)
    catalog = load_catalog(None)
    plant = next(iter(catalog))
    store = open_store(settings)
    now_ms = round(time.time() * 1000)
    print("seeding a day of plant history …", flush=True)
    backfill_history(store, catalog, plant, seed=3, start_ms=now_ms - 2 * 86_400_000, end_ms=now_ms - 86_400_000, now_ms=now_ms)
    store.close()
    db = open_database(settings)
    key = KeyStore(db).issue("fuzz", Role.ADMIN, "fuzz", now_ms).secret_key
    db.close()
    api = subprocess.Popen([sys.executable, "-m", "launch.cli", "api"], env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or api.poll() is not None:
                print("the API did not start", file=sys.stderr)
                return 2
            time.sleep(0.2)
        command = [
            "schemathesis", "run", f"http://127.0.0.1:{port}/openapi.json",
            "-H", f"Authorization: Bearer {key}", "--checks", "all", "--exclude-checks", EXCLUDED,
            "--max-time", str(int(args.minutes * 60)), "--workers", str(args.workers), "--continue-on-failure",
        ]
        print("running:", " ".join(command).replace(key, "<admin key>"), flush=True)
        return subprocess.run(command).returncode
    finally:
        api.terminate()
        api.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
