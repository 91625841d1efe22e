"""What the demo prints: the banner (where everything is, the key and the console login) and the
status line (rewritten in place on a terminal, a plain line every few seconds otherwise)."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime, tzinfo
from typing import TextIO

from ingest.worker import IngestCounts, IngestWorker
from launch.demo_parts import Running, SimulatorComponent
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.settings import Settings
from wastewatch.store.sqlite import SqliteStore

STATUS_EVERY_S = 1.0
PLAIN_STATUS_EVERY_S = 5.0


def _describe_broker(settings: Settings, embedded: bool) -> str:
    broker = settings.mqtt.address
    assert broker is not None
    scheme = "mqtts" if broker.tls else "mqtt"  # the URL without its credentials
    kind = "embedded amqtt" if embedded else "external"
    return f"{scheme}://{broker.host}:{broker.port} ({kind}, MQTT {settings.mqtt.protocol})"


def _describe_store(store: Store, settings: Settings) -> str:
    if isinstance(store, SqliteStore):
        return f"SQLite {store.path.resolve()}"
    return f"InfluxDB {settings.influx.url} database {settings.influx.database}"


def _status_line(sim: SimulatorComponent, counts: IngestCounts, zone: tzinfo) -> str:
    clock = "-"
    if sim.sim_ms is not None:
        clock = datetime.fromtimestamp(sim.sim_ms / 1000, zone).strftime("%m-%d %H:%M")
    return (
        f"received {counts.received} | written {counts.written} | dead-lettered {counts.dead_lettered} | "
        f"spool batches {counts.spool_batches} | plant {clock} {sim.mode} | published {sim.published}"
    )


def report_until_stopped(
    stop: threading.Event, sim: SimulatorComponent, ingest: IngestWorker, zone: tzinfo, out: TextIO
) -> None:
    """A status line every second, rewritten in place on a terminal; a plain line every 5 s otherwise."""
    tty = out.isatty()
    every_ticks = 1 if tty else round(PLAIN_STATUS_EVERY_S / STATUS_EVERY_S)
    ticks = width = 0
    while not stop.wait(STATUS_EVERY_S) and not sim.failed.is_set():
        ticks += 1
        if ticks % every_ticks:
            continue
        line = _status_line(sim, ingest.counts(), zone)
        if tty:
            # A line longer than the terminal wraps, and `\r` would then only rewrite its last part.
            line = line[: shutil.get_terminal_size().columns - 1]
            out.write("\r" + line.ljust(width))
            width = len(line)
        else:
            out.write(line + "\n")
        out.flush()
    if tty and width:
        out.write("\n")


def local_time(ms: int, zone: tzinfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return datetime.fromtimestamp(ms / 1000, zone).strftime(fmt)


def print_banner(running: Running, plant: PlantConfig, *, embedded: bool, seed: int, out: TextIO) -> None:
    settings, api, zone = running.settings, running.api, plant.zone
    data_dir = settings.data_dir.resolve()
    print(f"MQTT broker:  {_describe_broker(settings, embedded)}", file=out)
    print(f"store:        {_describe_store(running.store, settings)}", file=out)
    print(f"plant:        {plant.id} ({plant.name}), time zone {plant.timezone}, now {local_time(round(time.time() * 1000), zone)}", file=out)
    plan = running.plan
    history = "the store's, carried on" if plan.resumed else f"from {local_time(plan.start_ms, zone, '%Y-%m-%d %H:%M')}"
    schedule = "continuous operation" if running.schedule == "continuous" else "a daily shift, cold overnight"
    print(f"history:      {history}; live from {local_time(plan.end_ms, zone)} in real time, seed {seed}, {schedule} (--schedule)", file=out)
    for fault in running.faults:
        after_s = (fault.start_ms - plan.end_ms) / 1000
        print(f"fault:        {fault.name} at {local_time(fault.start_ms, zone, '%H:%M:%S')} ({after_s:+g} s from the start) for {fault.duration_s:g} s "
              "(alerts print below as they open and clear; --fault to choose, wastewatch simulate --list-faults)", file=out)
    print(f"alerts:       printed below, in the console's inbox, and on MQTT plants/{plant.id}/alerts/# "
          f"(routes {running.alert_routes}; WASTEWATCH_ALERTS_ROUTES to change)", file=out)
    print(f"data dir:     {data_dir}", file=out)
    print(f"dead letters: {data_dir / 'deadletters.sqlite3'} (list them: wastewatch deadletters)", file=out)
    print(f"open:         {api.url}/docs  (the API, OpenAPI pages; {api.url}/ready says what is up)", file=out)
    print(f"console:      {api.console_url}  login {api.console_user} / {api.console_password}  (an operator's, this run's own;"
          " the alert inbox, acknowledge and comment)", file=out)
    print(f"demo key:     {api.key}  (admin, this run's own; revoked when it stops)", file=out)
    print(f'  try:        curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/sensors"', file=out)
    print(f'              curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/tonnage?start=-7d&by=day"', file=out)
    month = local_time(running.plan.start_ms, zone, "%Y-%m")
    print(f'  report:     curl -H "Authorization: Bearer {api.key}" "{api.url}/api/v1/plants/{plant.id}/reports/{month}?format=pdf&lang=en" -o report.pdf', file=out)
    print("running; Ctrl-C stops", file=out, flush=True)


