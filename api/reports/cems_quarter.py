"""The quarterly CEMS report (`laporan triwulan CEMS`), as plants filed it before SISPEK: per CEMS
parameter, the hourly and daily averages with their status codes, the data availability, the valid
days against the 75 % rule and the exceedances; in Bahasa Indonesia, as XLSX (the agency's working
copy) and PDF (the signed filing), from the stored compliance results only (`emission_avg` and
`emission_day` of the plant's data-availability profile, the counts the other reports use).

Nothing is filled in: an hour with no stored average is a row with no value and the code `tidak ada
data` (no data), never a zero. The status codes are the pipeline's quality codes, named in
Indonesian (`CODES`); whether the agency expects other codes is not known [A].
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from api.summaries.compliance import ComplianceSummary, compliance_summary
from api.summaries.periods import Period
from api.summaries.profiles import plant_profiles
from api.summaries.uptime import PollutantDataAvailability, data_availability
from wastewatch.compliance.pipeline import Channels
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY, AverageRecord, DayRecord
from wastewatch.errors import InvalidRequest
from wastewatch.plant import PlantConfig
from wastewatch.points import Store

NO_DATA = "no_data"
CODES: dict[str, str] = {
    QualityCode.VALID.value: "Valid",
    QualityCode.MAINTENANCE.value: "Pemeliharaan/kalibrasi",
    QualityCode.MALFUNCTION.value: "Gangguan alat",
    QualityCode.STARTUP_SHUTDOWN.value: "Start-up/shut-down",
    QualityCode.NO_WASTE.value: "Tidak beroperasi (tanpa limbah)",
    QualityCode.ABNORMAL_OPERATION.value: "Operasi abnormal",
    QualityCode.INSUFFICIENT_DATA.value: "Data tidak cukup",
    NO_DATA: "Tidak ada data",
}
"""Every status code the report prints, in Bahasa Indonesia (the legend lists them all)."""


class CemsQuarterError(InvalidRequest):
    """The quarterly CEMS report cannot be made for this period or plant (a 4xx with the reason)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One parameter's average in one hour or day: its value (None when there is none) and status code."""

    value: float | None
    code: str


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    cells: dict[str, Cell]
    valid_hours: dict[str, int]


@dataclass(frozen=True, slots=True)
class CemsQuarter:
    plant: PlantConfig
    period: Period
    profile: Profile
    parameters: tuple[str, ...]
    units: dict[str, str]
    hours: tuple[tuple[int, dict[str, Cell]], ...]
    """Every hour of the quarter (local), each parameter's average and code."""
    days: tuple[DayRow, ...]
    availability: tuple[PollutantDataAvailability, ...]
    compliance: ComplianceSummary
    generated_at_ms: int

    @property
    def min_valid_hours(self) -> int:
        rules = self.profile.data_availability
        return rules.min_valid_hours_per_day if rules is not None else 18

    @property
    def min_valid_day_share(self) -> float:
        rules = self.profile.data_availability
        return rules.min_valid_day_share if rules is not None else 0.75

    def local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.plant.zone)


def _profile(plant: PlantConfig) -> Profile:
    found = next((p for p in plant_profiles(plant) if p.data_availability is not None), None)
    if found is None:
        raise CemsQuarterError(f"plant {plant.id} has no CEMS data-availability profile (compliance_profiles in its plant file)")
    return found


def build_cems_quarter(store: Store, plant: PlantConfig, period: Period, *, now_ms: int) -> CemsQuarter:
    """The quarter's report from the stored results; `period` must be a quarter (`2026-Q4`)."""
    if period.kind != "quarter":
        raise CemsQuarterError(f"the CEMS report is quarterly: ask for a quarter such as 2026-Q4, not {period.label}")
    profile = _profile(plant)
    rules = profile.data_availability
    assert rules is not None
    channels = Channels.of(plant).concentrations
    parameters = tuple(sorted(channels))
    where = {"plant": plant.id, "profile": profile.id, "period": rules.average_period}
    averages: dict[int, dict[str, Cell]] = defaultdict(dict)
    for point in store.select(EMISSION_AVG, where=where, start_ms=period.start_ms, end_ms=period.end_ms):
        record = AverageRecord.from_point(point)
        if record.pollutant in channels:
            averages[record.start_ms][record.pollutant] = Cell(record.value, record.quality.value)
    step_ms = 3_600_000 if rules.average_period == "1h" else 1_800_000
    empty = Cell(None, NO_DATA)
    hours = tuple(
        (start, {p: averages.get(start, {}).get(p, empty) for p in parameters})
        for start in range(period.start_ms, period.end_ms, step_ms)
    )
    by_day: dict[date, tuple[dict[str, Cell], dict[str, int]]] = {}
    day_where = {"plant": plant.id, "profile": profile.id}
    for point in store.select(EMISSION_DAY, where=day_where, start_ms=period.start_ms, end_ms=period.end_ms):
        stored = DayRecord.from_point(point, plant.zone)
        if stored.pollutant not in channels:
            continue
        cells, valid_hours = by_day.setdefault(stored.day, ({}, {}))
        cells[stored.pollutant] = Cell(stored.value, stored.quality.value)
        valid_hours[stored.pollutant] = stored.n_valid
    days = []
    for offset in range(period.days):
        day = date.fromordinal(period.first.toordinal() + offset)
        cells, valid_hours = by_day.get(day, ({}, {}))
        days.append(DayRow(day, {p: cells.get(p, empty) for p in parameters}, {p: valid_hours.get(p, 0) for p in parameters}))
    return CemsQuarter(
        plant, period, profile, parameters, {p: channels[p].unit for p in parameters}, hours, tuple(days),
        data_availability(store, plant, period.start_ms, period.end_ms), compliance_summary(store, plant, period.start_ms, period.end_ms),
        now_ms,
    )
