"""Render a built report in one format and language: `render_report(report, fmt, lang) -> (bytes, media type)`."""

from __future__ import annotations

from typing import Literal

from api.reports.report import PlantReport

Format = Literal["json", "csv", "html", "pdf"]
Language = Literal["id", "en"]
FORMATS: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def render_report(report: PlantReport, fmt: Format, lang: Language = "en") -> tuple[bytes, str]:
    """The report's bytes and HTTP media type."""
    raise NotImplementedError(fmt)
