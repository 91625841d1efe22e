"""A calendar year's stored results read from the store and judged (`wastewatch.compliance.year`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from compliance.event_store import read_abnormal_events
from compliance.result_store import read_averages, read_days
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.compliance.year import YearReport, judge_year
from wastewatch.plant import PlantConfig
from wastewatch.points import Store


def read_year(store: Store, plant: PlantConfig, profiles: Sequence[Profile], year: int, now_ms: int) -> list[YearReport]:
    """Every emission profile's year from the stored days and the 10-min and half-hour averages."""
    start_ms = day_bounds_ms(date(year, 1, 1), plant.zone)[0]
    end_ms = day_bounds_ms(date(year, 12, 31), plant.zone)[1]
    reports: list[YearReport] = []
    for profile in profiles:
        if profile.kind != "emission_limits":
            continue
        days = read_days(store, plant.id, plant.zone, start_ms, end_ms, profile=profile.id).values()
        averages = [
            r for period in ("10min", "30min")
            for r in read_averages(store, plant.id, start_ms, end_ms, profile=profile.id, period=period).values()
        ]
        halves = [r for r in averages if r.period == "30min"]
        events = read_abnormal_events(store, plant, profile, halves, now_ms=now_ms) if profile.abnormal_operation else None
        reports.append(judge_year(profile, plant.id, year, days, averages, plant.zone, now_ms, events=events))
    return reports
