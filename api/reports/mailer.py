"""E-mailed reports: last month's report of each plant, attached, to the configured recipients over the
alerts' SMTP server (STARTTLS and login as `WASTEWATCH_ALERTS_SMTP_*` say), on an APScheduler cron on
each plant's clock. `ReportJob.run` is the job; the scheduler only decides when it runs."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from api.reports.messages import Language, text
from api.reports.render import Format, render_report
from api.reports.report import PlantReport, build_report
from api.settings import ReportSettings
from api.summaries.alert_response import AlertRows
from api.summaries.periods import previous_month
from wastewatch.errors import WastewatchError
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Store
from wastewatch.settings import Settings

logger = logging.getLogger(__name__)

EXTENSIONS: dict[str, str] = {"pdf": "pdf", "html": "html", "csv": "csv", "json": "json"}


class ReportMailError(WastewatchError):
    """The report e-mail could not be sent (the message names the SMTP failure)."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    starttls: bool
    user: str | None
    password: str | None
    sender: str
    recipients: tuple[str, ...]
    timeout_s: float
    language: Language
    fmt: Format

    @classmethod
    def of(cls, settings: Settings, reports: ReportSettings) -> MailSettings:
        if not settings.smtp.host:
            raise ReportMailError("report e-mail needs an SMTP server (WASTEWATCH_ALERTS_SMTP_HOST)")
        recipients = tuple(reports.smtp_to)
        if not recipients:
            raise ReportMailError("report e-mail needs recipients (WASTEWATCH_REPORTS_SMTP_TO)")
        password = settings.smtp.password.get_secret_value() if settings.smtp.password else None
        return cls(settings.smtp.host, settings.smtp.port, settings.smtp.starttls,
                   settings.smtp.user, password, reports.smtp_from or settings.smtp.sender, recipients,
                   settings.smtp.timeout_s, reports.language, reports.format)


def report_message(report: PlantReport, mail: MailSettings) -> EmailMessage:
    """The e-mail: a short body in the report's language, the report attached."""
    body, media = render_report(report, mail.fmt, mail.language)
    kind = text(report.period.kind, mail.language)
    msg = EmailMessage()
    msg["Subject"] = f"{text('title', mail.language)} ({kind}) {report.plant.name} {report.period.label}"
    msg["From"] = mail.sender
    msg["To"] = ", ".join(mail.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<report-{report.plant.id}-{report.period.label}-{mail.language}@wastewatch>"
    msg.set_content(f"{text('title', mail.language)}: {report.plant.name}, {text('period', mail.language)} {report.period.label}.")
    maintype, subtype = media.split(";")[0].split("/")
    name = f"wastewatch-{report.plant.id}-{report.period.label}-{mail.language}.{EXTENSIONS[mail.fmt]}"
    msg.add_attachment(body, maintype=maintype, subtype=subtype, filename=name)
    return msg


def send_message(msg: EmailMessage, mail: MailSettings, tls_context: ssl.SSLContext | None = None) -> None:
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_s) as smtp:
            if mail.starttls:
                smtp.starttls(context=tls_context or ssl.create_default_context())
            if mail.user:
                smtp.login(mail.user, mail.password or "")
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise ReportMailError(f"report e-mail not sent via {mail.host}:{mail.port}: {exc.__class__.__name__}: {exc}") from exc


class ReportJob:
    """Build last month's report of a plant and e-mail it."""

    def __init__(
        self, settings: Settings, reports: ReportSettings, store: Store, *, alert_db: AlertRows | None = None,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.mail = MailSettings.of(settings, reports)
        self.store, self.alert_db, self.clock_ms = store, alert_db, clock_ms

    def run(self, plant: PlantConfig) -> EmailMessage:
        now = self.clock_ms()
        period = previous_month(datetime.fromtimestamp(now / 1000, tz=plant.zone).date(), plant.zone)
        report = build_report(self.store, plant, period, alert_db=self.alert_db, now_ms=now)
        msg = report_message(report, self.mail)
        send_message(msg, self.mail)
        logger.info("report sent plant=%s period=%s recipients=%d", plant.id, period.label, len(self.mail.recipients))
        return msg

    def run_safely(self, plant: PlantConfig) -> None:
        """The scheduled call: a failure is logged, and the scheduler runs the next one on time."""
        try:
            self.run(plant)
        except Exception:
            logger.exception("report not sent plant=%s", plant.id)


def start_report_scheduler(
    settings: Settings, reports: ReportSettings, store: Store, plants: PlantCatalog | Sequence[PlantConfig], *, alert_db: AlertRows | None = None,
) -> BackgroundScheduler:
    """A started background scheduler e-mailing each plant's monthly report at `WASTEWATCH_REPORTS_CRON`
    on the plant's own clock; the demo or `wastewatch report --schedule` calls this, then `shutdown()`."""
    job = ReportJob(settings, reports, store, alert_db=alert_db)
    scheduler = BackgroundScheduler()
    for plant in plants:
        scheduler.add_job(job.run_safely, CronTrigger.from_crontab(reports.cron, timezone=plant.zone),
                          args=[plant], id=f"report-{plant.id}", misfire_grace_time=3600, coalesce=True)
    scheduler.start()
    logger.info("report scheduler started cron=%r plants=%d", reports.cron, len(scheduler.get_jobs()))
    return scheduler
