"""Plant summaries served from stored data (batches, plant states, stored averages, the alert
database): tonnage, uptime and data availability, compliance, alert response."""

from api.summaries.alert_response import AlertResponse, AlertResponseItem, alert_response
from api.summaries.compliance import (
    ComplianceSummary,
    LimitExceedances,
    PollutantCompliance,
    ProfileUsed,
    compliance_summary,
)
from api.summaries.periods import Period, PeriodError, month_period, parse_period, quarter_period, year_period
from api.summaries.tonnage import Grouping, Tonnage, TonnageBucket, TonnageShare, tonnage
from api.summaries.uptime import (
    DowntimeIncident,
    PollutantDataAvailability,
    QuarterDataAvailability,
    Uptime,
    uptime,
)

__all__ = [
    "AlertResponse", "AlertResponseItem", "ComplianceSummary", "DowntimeIncident", "Grouping", "LimitExceedances",
    "Period", "PeriodError", "PollutantCompliance", "PollutantDataAvailability", "ProfileUsed",
    "QuarterDataAvailability", "Tonnage", "TonnageBucket", "TonnageShare", "Uptime", "alert_response",
    "compliance_summary", "month_period", "parse_period", "quarter_period", "tonnage", "uptime", "year_period",
]
