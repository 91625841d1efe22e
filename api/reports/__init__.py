"""Monthly, quarterly and annual plant reports built once from the summaries, rendered as JSON, CSV,
printable HTML (inline SVG charts) or PDF, in Bahasa Indonesia or English, and e-mailed on a schedule."""

from api.reports.report import PlantReport, build_report
from api.reports.messages import Language
from api.reports.render import FORMATS, Format, ReportFormatError, render_report

__all__ = ["FORMATS", "Format", "Language", "PlantReport", "ReportFormatError", "build_report", "render_report"]
