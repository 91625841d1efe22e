"""Monthly, quarterly and annual plant reports built once from the summaries, rendered as JSON, CSV,
printable HTML (inline SVG charts) or PDF, in Bahasa Indonesia or English, and e-mailed on a schedule.

The names below load on first use: rendering pulls in matplotlib and fpdf2 (tens of MB), which the
`wastewatch` command line, and every worker it starts, must not pay for just by listing `report`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.reports.messages import Language
    from api.reports.render import FORMATS, Format, ReportFormatError, render_report
    from api.reports.report import PlantReport, build_report

_HOMES = {
    "PlantReport": "api.reports.report", "build_report": "api.reports.report", "Language": "api.reports.messages",
    "FORMATS": "api.reports.render", "Format": "api.reports.render", "ReportFormatError": "api.reports.render",
    "render_report": "api.reports.render",
}

__all__ = ["FORMATS", "Format", "Language", "PlantReport", "ReportFormatError", "build_report", "render_report"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
