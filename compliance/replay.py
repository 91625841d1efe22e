"""The compliance jobs driven by the data clock, for a replay of plant time faster than real time (the demo)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol, TextIO

from compliance.jobs import HALF_HOUR_MS, ComplianceJobs, DayHook, JobReport
from compliance.scheduler import FindingsSink
from wastewatch.compliance.profiles import ProfileError
from wastewatch.compliance.windows import window_start_ms
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Store, StoreError

logger = logging.getLogger(__name__)


class DataTime(Protocol):
    """A clock that follows the newest data time seen (the alert worker's `DataClock` is one)."""

    @property
    def started(self) -> bool: ...

    def __call__(self) -> float: ...

POLL_S = 0.2
SHOWN_POLLUTANTS = ("co", "dust")


class ComplianceComponent:
    """The compliance jobs on the data clock the alert worker keeps.

    `ComplianceService` fires on wall-clock cron, which does not line up with a replay at 60x; here a
    thread runs the half-hour job whenever the data clock passes a local :00 or :30 (plus the settle)
    and the day job at local midnight, and prints the CO and dust half-hours of the first profile that
    validates them. Windows before the first record are skipped: the replay has no data for them.
    """

    name = "compliance"

    def __init__(
        self, store: Store, plants: PlantCatalog, clock: DataTime, *, settle_s: float, out: TextIO,
        on_findings: FindingsSink | None = None, after_day: Sequence[DayHook] = (),
    ) -> None:
        self.jobs = ComplianceJobs(store, clock_ms=lambda: round(clock() * 1000), after_day=after_day)
        self.on_findings = on_findings
        self.plants: list[PlantConfig] = list(plants)
        self.clock, self.settle_ms, self.out = clock, round(settle_s * 1000), out
        self._next_ms: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for plant in self.plants:
            self.jobs.series(plant)  # an unknown profile id stops the start, not the first job
        # Each job logs a summary at INFO; the printed half-hour lines say it more readably.
        jobs_logger = logging.getLogger(ComplianceJobs.__module__)
        jobs_logger.setLevel(max(logging.WARNING, logging.getLogger().level))
        self._thread = threading.Thread(target=self._run, name="demo-compliance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            if not self.clock.started:
                continue
            due_ms = round(self.clock() * 1000) - self.settle_ms
            for plant in self.plants:
                self._catch_up(plant, due_ms)

    def _catch_up(self, plant: PlantConfig, due_ms: int) -> None:
        boundary = self._next_ms.get(plant.id) or _next_half_hour(due_ms, plant)
        while boundary <= due_ms and not self._stop.is_set():
            try:
                half_hour = self.jobs.run_half_hour(plant, boundary)
                self._print_half_hour(plant, boundary, half_hour)
                self._judged(half_hour)
                local = datetime.fromtimestamp(boundary / 1000, plant.zone)
                if (local.hour, local.minute) == (0, 0):
                    yesterday = (local - timedelta(days=1)).date()
                    day = self.jobs.run_day(plant, yesterday)
                    self._print_day(plant, yesterday, day)
                    self._judged(day)
            except (StoreError, ProfileError) as exc:  # the next boundary tries again; the demo goes on
                logger.error("compliance job failed plant=%s window_end_ms=%d: %s", plant.id, boundary, exc)
            boundary = _next_half_hour(boundary, plant)
        self._next_ms[plant.id] = boundary

    def _judged(self, report: JobReport) -> None:
        if self.on_findings is not None and report.findings:
            self.on_findings(report.findings)

    def _print_half_hour(self, plant: PlantConfig, end_ms: int, report: JobReport) -> None:
        shown = [a for a in report.averages if a.period == "30min" and a.pollutant in SHOWN_POLLUTANTS]
        profile = next((a.profile for a in shown), None)
        parts = [
            f"{a.pollutant} {_amount(a.value, plant, a.pollutant)} {a.quality.value}" for a in shown if a.profile == profile
        ]
        if parts:
            window = f"{_hhmm(end_ms - HALF_HOUR_MS, plant)}-{_hhmm(end_ms, plant)}"
            self._print(f"compliance {window} {'; '.join(parts)}")

    def _print_day(self, plant: PlantConfig, day: date, report: JobReport) -> None:
        shown = [d for d in report.days if d.pollutant in SHOWN_POLLUTANTS and d.basis == "30min"]
        profile = next((d.profile for d in shown), None)
        parts = [
            f"{d.pollutant} {_amount(d.value, plant, d.pollutant)} {'valid' if d.valid else d.quality.value} ({d.n_discarded} discarded)"
            for d in shown if d.profile == profile
        ]
        if parts:
            self._print(f"compliance day {day:%m-%d} {profile}: {'; '.join(parts)}")

    def _print(self, line: str) -> None:
        # On a terminal the status line is rewritten in place with \r: clear it so this line stands alone.
        prefix = "\r\x1b[2K" if self.out.isatty() else ""
        print(prefix + line, file=self.out, flush=True)


def _next_half_hour(time_ms: int, plant: PlantConfig) -> int:
    """The first local :00 or :30 after `time_ms`."""
    return window_start_ms(window_start_ms(time_ms, "30min", plant.zone) + HALF_HOUR_MS, "30min", plant.zone)


def _hhmm(time_ms: int, plant: PlantConfig) -> str:
    return datetime.fromtimestamp(time_ms / 1000, plant.zone).strftime("%H:%M")


def _amount(value: float | None, plant: PlantConfig, pollutant: str) -> str:
    sensor = plant.sensor(pollutant)
    unit = sensor.unit if sensor is not None else ""
    return "-" if value is None else f"{value:.{1 if abs(value) >= 10 else 2}f} {unit}".rstrip()
