"""The compliance jobs on the clock: per plant, the half-hour job at local :00 and :30, the
abnormal-operation clock every minute in between, and the day job shortly after local midnight, on
APScheduler cron triggers in the plant's time zone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from compliance.jobs import ComplianceJobs, JobReport
from wastewatch.compliance.profiles import ProfileError
from wastewatch.compliance.regulatory import Finding
from wastewatch.compliance.windows import window_start_ms
from wastewatch.plant import PlantConfig
from wastewatch.points import StoreError

logger = logging.getLogger(__name__)

FindingsSink = Callable[[Sequence[Finding]], object]
"""Where a job's regulatory findings go: `alerts.regulatory.RegulatoryAlerts.apply`."""


class ComplianceService:
    """Schedules `ComplianceJobs` for every plant. `settle_s` waits for the last readings of a window
    to be written; the day job (`day_at_min` past midnight) recomputes yesterday, late data included.
    After each job its regulatory findings go to `on_findings` (the regulatory alerts)."""

    def __init__(
        self, jobs: ComplianceJobs, plants: Iterable[PlantConfig], *, settle_s: int = 30, day_at_min: int = 15,
        on_findings: FindingsSink | None = None,
    ) -> None:
        self.jobs = jobs
        self.on_findings = on_findings
        self.plants = list(plants)
        self.settle_s = settle_s
        self.day_at_min = day_at_min
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        for plant in self.plants:
            self.jobs.series(plant)  # an unknown profile id stops the start, not the first job
        scheduler = BackgroundScheduler(daemon=True)
        for plant in self.plants:
            scheduler.add_job(
                self.half_hour, CronTrigger(minute="0,30", second=self.settle_s, timezone=plant.zone), args=[plant],
                id=f"compliance-half-hour-{plant.id}", coalesce=True, max_instances=1, misfire_grace_time=600,
            )
            # Every other minute: the half-hour job judges the clock itself at :00 and :30, and two
            # jobs applying the same finding at once would race in the alert database.
            scheduler.add_job(
                self.clock, CronTrigger(minute="1-29,31-59", second=self.settle_s, timezone=plant.zone), args=[plant],
                id=f"compliance-clock-{plant.id}", coalesce=True, max_instances=1, misfire_grace_time=60,
            )
            scheduler.add_job(
                self.day, CronTrigger(hour=0, minute=self.day_at_min, timezone=plant.zone), args=[plant],
                id=f"compliance-day-{plant.id}", coalesce=True, max_instances=1, misfire_grace_time=3600,
            )
        scheduler.start()
        self._scheduler = scheduler
        logger.info("compliance service started plants=%s", ",".join(p.id for p in self.plants))

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._scheduler = None

    def half_hour(self, plant: PlantConfig) -> None:
        """The half-hour that has just closed on the plant's clock; a store failure waits for the day job."""
        window_end = window_start_ms(self.jobs.clock_ms(), "30min", plant.zone)
        try:
            self._report(self.jobs.run_half_hour(plant, window_end))
        except (StoreError, ProfileError) as exc:
            logger.error("compliance half-hour failed plant=%s window_end_ms=%d: %s", plant.id, window_end, exc)

    def clock(self, plant: PlantConfig) -> None:
        """The abnormal-operation clock now: the notice at 3 h and the cap at 4 h are raised within a
        minute (and the settle) of being reached, not at the next half-hour."""
        now = self.jobs.clock_ms()
        try:
            self._report(JobReport(findings=self.jobs.clock_findings(plant, now)))
        except (StoreError, ProfileError) as exc:
            logger.error("compliance clock failed plant=%s now_ms=%d: %s", plant.id, now, exc)

    def day(self, plant: PlantConfig) -> None:
        """Yesterday on the plant's calendar, every window recomputed and the day judged."""
        today = datetime.fromtimestamp(self.jobs.clock_ms() / 1000, tz=plant.zone).date()
        try:
            self._report(self.jobs.run_day(plant, today - timedelta(days=1)))
        except (StoreError, ProfileError) as exc:
            logger.error("compliance day failed plant=%s day=%s: %s", plant.id, today - timedelta(days=1), exc)

    def _report(self, report: JobReport) -> None:
        if self.on_findings is not None and report.findings:
            self.on_findings(report.findings)
