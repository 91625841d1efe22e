"""Uptime: operating hours by effective operating state, plant availability, CEMS data availability
by the Indonesian rules (valid hours, 18-hour days, 75 % of days per quarter) and the EU rules
(V4/V5 discarded half-hours and days), and downtime incidents with their cause."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerts.queries import AlertRows, open_rows
from api.summaries.counts import (
    DAY,
    DAYS,
    DAYS_DISCARDED,
    DAYS_OPERATING,
    DAYS_VALID,
    DAYS_VALID_CODE,
    N_DISCARDED,
    N_VALID,
    quarters,
    total,
    totals,
)
from api.summaries.profiles import plant_profiles
from api.summaries.stored_counts import compliance_counts
from compliance.input_reader import read_state_changes
from wastewatch.compliance.kpis import AVAILABLE, HOUR_MS, operating_hours, state_hours
from wastewatch.compliance.pipeline import day_period
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.timeline import STATE_LOOKBACK_DAYS, OperatingTimeline
from wastewatch.compliance.validity import QuarterAvailability, availability_by_quarter
from wastewatch.operating_state import OperatingState
from wastewatch.plant import PlantConfig
from wastewatch.points import Store


@dataclass(frozen=True, slots=True)
class QuarterDataAvailability:
    """Indonesian rule for one pollutant and quarter: valid days ÷ operating days ≥ min_share, judged
    by `wastewatch.compliance.validity` (the one place of the rule) on the stored day counts."""

    pollutant: str
    availability: QuarterAvailability

    @property
    def quarter(self) -> str:
        """`2026-Q4`."""
        return f"{self.availability.year}-Q{self.availability.quarter}"

    @property
    def valid_days(self) -> int:
        return self.availability.valid_days

    @property
    def operating_days(self) -> int:
        return self.availability.operating_days

    @property
    def min_share(self) -> float:
        return self.availability.min_share

    @property
    def share(self) -> float | None:
        return self.availability.share

    @property
    def ok(self) -> bool:
        return self.availability.ok


@dataclass(frozen=True, slots=True)
class PollutantDataAvailability:
    """One CEMS pollutant: hours (Indonesian hourly basis) and the EU V4/V5 counts."""

    pollutant: str
    valid_hours: int
    discarded_hours: int
    valid_days: int
    operating_days: int
    eu_discarded_half_hours: int
    eu_discarded_days: int
    eu_max_discarded_days: int
    quarters: tuple[QuarterDataAvailability, ...]

    @property
    def share(self) -> float | None:
        """Valid hours ÷ operating hours with a verdict (valid + discarded)."""
        total = self.valid_hours + self.discarded_hours
        return self.valid_hours / total if total else None

    @property
    def v5_ok(self) -> bool:
        return self.eu_discarded_days <= self.eu_max_discarded_days


@dataclass(frozen=True, slots=True)
class DowntimeIncident:
    """An interval out of operation; `cause` is `alert:<rule_id>`, `scheduled` or `unknown`."""

    start_ms: int
    end_ms: int
    state: str
    cause: str
    alert_id: int | None = None
    alert_title: str | None = None

    @property
    def hours(self) -> float:
        return (self.end_ms - self.start_ms) / 3_600_000


@dataclass(frozen=True, slots=True)
class Uptime:
    plant: str
    start_ms: int
    end_ms: int
    period_h: float
    operating_h: float
    available_h: float
    state_h: dict[str, float]
    data_availability: tuple[PollutantDataAvailability, ...]
    downtime: tuple[DowntimeIncident, ...]

    @property
    def plant_availability(self) -> float | None:
        """Share of the period ready to burn or burning (READY, BURNING, BURNOUT), as compliance.kpis."""
        return self.available_h / self.period_h if self.period_h else None

    @property
    def data_availability_share(self) -> float | None:
        """All pollutants together: valid hours ÷ hours with a verdict."""
        valid = sum(p.valid_hours for p in self.data_availability)
        total = valid + sum(p.discarded_hours for p in self.data_availability)
        return valid / total if total else None


DAY_MS = 86_400_000
SCHEDULED = "scheduled"
UNKNOWN = "unknown"
CAUSE_SEVERITIES: tuple[str, ...] = ("critical", "major")
"""Alerts open when the plant left operation that are named as the cause, most severe first."""


def uptime(
    store: Store,
    plant: PlantConfig,
    start_ms: int,
    end_ms: int,
    *,
    alert_db: AlertRows | None = None,
    profiles: Mapping[str, Profile] | None = None,
) -> Uptime:
    """Uptime over [start_ms, end_ms) from the stored plant states and daily records; downtime causes
    come from `alert_db` when given."""
    timeline = states_timeline(store, plant.id, start_ms, end_ms)
    return Uptime(
        plant.id, start_ms, end_ms, (end_ms - start_ms) / HOUR_MS, operating_hours(timeline, start_ms, end_ms),
        timeline.effective_ms(start_ms, end_ms, AVAILABLE) / HOUR_MS, state_hours(timeline, start_ms, end_ms),
        data_availability(store, plant, start_ms, end_ms, profiles),
        downtime_incidents(timeline, start_ms, end_ms, alert_db, plant.id),
    )


def states_timeline(store: Store, plant_id: str, start_ms: int, end_ms: int) -> OperatingTimeline:
    """The timeline `compliance.input_reader.read_timeline` gives, in fewer queries: the range and the day
    before it in one, and only when the plant did not change state that day, further back."""
    changes = read_state_changes(store, plant_id, start_ms - DAY_MS, end_ms)
    before = [c for c in changes if c[0] < start_ms]
    changes = [c for c in changes if c[0] >= start_ms]
    searched = DAY_MS
    for days in STATE_LOOKBACK_DAYS:
        if before or days * DAY_MS <= searched:
            continue
        before = read_state_changes(store, plant_id, start_ms - days * DAY_MS, start_ms - searched)
        searched = days * DAY_MS
    return OperatingTimeline(tuple(before[-1:] + changes))


def data_availability(
    store: Store, plant: PlantConfig, start_ms: int, end_ms: int, profiles: Mapping[str, Profile] | None = None
) -> tuple[PollutantDataAvailability, ...]:
    """Per pollutant, from the stored days (counted by the daily rollup where it covers the range): the
    Indonesian profile's hourly-basis days (valid hours, 18-hour days, quarters) and the EU
    half-hour-basis days (V4 discarded half-hours, V5 discarded days)."""
    selected = plant_profiles(plant, profiles)
    indonesian = next((p for p in selected if p.data_availability is not None), None)
    eu = next((p for p in selected if p.kind == "emission_limits" and day_period(p) == "30min"), None)
    counts = compliance_counts(store, plant, selected, start_ms, end_ms, averages=False) if indonesian or eu else {}
    min_share = indonesian.data_availability.min_valid_day_share if indonesian and indonesian.data_availability else 0.75
    max_days = eu.averaging.max_discarded_days_per_year if eu else 10
    id_id, eu_id = indonesian.id if indonesian else None, eu.id if eu else None
    sums = totals(counts)
    judged = {(k[0], k[1]) for k, v in sums.items() if k[2] == DAY and v.get(DAYS)}
    result: list[PollutantDataAvailability] = []
    for pollutant in sorted({pol for prof, pol in judged if prof in (id_id, eu_id)}):
        def day_total(profile_id: str | None, name: str) -> int:
            return total(sums, profile_id, pollutant, DAY, name) if profile_id else 0

        result.append(PollutantDataAvailability(
            pollutant, day_total(id_id, N_VALID), day_total(id_id, N_DISCARDED), day_total(id_id, DAYS_VALID),
            day_total(id_id, DAYS_OPERATING), day_total(eu_id, N_DISCARDED), day_total(eu_id, DAYS_DISCARDED), max_days,
            tuple(QuarterDataAvailability(pollutant, q) for q in availability_by_quarter(
                {key: (v.get(DAYS_VALID_CODE, 0), v.get(DAYS_OPERATING, 0))
                 for key, v in (quarters(counts, id_id, pollutant) if id_id else {}).items()},
                min_share,
            )),
        ))
    return tuple(result)


def downtime_incidents(
    timeline: OperatingTimeline, start_ms: int, end_ms: int, alert_db: AlertRows | None, plant_id: str
) -> tuple[DowntimeIncident, ...]:
    """Maximal intervals in which the plant was neither ready nor burning, clipped to the range.

    Cause: a critical or major alert open when the interval began; else `scheduled` when the plant
    came from BURNOUT or READY (an orderly stop: the waste was burnt out first); else `unknown`.
    """
    incidents: list[DowntimeIncident] = []
    spans = _down_spans(timeline, start_ms, end_ms)
    alerts = _cause_alerts(alert_db, plant_id, start_ms, end_ms) if alert_db is not None and spans else []
    for span_start, span_end, state, before in spans:
        open_alerts = [a for a in alerts if a[1] <= span_start and (a[2] is None or a[2] > span_start)]
        if open_alerts:
            alert_id, _, _, rule_id, title, _ = min(open_alerts, key=lambda a: (a[5], a[1]))
            incidents.append(DowntimeIncident(span_start, span_end, state, f"alert:{rule_id}", alert_id, title))
        else:
            orderly = before in (OperatingState.BURNOUT, OperatingState.READY)
            incidents.append(DowntimeIncident(span_start, span_end, state, SCHEDULED if orderly else UNKNOWN))
    return tuple(incidents)


def _down_spans(
    timeline: OperatingTimeline, start_ms: int, end_ms: int
) -> list[tuple[int, int, str, OperatingState | None]]:
    """(start, end, first state, state before) of each run of non-available states."""
    spans: list[tuple[int, int, str, OperatingState | None]] = []
    cuts = [start_ms] + [t for t, _ in timeline.changes if start_ms < t < end_ms]
    run: tuple[int, str, OperatingState | None] | None = None
    previous = timeline.state_at(start_ms - 1)
    for begin in cuts:
        state = timeline.state_at(begin)
        if state in AVAILABLE and run is not None:
            spans.append((run[0], begin, run[1], run[2]))
            run = None
        elif state not in AVAILABLE and run is None:
            run = (begin, state.value if state else UNKNOWN, previous)
        previous = state
    if run is not None:
        spans.append((run[0], end_ms, run[1], run[2]))
    return spans


def _cause_alerts(db: AlertRows, plant_id: str, start_ms: int, end_ms: int) -> list[tuple[int, int, int | None, str, str, int]]:
    """(id, raised, cleared, rule, title, severity rank) of critical and major alerts open at some time in the range."""
    rows = open_rows(db, plant_id, CAUSE_SEVERITIES, start_ms, end_ms)
    return [
        (int(r["id"]), int(r["raised_at_ms"]), None if r["cleared_at_ms"] is None else int(r["cleared_at_ms"]),
         str(r["rule_id"]), str(r["title"] or r["rule_id"]), CAUSE_SEVERITIES.index(str(r["severity"])))
        for r in rows
    ]
