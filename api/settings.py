"""The API's settings (`WASTEWATCH_API_*`) and the scheduled reports' (`WASTEWATCH_REPORTS_*`); the
store, relational database and SMTP server are shared (`wastewatch.settings`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import CommaList, Section


class ApiSettings(Section):
    """`wastewatch api`: where it listens, CORS, answer and body caps, authentication throttling, the summary cache."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_API_")

    host: str = Field(default="127.0.0.1", description="address the API listens on")
    port: int = Field(default=8000, ge=1, le=65_535, description="port the API listens on")
    cors_origins: CommaList = Field(default=[], description="browser origins allowed to call the API (comma-separated); empty: CORS closed")
    max_points: int = Field(default=10_000, ge=10, le=1_000_000, description="most points or rows one API answer returns")
    auth_failures_burst: int = Field(default=10, ge=1, description="failed authentications a client may make at once")
    auth_failures_per_min: float = Field(default=6.0, gt=0, description="failed authentications a client regains per minute")
    summary_cache_s: float = Field(
        default=60.0, ge=0, description="how long a computed tonnage/uptime/compliance summary is reused; 0 turns it off"
    )
    console_idle_s: float = Field(default=1800.0, gt=0, description="a console session ends after this long without use")
    console_absolute_s: float = Field(default=43_200.0, gt=0, description="a console session ends this long after logging in, used or not")
    console_login_burst: int = Field(default=5, ge=1, description="failed console logins one account may have at once (an address: 4 times as many)")
    console_login_per_min: float = Field(default=1.0, gt=0, description="failed console logins an account regains per minute (an address: 4 times as many)")
    public_plants: CommaList = Field(
        default=[], description="plants whose public transparency page /public/plants/{plant} is served (comma-separated ids); empty: none (404)"
    )
    public_frame_ancestors: str = Field(
        default="'none'", pattern=r"^[A-Za-z0-9 '*:/._-]{1,400}$",
        description="CSP frame-ancestors of the public pages (e.g. 'self' https://kotimkab.go.id); the console keeps 'none'",
    )
    public_cache_s: float = Field(default=60.0, ge=0, le=3600, description="how long a public page is reused (in process, and Cache-Control max-age)")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, le=64 * 1024 * 1024,
        description="largest request body the API reads (declared or streamed); larger is a 413 before it is parsed",
    )


class ReportSettings(Section):
    """`wastewatch report --schedule`: when, to whom, in which language and format; the SMTP server is
    WASTEWATCH_ALERTS_SMTP_*."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_REPORTS_")

    smtp_to: CommaList = Field(default=[], description="recipients of the scheduled report e-mail (comma-separated)")
    smtp_from: str | None = Field(default=None, description="sender of report e-mails; unset: WASTEWATCH_ALERTS_SMTP_FROM")
    cron: str = Field(default="0 7 1 * *", description="when the monthly report is e-mailed: crontab fields on plant time")
    language: Literal["id", "en"] = Field(default="id", description="language of the e-mailed report")
    format: Literal["pdf", "html", "csv", "json"] = Field(default="pdf", description="format of the attached report")
