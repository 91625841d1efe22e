"""The scheduled report e-mail arrives at a real SMTP server (aiosmtpd) with the PDF attached; the job
is triggered directly, the cron only decides when it would run."""

from __future__ import annotations

import email
import io
from email.message import EmailMessage
from pathlib import Path

from pypdf import PdfReader

from api.reports.mailer import ReportJob, start_report_scheduler
from api.settings import ReportSettings
from tests.alert_receivers import SmtpServer
from tests.test_summaries import ms
from wastewatch.plant import PlantCatalog
from wastewatch.records import Batch
from wastewatch.settings import Settings, SmtpSettings
from wastewatch.store.influx import InfluxStore


def test_monthly_report_email_arrives_with_the_pdf(influx_store: InfluxStore, catalog: PlantCatalog, tmp_path: Path) -> None:
    plant = catalog.get("kotim")
    assert plant is not None
    influx_store.write([
        Batch("kotim", "b1", ms(2026, 11, 3, 9), 1500.125, "rsud-murjani", "A337-1").to_point(),
        Batch("kotim", "b2", ms(2026, 11, 30, 23, 30), 250.875, "puskesmas-baamang").to_point(),
        Batch("kotim", "b3", ms(2026, 12, 1, 6, 0), 999.0, "rsud-murjani").to_point(),  # December: not in the report
    ])
    smtp = SmtpServer().start()
    try:
        settings = Settings(data_dir=tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False))
        reports = ReportSettings(
            smtp_to="dlh@kotim.example, operator@plant.example", smtp_from="reports@plant.example", language="en",  # type: ignore[arg-type]
        )
        # 1 December 2026, 07:00 plant time: the cron's moment; the job reports November
        job = ReportJob(settings, reports, influx_store, clock_ms=lambda: ms(2026, 12, 1, 7))
        job.run(plant)
        assert len(smtp.messages) == 1  # smtplib returns only after the server accepted the message
        sender, recipients, raw = smtp.messages[0]
    finally:
        smtp.stop()
    assert sender == "reports@plant.example"
    assert sorted(recipients) == ["dlh@kotim.example", "operator@plant.example"]
    msg = email.message_from_bytes(raw, _class=EmailMessage)  # type: ignore[call-arg]
    assert "2026-11" in str(msg["Subject"])
    (attachment,) = [part for part in msg.iter_attachments()]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "wastewatch-kotim-2026-11-en.pdf"
    pdf = PdfReader(io.BytesIO(attachment.get_payload(decode=True)))
    content = " ".join(page.extract_text() for page in pdf.pages)
    # 1500.125 + 250.875 = 1751.000 kg = 1.751 t
    assert f"{(1500125 + 250875) / 1_000_000:.3f} t" == "1.751 t"
    assert "1.751 t" in content


def test_the_scheduler_registers_each_plant_on_its_own_clock(influx_store: InfluxStore, catalog: PlantCatalog, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp=SmtpSettings(host="127.0.0.1"))
    reports = ReportSettings(smtp_to="a@example.org", cron="0 7 1 * *")  # type: ignore[arg-type]
    scheduler = start_report_scheduler(settings, reports, influx_store, catalog)
    try:
        (job,) = scheduler.get_jobs()
        assert job.id == "report-kotim"
        assert str(job.trigger.timezone) == "Asia/Jakarta"
        # next run: 07:00 on the 1st of a month, plant time
        assert (job.next_run_time.day, job.next_run_time.hour, job.next_run_time.minute) == (1, 7, 0)
    finally:
        scheduler.shutdown()
